package spawn

import (
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"syscall"
	"time"

	"github.com/nslab/nslab/pkg/ns"
)

// Config describes a child. The zero value of every field is a sensible default.
type Config struct {
	// New lists the kinds of namespace to create. pid_for_children and
	// time_for_children mean pid and time. Empty: the child shares all of
	// the caller's namespaces.
	New []ns.Kind

	// Args is the command and its arguments, as for exec.Command; Args[0] is
	// looked up in PATH. With Entrypoint set, Args are the entrypoint's arguments instead.
	Args []string

	// Entrypoint names a Go function registered with Register to run as the
	// child instead of an external command.
	Entrypoint string

	// Hostname and Domainname, when not empty, are set in the child's new UTS
	// namespace before anything runs. They need ns.UTS in New.
	Hostname, Domainname string

	// MapRoot maps the caller's UID and GID to 0 in the new user namespace.
	// UIDMap and GIDMap give other maps (user_namespaces(7)); they override MapRoot.
	// With none of these, a new user namespace is left without maps: its
	// processes see the overflow IDs (65534) until someone writes
	// /proc/PID/uid_map, as a caller may do between Start and Release.
	MapRoot        bool
	UIDMap, GIDMap []IDMap

	// NoAutoUser stops Start from adding a user namespace mapping the caller
	// to root when the caller is not root. Then creating namespaces needs
	// root, and fails with a clear error without it.
	NoAutoUser bool

	// MountProc mounts a fresh proc file system on /proc in the child, so that
	// /proc shows its own PID namespace. It implies a new mount namespace.
	MountProc bool

	// Join lists namespaces of other processes to enter (setns(2)) before the
	// child runs, by kind and PID. Only cgroup, ipc, net and uts
	// namespaces can be joined this way.
	Join map[ns.Kind]int

	// Stdin, Stdout and Stderr are the child's standard files; nil means
	// /dev/null, as for exec.Cmd.
	Stdin          io.Reader
	Stdout, Stderr io.Writer

	// Env is the child's environment; nil means the caller's.
	Env []string

	// Dir is the child's working directory; empty means the caller's.
	Dir string

	// CgroupDir, when not empty, is a cgroup v2 directory the child is
	// created in (clone3 with CLONE_INTO_CGROUP), so that it never runs in
	// the caller's cgroup, and a new cgroup namespace of its is rooted there.
	// The caller needs write access to its cgroup.procs.
	CgroupDir string

	// ExtraFiles are open files the child inherits: an Entrypoint finds them
	// as file descriptors 5, 6, … (3 and 4 belong to the shim), in order.
	// Nil means none. They need an Entrypoint.
	ExtraFiles []*os.File

	// Pdeathsig is sent to the child when the caller dies; 0 means SIGKILL,
	// so that a child never outlives its parent.
	Pdeathsig syscall.Signal

	// NoHold starts the child running at once, so that Release has nothing to
	// do. A child that then needs no setup of its own (no Entrypoint,
	// Hostname, Domainname, MountProc or Join) is executed directly, without
	// the shim: one Go start-up less (docs/performance.md). Run sets it.
	NoHold bool

	// StopSignal asks the child to stop on context cancel or Stop; 0 means SIGTERM.
	// StopDelay is how long to wait after it before SIGKILL; 0 means one second.
	StopSignal syscall.Signal
	StopDelay  time.Duration
}

// joinable are the kinds that a multi-threaded shim can enter before it runs
// the child. Mount, user and time namespaces need a single-threaded caller
// (setns(2) answers EINVAL, EINVAL and EUSERS), which a Go program never is.
var joinable = []ns.Kind{ns.Cgroup, ns.IPC, ns.Net, ns.UTS}

// kinds returns the distinct base kinds of New, in the order of ns.Kinds().
func (c Config) kinds() []ns.Kind {
	var out []ns.Kind
	for _, k := range ns.Kinds() {
		if k == k.Base() && slices.ContainsFunc(c.New, func(x ns.Kind) bool { return x.Base() == k }) {
			out = append(out, k)
		}
	}
	return out
}

// has reports whether New asks for kind k.
func (c Config) has(k ns.Kind) bool { return slices.Contains(c.kinds(), k) }

