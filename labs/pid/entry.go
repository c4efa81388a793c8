//go:build linux

package pid

import (
	"context"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"

	"github.com/nslab/nslab/pkg/holder"
	"github.com/nslab/nslab/pkg/host"
	"github.com/nslab/nslab/pkg/lab"
	"github.com/nslab/nslab/pkg/ns"
	"github.com/nslab/nslab/pkg/spawn"
	"golang.org/x/sys/unix"
)

// The lab's children: Go functions that spawn runs in a re-executed binary.
// The inits and the unsharing helpers are in inits.go.
const (
	entryWhoami   = "pid.whoami"   // step 01: reports getpid, getppid and its NSpid line
	entryProcView = "pid.procview" // step 02: lists /proc before and after MountProc
	entryRefused  = "pid.refused"  // step 02: calls MountProc where the kernel refuses it
	entryGoInit   = "pid.goinit"   // step 03: a Go program as init, signalling itself
	entrySignals  = "pid.signals"  // step 03: makes a PID namespace whose init has no handlers, and signals it
	entryFakeProc = "pid.fakeproc" // step 03: calls Catches on status files the kernel never writes
	entryReaper   = "pid.reaper"   // step 04: an init that makes an orphan, shows its zombie, reaps it
	entryOrphaner = "pid.orphaner" // step 04: starts a child and exits at once, leaving it an orphan
	entryTree     = "pid.tree"     // step 05: an init with children and a grandchild
	entryNoProc   = "pid.noproc"   // step 05: calls Members where there is no /proc
	entryReach    = "pid.reach"    // step 06: tries to reach a process outside its namespace
	entryUnshare  = "pid.unshare"  // step 07: unshares CLONE_NEWPID and starts children from that thread
	entryNest     = "pid.nest"     // step 08: one level of nested PID namespaces
)

func init() {
	spawn.Register(entryWhoami, whoamiMain)
	spawn.Register(entryProcView, procViewMain)
	spawn.Register(entryRefused, refusedMain)
	spawn.Register(entryGoInit, goInitMain)
	spawn.Register(entrySignals, signalsMain)
	spawn.Register(entryFakeProc, fakeProcMain)
	spawn.Register(entryReaper, reaperMain)
	spawn.Register(entryOrphaner, orphanerMain)
	spawn.Register(entryTree, treeMain)
	spawn.Register(entryNoProc, noProcMain)
	spawn.Register(entryReach, reachMain)
	spawn.Register(entryUnshare, unshareMain)
	spawn.Register(entryNest, nestMain)
}

// usage reports a child started with the wrong arguments.
func usage(text string, args []string) int {
	return spawn.Fail(fmt.Errorf("usage: %s (got %q)", text, args))
}

// readStatus reads /proc/PID/status ("self" for the caller) as the caller's /proc shows it.
func readStatus(pid string) (string, error) {
	b, err := os.ReadFile("/proc/" + pid + "/status")
	return string(b), err
}

// readStat reads and parses /proc/PID/stat.
func readStat(pid int) (procStat, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return procStat{}, err
	}
	return parseStat(string(b))
}

// procPIDs lists the PIDs of a proc directory, in numeric order.
func procPIDs(dir string) ([]int, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var pids []int
	for _, e := range entries {
		if n, err := strconv.Atoi(e.Name()); err == nil {
			pids = append(pids, n)
		}
	}
	slices.Sort(pids) // os.ReadDir sorts names as strings: "10" before "9"
	return pids, nil
}

// whoami is what a process reports about itself: getpid(2), getppid(2),
// and the NSpid line of its /proc/self/status.
type whoami struct {
	PID, PPID int
	NSpid     []int
}

func whoAmI() (whoami, error) {
	w := whoami{PID: unix.Getpid(), PPID: unix.Getppid()}
	st, err := readStatus("self")
	if err == nil {
		w.NSpid, err = host.NSpid(st)
	}
	return w, err
}

// whoamiMain reports, then stays alive until its standard input closes.
func whoamiMain(args []string) int {
	if len(args) != 0 {
		return usage(entryWhoami, args)
	}
	w, err := whoAmI()
	if err != nil {
		return spawn.Fail(err)
	}
	return holder.ReportAndHold(w)
}

// procView is what /proc shows a process: the target of /proc/self, the
// PIDs listed (all of them when there are few, else their count), and
// whether one given PID has a directory there.
type procView struct {
	Self  string
	Count int
	PIDs  []int `json:",omitempty"`
	Has   bool
}

func viewProc(pid int) (procView, error) {
	var v procView
	self, err := os.Readlink("/proc/self")
	if err != nil {
		return v, err
	}
	v.Self = self
	if v.PIDs, err = procPIDs("/proc"); err != nil {
		return v, err
	}
	v.Count = len(v.PIDs)
	v.Has = slices.Contains(v.PIDs, pid)
	if v.Count > 8 {
		v.PIDs = nil
	}
	return v, nil
}

// procViews is the report of the step 02 child: /proc before and after
// MountProc, looking for the PID of the process that started it.
type procViews struct {
	Before, After procView
	MountErr      string
}

// procViewMain: args[0] is the PID of the runner, as the child's /proc
// showed it before MountProc. It reports, then stays alive until its
// standard input closes, so that the harness can read its mounts.
func procViewMain(args []string) int {
	if len(args) != 1 {
		return usage(entryProcView+" RUNNER-PID", args)
	}
	caller, err := strconv.Atoi(args[0])
	if err != nil {
		return usage(entryProcView+" RUNNER-PID", args)
	}
	var r procViews
	if r.Before, err = viewProc(caller); err != nil {
		return spawn.Fail(err)
	}
	if err := MountProc(); err != nil {
		r.MountErr = err.Error()
		return holder.ReportAndHold(r)
	}
	if r.After, err = viewProc(caller); err != nil {
		return spawn.Fail(err)
	}
	return holder.ReportAndHold(r)
}

