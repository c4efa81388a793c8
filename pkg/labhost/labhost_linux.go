//go:build linux

package labhost

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"

	"github.com/nslab/nslab/pkg/ns"
	"github.com/nslab/nslab/pkg/spawn"
)

// Kinds returns the namespaces a lab host gets on this kernel.
func Kinds() []ns.Kind {
	kinds := []ns.Kind{ns.User, ns.UTS, ns.IPC, ns.Mnt, ns.Net, ns.PID}
	if ns.Supported(ns.Cgroup) {
		kinds = append(kinds, ns.Cgroup)
	}
	return kinds
}

// Check says whether a lab host can be made here, and what to do when not.
func Check() error {
	if Bare() {
		return nil
	}
	return spawn.Check(Kinds()...)
}

// Host is a running lab host.
type Host struct {
	child  *spawn.Child
	ctl    *net.UnixConn // a resident lab host's control socket, or nil
	bare   bool
	cgroup string // the delegated cgroup, as the caller sees it
	pidsV1 string // its twin in a v1 pids hierarchy, on a hybrid machine
}

// Start makes a lab host and starts o.Entrypoint in it (or, resident,
// nothing until Exec). With NSLAB_BARE=1 the same init and entrypoint run in
// the caller's namespaces instead.
func Start(ctx context.Context, o Options) (*Host, error) {
	switch {
	case o.Resident && (o.Entrypoint != "" || len(o.ExtraFiles) > 0):
		return nil, errors.New("labhost: a resident lab host starts its processes with Exec, not an entrypoint")
	case !o.Resident && o.Entrypoint == "":
		return nil, errors.New("labhost: no entrypoint to run")
	}
	h := &Host{bare: Bare()}
	cfg := h.config(o)
	if o.Resident {
		ctl, theirs, err := socketPair()
		if err != nil {
			return nil, err
		}
		defer theirs.Close()
		h.ctl, cfg.Args, cfg.ExtraFiles = ctl, []string{cfg.Args[0], serveArg}, []*os.File{theirs}
	}
	if o.Cgroup {
		uid, gid := Maps()
		if err := h.delegate(uid[0].HostID, gid[0].HostID); err != nil {
			h.closeControl()
			return nil, fmt.Errorf("give the lab host a cgroup: %w", err)
		}
		cfg.CgroupDir, cfg.NoHold = h.cgroup, false // held until it is in every hierarchy
	}
	child, err := spawn.Start(ctx, cfg)
	if err != nil {
		h.removeCgroup()
		h.closeControl()
		return nil, fmt.Errorf("start a lab host: %w", err)
	}
	h.child = child
	if err := h.settle(o); err != nil {
		h.Stop()
		return nil, err
	}
	return h, nil
}

// config is how spawn starts the lab host's init.
func (h *Host) config(o Options) spawn.Config {
	env := o.Env
	if env == nil {
		env = Environ()
	}
	mode := modeHost
	if h.bare {
		mode = modeBare
	}
	cfg := spawn.Config{
		Entrypoint: entryInit, Args: append([]string{mode, strconv.Itoa(len(o.ExtraFiles)), o.Entrypoint}, o.Args...),
		Env: env, Dir: "/", Stdout: o.Stdout, Stderr: o.Stderr, ExtraFiles: o.ExtraFiles,
		NoHold: true, StopSignal: syscall.SIGKILL,
	}
	if !h.bare {
		cfg.New, cfg.MountProc, cfg.NoAutoUser = Kinds(), true, true
		cfg.UIDMap, cfg.GIDMap = Maps()
	}
	return cfg
}

// settle lets a started init go on: into its v1 pids cgroup first, and for
// a resident lab host until it says it is set up.
func (h *Host) settle(o Options) error {
	if o.Cgroup {
		if err := h.intoPidsV1(); err != nil {
			return fmt.Errorf("give the lab host a cgroup: %w", err)
		}
	}
	if o.Resident {
		return h.awaitFurnished()
	}
	return nil
}

// delegate makes the lab host's cgroups: one in the v2 hierarchy, and one in
// a v1 pids hierarchy where v2 has no pids controller (a hybrid machine).
func (h *Host) delegate(uid, gid int) error {
	if err := CheckCgroup(); err != nil {
		return err
	}
	var err error
	if h.cgroup, err = delegateCgroup(uid, gid); err != nil {
		return err
	}
	if h.pidsV1, err = delegateV1Pids(filepath.Base(h.cgroup), uid, gid); err != nil {
		h.removeCgroup()
		return err
	}
	return nil
}

