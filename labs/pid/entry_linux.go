//go:build linux

package pid

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"

	"github.com/nslab/nslab/pkg/ns"
	"github.com/nslab/nslab/pkg/spawn"
	"golang.org/x/sys/unix"
)

// The lab's children: Go functions that spawn runs in a re-executed binary.
const (
	entryWhoami   = "pid.whoami"   // step 01: reports getpid, getppid and its NSpid line
	entryProcView = "pid.procview" // step 02: lists /proc before and after MountProc
	entryGoInit   = "pid.goinit"   // step 03: a Go program as init, signalling itself
	entrySignals  = "pid.signals"  // step 03: makes a PID namespace whose init has no handlers, and signals it
	entryReaper   = "pid.reaper"   // step 04: an init that makes an orphan, shows its zombie, reaps it
	entryOrphaner = "pid.orphaner" // step 04: starts a child and exits at once, leaving it an orphan
	entryTree     = "pid.tree"     // step 05: an init with children and a grandchild
	entryReach    = "pid.reach"    // step 06: tries to reach a host process from inside
	entryUnshare  = "pid.unshare"  // step 07: unshares CLONE_NEWPID and starts children from that thread
	entryNest     = "pid.nest"     // step 08: one level of nested PID namespaces
)

func init() {
	spawn.Register(entryWhoami, whoamiMain)
	spawn.Register(entryProcView, procViewMain)
	spawn.Register(entryGoInit, goInitMain)
	spawn.Register(entrySignals, signalsMain)
	spawn.Register(entryReaper, reaperMain)
	spawn.Register(entryOrphaner, orphanerMain)
	spawn.Register(entryTree, treeMain)
	spawn.Register(entryReach, reachMain)
	spawn.Register(entryUnshare, unshareMain)
	spawn.Register(entryNest, nestMain)
}

// bgCtx is the context of the children that the lab's own children start:
// they end with their parent (Pdeathsig) or with their PID namespace.
var bgCtx = context.Background()

// fail reports err on stderr and returns the exit status of a failed child.
func fail(err error) int {
	fmt.Fprintln(os.Stderr, err)
	return 1
}

// emit writes v as one line of JSON on stdout.
func emit(v any) int {
	if err := json.NewEncoder(os.Stdout).Encode(v); err != nil {
		return fail(err)
	}
	return 0
}

// errnoName names err's error number ("ESRCH"), "ok" for nil, or its text.
func errnoName(err error) string {
	if err == nil {
		return "ok"
	}
	var errno unix.Errno
	if errors.As(err, &errno) && unix.ErrnoName(errno) != "" {
		return unix.ErrnoName(errno)
	}
	return err.Error()
}

// readStatus reads /proc/PID/status ("self" for the caller) as the caller's /proc shows it.
func readStatus(pid string) (string, error) {
	b, err := os.ReadFile("/proc/" + pid + "/status")
	return string(b), err
}

// readStat reads and parses /proc/PID/stat.
func readStat(pid int) (Stat, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return Stat{}, err
	}
	return ParseStat(string(b))
}

// Whoami is what a process reports about itself: getpid(2), getppid(2),
// and the NSpid line of its /proc/self/status.
type Whoami struct {
	PID, PPID int
	NSpid     []int
}

func whoami() (Whoami, error) {
	w := Whoami{PID: unix.Getpid(), PPID: unix.Getppid()}
	st, err := readStatus("self")
	if err == nil {
		w.NSpid, err = NSpidOf(st)
	}
	return w, err
}

func whoamiMain([]string) int {
	w, err := whoami()
	if err != nil {
		return fail(err)
	}
	return emit(w)
}

// ProcView is what /proc shows a process: the target of /proc/self, the
// PIDs listed (all of them when there are few, else their count), and
// whether one given PID has a directory there.
type ProcView struct {
	Self  string
	Count int
	PIDs  []int `json:",omitempty"`
	Has   bool
}