// refusedMount is what MountProc returned in a child in new user and mount
// namespaces, still in the lab host's PID namespace.
type refusedMount struct {
	Errno, Err string // errnoName and text of MountProc's error: "ok" and "" for none
}

// refusedMain calls MountProc, reports, then stays alive until its
// standard input closes.
func refusedMain(args []string) int {
	if len(args) != 0 {
		return usage(entryRefused, args)
	}
	err := MountProc()
	return holder.ReportAndHold(refusedMount{Errno: lab.ErrnoName(err), Err: lab.ErrText(err)})
}

// membersReport is what Members returned in a child without /proc.
type membersReport struct {
	Got        []int
	Errno, Err string // errnoName and text of the error: "ok" and "" for none
}

// noProcMain mounts a tmpfs on /tmp, in its own mount namespace, chroots
// into it, calls Members for its own PID namespace, reports, then stays
// alive until its standard input closes.
func noProcMain(args []string) int {
	if len(args) != 0 {
		return usage(entryNoProc, args)
	}
	own, err := ns.Get(ns.Self, ns.PID)
	if err != nil {
		return spawn.Fail(err)
	}
	if err := unix.Mount("nslab-no-proc", "/tmp", "tmpfs", unix.MS_NOSUID|unix.MS_NODEV|unix.MS_NOEXEC, "mode=0755,size=16k"); err != nil {
		return spawn.Fail(fmt.Errorf("mount a tmpfs on /tmp: %w", err))
	}
	if err := unix.Chroot("/tmp"); err != nil {
		return spawn.Fail(fmt.Errorf("chroot /tmp: %w", err))
	}
	if err := unix.Chdir("/"); err != nil {
		return spawn.Fail(err)
	}
	got, err := Members(own)
	return holder.ReportAndHold(membersReport{Got: got, Errno: lab.ErrnoName(err), Err: lab.ErrText(err)})
}

// reachView is what a process in a new PID namespace saw when it looked for
// a process outside it: kill(2) through Reach, pidfd_open(2), and /proc
// before and after a fresh proc was mounted.
type reachView struct {
	Outside, Self, Pidfd  string // Reach(target), Reach(1), pidfd_open(target): "ok" or an errno
	ProcBefore, ProcAfter bool   // /proc/TARGET exists, with the lab host's proc, then with a fresh one
	SelfBefore, SelfAfter string // /proc/self then
	PIDsAfter             []int  // the PIDs the fresh proc lists
	TasksAfter            []int  // the child's own threads there: their IDs are numbers of its namespace too
	Target, PID           int    // the target, and the child's own getpid()
	MountErr              string
}

// reachMain: args[0] is the target, a PID of the lab host, outside the
// child's namespace.
// It reports, then stays alive until its standard input closes.
func reachMain(args []string) int {
	if len(args) != 1 {
		return usage(entryReach+" TARGET-PID", args)
	}
	target, err := strconv.Atoi(args[0])
	if err != nil || target <= 0 {
		return usage(entryReach+" TARGET-PID", args)
	}
	r := reachView{Target: target, PID: unix.Getpid()}
	r.Outside, r.Self = lab.ErrnoName(Reach(target)), lab.ErrnoName(Reach(1))
	fd, err := unix.PidfdOpen(target, 0)
	if err == nil {
		unix.Close(fd)
	}
	r.Pidfd = lab.ErrnoName(err)
	r.ProcBefore, r.SelfBefore = exists(target), readlink("/proc/self")
	if err := mountProc(); err != nil {
		r.MountErr = err.Error()
		return holder.ReportAndHold(r)
	}
	r.ProcAfter, r.SelfAfter = exists(target), readlink("/proc/self")
	if r.PIDsAfter, err = procPIDs("/proc"); err != nil {
		return spawn.Fail(err)
	}
	if r.TasksAfter, err = procPIDs("/proc/self/task"); err != nil {
		return spawn.Fail(err)
	}
	return holder.ReportAndHold(r)
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
// the lab host's /proc shows it, then starts the next level in a new PID
// namespace and waits for it; the deepest level waits for its standard
// input to close.
func nestMain(args []string) int {
	const use = entryNest + " LEVEL DEEPEST"
	if len(args) != 2 {
		return usage(use, args)
	}
	level, err1 := strconv.Atoi(args[0])
	deepest, err2 := strconv.Atoi(args[1])
	if err1 != nil || err2 != nil || level < 1 || level > deepest {
		return usage(use, args)
	}
	w, err := whoAmI()
	if err != nil {
		return spawn.Fail(err)
	}
	fmt.Printf("level %d %s\n", level, strings.Trim(fmt.Sprint(w.NSpid), "[]"))
	if level == deepest {
		io.Copy(io.Discard, os.Stdin)
		return 0
	}
	next := []string{strconv.Itoa(level + 1), args[1]}
	// The next level ends with this one (Pdeathsig) or with its namespace.
	err = spawn.Run(context.Background(), spawn.Config{New: []ns.Kind{ns.PID}, Entrypoint: entryNest, Args: next, Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr})
	if err != nil {
		return spawn.Fail(fmt.Errorf("level %d: %w", level+1, err))
	}
	return 0
}