// intoPidsV1 puts the held init into its v1 pids cgroup, then lets it run.
func (h *Host) intoPidsV1() error {
	if h.pidsV1 != "" {
		procs := filepath.Join(h.pidsV1, "cgroup.procs")
		if err := os.WriteFile(procs, []byte(strconv.Itoa(h.PID())), 0); err != nil {
			return fmt.Errorf("move the lab host's init into %s: %w", procs, err)
		}
	}
	return h.child.Release()
}

// Cgroup is the lab host's delegated cgroup as the caller sees it, or "".
func (h *Host) Cgroup() string { return h.cgroup }

// PidsV1 is the lab host's cgroup in a v1 pids hierarchy on a hybrid
// machine (where the v2 hierarchy has no pids controller), or "".
func (h *Host) PidsV1() string { return h.pidsV1 }

func (h *Host) removeCgroup() error {
	if h.cgroup == "" {
		return nil
	}
	err := removeCgroup(h.cgroup)
	removeParent(h.cgroup)
	if h.pidsV1 != "" {
		if verr := removeCgroup(h.pidsV1); err == nil {
			err = verr
		}
		removeParent(h.pidsV1)
	}
	return err
}

// PID is the lab host's init, as the caller sees it.
func (h *Host) PID() int { return h.child.PID() }

// Proc is the lab host's /proc as the caller reads it: a PID in it is a PID
// of the lab host (2 is the entrypoint).
func (h *Host) Proc() string {
	if h.bare {
		return "/proc"
	}
	return "/proc/" + strconv.Itoa(h.PID()) + "/root/proc"
}

// ProcDir is the /proc directory of process pid of the lab host.
func (h *Host) ProcDir(pid int) string { return h.Proc() + "/" + strconv.Itoa(pid) }

// Wait waits for the lab host to end: nil when its entrypoint returned 0.
func (h *Host) Wait() error { return h.child.Wait() }

// Stop kills the lab host's init, and with it every process inside, reaps
// it, and removes its cgroup.
func (h *Host) Stop() error {
	err := h.child.Stop()
	if cerr := h.removeCgroup(); err == nil {
		err = cerr
	}
	h.closeControl()
	return err
}

func (h *Host) closeControl() {
	if h.ctl != nil {
		h.ctl.Close()
	}
}

// Maps returns the lab host's user namespace maps: as root, its root and
// the IDs after it map to root's subordinate range (/etc/subuid, /etc/subgid)
// or to FallbackBase, IDs that own nothing on the machine; otherwise the
// caller alone is mapped, to root.
func Maps() (uid, gid []spawn.IDMap) {
	if os.Geteuid() != 0 {
		return []spawn.IDMap{{ContainerID: 0, HostID: os.Geteuid(), Size: 1}},
			[]spawn.IDMap{{ContainerID: 0, HostID: os.Getegid(), Size: 1}}
	}
	return []spawn.IDMap{rangeMap("/etc/subuid")}, []spawn.IDMap{rangeMap("/etc/subgid")}
}

func rangeMap(path string) spawn.IDMap {
	r := Range{Base: FallbackBase, Size: Size}
	if f, err := os.Open(path); err == nil {
		if sub, ok := SubordinateRange(f, "root"); ok {
			r = sub
		}
		f.Close()
	}
	return spawn.IDMap{ContainerID: 0, HostID: r.Base, Size: r.Size}
}

// Environ is the caller's environment without what lab code must never
// read: the CI's tokens and secrets, and GitHub's files for outputs.
func Environ() []string {
	var out []string
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		if !secret(name) {
			out = append(out, kv)
		}
	}
	return out
}

func secret(name string) bool {
	upper := strings.ToUpper(name)
	for _, w := range []string{"TOKEN", "SECRET", "PASSWORD", "CREDENTIAL", "KEY"} {
		if strings.Contains(upper, w) {
			return true
		}
	}
	return strings.HasPrefix(upper, "GITHUB_") || strings.HasPrefix(upper, "ACTIONS_") || strings.HasPrefix(upper, "RUNNER_")
}