func viewProc(pid int) (ProcView, error) {
	var v ProcView
	self, err := os.Readlink("/proc/self")
	if err != nil {
		return v, err
	}
	v.Self = self
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return v, err
	}
	for _, e := range entries {
		if n, err := strconv.Atoi(e.Name()); err == nil {
			v.PIDs = append(v.PIDs, n)
		}
	}
	v.Count = len(v.PIDs)
	v.Has = slices.Contains(v.PIDs, pid)
	if v.Count > 8 {
		v.PIDs = nil
	}
	return v, nil
}

// ProcViews is the report of the step 02 child: /proc before and after
// MountProc, looking for the PID of the process that started it.
type ProcViews struct {
	Before, After ProcView
	MountErr      string
}

func procViewMain(args []string) int {
	caller, _ := strconv.Atoi(args[0])
	var r ProcViews
	var err error
	if r.Before, err = viewProc(caller); err != nil {
		return fail(err)
	}
	if err := MountProc(); err != nil {
		r.MountErr = err.Error()
		return emit(r)
	}
	if r.After, err = viewProc(caller); err != nil {
		return fail(err)
	}
	return emit(r)
}

// ReachReport is what a process in a new PID namespace saw when it looked
// for a host process: kill(2) through Reach, pidfd_open(2), and /proc
// before and after a fresh proc was mounted.
type ReachReport struct {
	Host, Self, Pidfd     string // Reach(host), Reach(1), pidfd_open(host): "ok" or an errno
	ProcBefore, ProcAfter bool   // /proc/HOSTPID exists, with the host's proc, then with a fresh one
	SelfBefore, SelfAfter string // /proc/self then
	HostPID, PID          int
	MountErr              string
}

func reachMain(args []string) int {
	host, _ := strconv.Atoi(args[0])
	r := ReachReport{HostPID: host, PID: unix.Getpid()}
	r.Host, r.Self = errnoName(Reach(host)), errnoName(Reach(1))
	fd, err := unix.PidfdOpen(host, 0)
	if err == nil {
		unix.Close(fd)
	}
	r.Pidfd = errnoName(err)
	r.ProcBefore, r.SelfBefore = exists(host), readlink("/proc/self")
	if err := mountProc(); err != nil {
		r.MountErr = err.Error()
		return emit(r)
	}
	r.ProcAfter, r.SelfAfter = exists(host), readlink("/proc/self")
	return emit(r)
}

// mountProc is the lab's own mount of a fresh /proc, for steps that do not grade MountProc.
func mountProc() error {
	return unix.Mount("proc", "/proc", "proc", unix.MS_NOSUID|unix.MS_NODEV|unix.MS_NOEXEC, "")
}

func exists(pid int) bool {
	_, err := os.Stat("/proc/" + strconv.Itoa(pid))
	return err == nil
}

func readlink(path string) string {
	s, err := os.Readlink(path)
	if err != nil {
		return err.Error()
	}
	return s
}

// nestMain is one level of nested PID namespaces: args are its level and
// the deepest level. It prints "level L NSPID..." with its NSpid line as
// the host's /proc shows it, then starts the next level in a new PID
// namespace and waits for it; the deepest level waits for its standard
// input to close.
func nestMain(args []string) int {
	level, _ := strconv.Atoi(args[0])
	deepest, _ := strconv.Atoi(args[1])
	w, err := whoami()
	if err != nil {
		return fail(err)
	}
	fmt.Printf("level %d %s\n", level, strings.Trim(fmt.Sprint(w.NSpid), "[]"))
	if level == deepest {
		io.Copy(io.Discard, os.Stdin)
		return 0
	}
	next := []string{strconv.Itoa(level + 1), args[1]}
	err = spawn.Run(bgCtx, spawn.Config{New: []ns.Kind{ns.PID}, Entrypoint: entryNest, Args: next, Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr})
	if err != nil {
		return fail(fmt.Errorf("level %d: %w", level+1, err))
	}
	return 0
}