// validate checks what can be checked without the kernel.
func (c Config) validate() error {
	for _, k := range c.New {
		if k.CloneFlag() == 0 {
			return fmt.Errorf("spawn: unknown namespace kind %q", k)
		}
	}
	switch {
	case c.Entrypoint == "" && len(c.Args) == 0:
		return errors.New("spawn: no command: set Args or Entrypoint")
	case (c.Hostname != "" || c.Domainname != "") && !c.has(ns.UTS) && c.Join[ns.UTS] == 0:
		return errors.New("spawn: a hostname or domain name needs a new UTS namespace (add uts to New), or the host's would change")
	case len(c.ExtraFiles) > 0 && c.Entrypoint == "":
		return errors.New("spawn: ExtraFiles need an Entrypoint (an external command would find them at fds it does not expect)")
	case len(c.Hostname) > 64 || len(c.Domainname) > 64:
		return fmt.Errorf("spawn: hostname %q or domain name %q is longer than 64 bytes", c.Hostname, c.Domainname)
	}
	if c.Entrypoint != "" {
		if _, ok := lookup(c.Entrypoint); !ok {
			return fmt.Errorf("spawn: no entrypoint %q registered in this binary (registered: %v)", c.Entrypoint, Entrypoints())
		}
	}
	for k, pid := range c.Join {
		if !slices.Contains(joinable, k) {
			return fmt.Errorf("spawn: cannot join a %s namespace from Go (only %v): setns(2) of a %s namespace needs a single-threaded process; use nsenter(1) (see docs/troubleshooting.md#setns-einval)", k, joinable, k)
		}
		if c.has(k) {
			return fmt.Errorf("spawn: both a new %s namespace and the one of PID %d asked for", k, pid)
		}
	}
	return nil
}

// IDMap is one line of /proc/PID/uid_map or gid_map: Size IDs from
// ContainerID inside the namespace map to Size IDs from HostID outside.
type IDMap struct {
	ContainerID, HostID, Size int
}

// direct reports whether the child can be executed without the shim: it
// runs at once and needs nothing done between clone and execve that the
// syscall package cannot do itself.
func (sp spec) direct(noHold bool) bool {
	return noHold && sp.Entrypoint == "" && sp.Hostname == "" && sp.Domainname == "" && !sp.MountProc && len(sp.Join) == 0
}

// spec is what the parent tells the shim, through the environment (as a
// wireSpec: JSON, base64).
type spec struct {
	Entrypoint string          `json:"entrypoint,omitempty"`
	Path       string          `json:"path,omitempty"` // resolved external command
	Args       []string        `json:"args"`
	Hostname   string          `json:"hostname,omitempty"`
	Domainname string          `json:"domainname,omitempty"`
	Private    bool            `json:"private,omitempty"` // make / rprivate: new mount namespace
	MountProc  bool            `json:"mount_proc,omitempty"`
	Join       map[ns.Kind]int `json:"join,omitempty"`
	NoHold     bool            `json:"no_hold,omitempty"` // already released (second exec after a join)
	Bare       bool            `json:"bare,omitempty"`    // no go or status pipe: fds 3 and up are the caller's (EntrypointCommand)
}

// wireSpec is spec as it crosses the environment: JSON whose strings are
// bytes (base64 in JSON), so that arguments and names that are not UTF-8
// arrive unchanged (a JSON string would replace them by U+FFFD). JSON, not
// gob: encoding/gob's package initialisation costs every start of a binary
// that imports it a fifth of all its packages' (GODEBUG=inittrace=1).
type wireSpec struct {
	Entrypoint, Path, Hostname, Domainname []byte
	Args                                   [][]byte
	Private, MountProc, NoHold, Bare       bool
	Join                                   map[ns.Kind]int
}

func (sp spec) wire() wireSpec {
	args := make([][]byte, len(sp.Args))
	for i, a := range sp.Args {
		args[i] = []byte(a)
	}
	return wireSpec{
		Entrypoint: []byte(sp.Entrypoint), Path: []byte(sp.Path), Hostname: []byte(sp.Hostname), Domainname: []byte(sp.Domainname),
		Args: args, Private: sp.Private, MountProc: sp.MountProc, NoHold: sp.NoHold, Bare: sp.Bare, Join: sp.Join,
	}
}

func (w wireSpec) spec() spec {
	args := make([]string, len(w.Args))
	for i, a := range w.Args {
		args[i] = string(a)
	}
	return spec{
		Entrypoint: string(w.Entrypoint), Path: string(w.Path), Hostname: string(w.Hostname), Domainname: string(w.Domainname),
		Args: args, Private: w.Private, MountProc: w.MountProc, NoHold: w.NoHold, Bare: w.Bare, Join: w.Join,
	}
}
