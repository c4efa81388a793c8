//go:build linux

package pid

import (
	"errors"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"

	"github.com/nslab/nslab/pkg/host"
	"github.com/nslab/nslab/pkg/lab"
	"github.com/nslab/nslab/pkg/ns"
	"golang.org/x/sys/unix"
)

// The check halves of the steps: in the harness, each narrates a report of
// run.go, runs the pure judge of that report (judgeX, table-tested on
// recorded reports in lab_test.go), and verifies from outside, through the
// lab host's /proc, what the kernel still holds. They return what the
// kernel was expected to do and what was seen instead.

// nspidCases are the texts ParseNSpid is graded on besides a real status:
// a line from a process two levels down, one of the lab host's, and broken
// ones. want nil means ParseNSpid must return an error.
var nspidCases = []struct {
	name, status string
	want         []int
}{
	{"nested", "Name:\tsleep\nPid:\t4242\nNSpid:\t4242\t17\t1\nNSpgid:\t4242\t17\t1\n", []int{4242, 17, 1}},
	{"one level", "Tgid:\t99\nNSpid:\t99\n", []int{99}},
	{"no line", "Name:\tsleep\nPid:\t1\n", nil},
	{"empty line", "NSpid:\t\nPid:\t1\n", nil},
	{"not a number", "NSpid:\t12\tx\n", nil},
	{"a zero PID", "NSpid:\t7\t0\n", nil},
	{"a negative PID", "NSpid:\t-3\t1\n", nil},
}

// judgeParseCases compares what ParseNSpid returned for nspidCases with what it should.
func judgeParseCases(got []parseResult) error {
	if len(got) != len(nspidCases) {
		return fmt.Errorf("ParseNSpid ran on %d of the %d fixed texts", len(got), len(nspidCases))
	}
	for i, c := range nspidCases {
		g := got[i]
		if c.want == nil && g.Err == "" {
			return fmt.Errorf("ParseNSpid(%q) = %v, nil; want an error (%s)", c.status, g.Got, c.name)
		}
		if strings.Contains(g.Err, "%!") {
			return fmt.Errorf("ParseNSpid(%q) returned the error %q, whose text fmt could not format (%%!: a verb without its value, or a value without its verb); want a readable error (%s): check the order of fmt.Errorf's format and arguments", c.status, g.Err, c.name)
		}
		if c.want != nil && (g.Err != "" || !slices.Equal(g.Got, c.want)) {
			return fmt.Errorf("ParseNSpid(%q) = %v, %v; want %v (%s)", c.status, g.Got, lab.Or(g.Err, "nil"), c.want, c.name)
		}
	}
	return nil
}

func checkNewNamespace(c *lab.Check, r newNamespaceReport) error {
	if err := c.NewKindsOnly(r.PID, "child", ns.PID, ns.UTS); err != nil {
		return err
	}
	c.Say("the runner sees the child as PID %d; /proc/%d/status says NSpid: %s", r.PID, r.PID, fieldOr(r.Status, "NSpid"))
	c.Say("ParseNSpid of it = %v %s; inside, the child says getpid() = %d, getppid() = %d", r.Parsed, r.ParseErr, r.Inside.PID, r.Inside.PPID)
	st, err := c.ReadFile(r.PID, "status")
	if err != nil {
		return fmt.Errorf("read the status of the child, PID %d, from outside: %w", r.PID, err)
	}
	outside, err := host.NSpid(st)
	if err != nil {
		return fmt.Errorf("the child's status, read from outside: %w", err)
	}
	if err := judgeNewNamespace(r, outside); err != nil {
		return c.Failf("%v", err)
	}
	c.Check(true, "PID 1 with parent 0 inside, PID %d in the lab host; ParseNSpid read both", r.PID)
	return nil
}

// judgeNewNamespace judges step 01; outside is the child's NSpid line as
// the harness read it through the lab host's /proc.
func judgeNewNamespace(r newNamespaceReport, outside []int) error {
	want := []int{r.PID, 1}
	switch {
	case !slices.Equal(outside, want):
		return fmt.Errorf("the kernel's NSpid line of the child, read from outside, is %v; want %v: PID %d in the lab host and 1 in a new PID namespace of its own", outside, want, r.PID)
	case r.Inside.PID != 1 || r.Inside.PPID != 0:
		return fmt.Errorf("inside, getpid() = %d and getppid() = %d; want 1 and 0: the first process of a new PID namespace is its init, and its parent lies outside", r.Inside.PID, r.Inside.PPID)
	case !slices.Equal(r.Inside.NSpid, want):
		return fmt.Errorf("the child's NSpid line, read by itself through the lab host's /proc, is %v; want %v", r.Inside.NSpid, want)
	case r.ParseErr != "" || !slices.Equal(r.Parsed, want):
		return fmt.Errorf("ParseNSpid of /proc/%d/status = %v, %s; want %v (the PID in the namespace of the proc that was read, then the PID inside)", r.PID, r.Parsed, lab.Or(r.ParseErr, "nil"), want)
	}
	return judgeParseCases(r.Cases)
}

func checkProcMount(c *lab.Check, r procMountReport) error {
	c.Say("the runner is PID %d; its child in new PID and mount namespaces is PID %d", r.Runner, r.PID)
	c.Say("child, before MountProc: /proc/self -> %s, /proc lists %d PIDs %v, the runner's among them: %v", r.Before.Self, r.Before.Count, r.Before.PIDs, r.Before.Has)
	c.Say("child, after MountProc:  /proc/self -> %s, /proc lists %v", r.After.Self, r.After.PIDs)
	if err := judgeProcMount(r); err != nil {
		return c.Failf("%v", err)
	}
	// From outside: the child's /proc (through its root) shows its namespace
	// alone, and the lab host's /proc, the runner's, is as it was.
	inside, err := procPIDs(c.ProcDir(r.PID) + "/root/proc")
	if err != nil {
		return fmt.Errorf("list the child's /proc from outside: %w", err)
	}
	host, err := procPIDs(c.ProcDir(c.Runner) + "/root/proc")
	if err != nil {
		return fmt.Errorf("list the runner's /proc from outside: %w", err)
	}
	c.Say("from outside: the child's /proc lists %v; the runner's lists %v", inside, host)
	switch {
	case !slices.Equal(inside, []int{1}):
		return c.Failf("from outside, the child's /proc lists %v; want [1]: a proc mounted by the child shows its PID namespace only", inside)
	case !slices.Contains(host, c.Runner) || !slices.Contains(host, r.PID):
		return c.Failf("from outside, the runner's /proc lists %v; want the lab host's processes, the runner (%d) and the child (%d) among them: the new proc belongs to the child's mount namespace", host, c.Runner, r.PID)
	}
	c.Check(true, "the fresh proc shows the child's namespace only; the runner's /proc still shows the lab host")
	if err := checkProcOptions(c, r.PID); err != nil {
		return err
	}
	c.Check(true, "MountProc in a child whose user namespace does not own its PID namespace: %s, as the kernel answered", r.Refused.Errno)
	return nil
}

// checkProcOptions reads, from outside, the child's mount on /proc (the
// last one there, on top of the lab host's) and checks its type and its
// per-mount options.
func checkProcOptions(c *lab.Check, pid int) error {
	text, err := c.ReadFile(pid, "mountinfo")
	if err != nil {
		return fmt.Errorf("read the child's mountinfo from outside: %w", err)
	}
	top := topMount(text, "/proc")
	c.Say("from outside: the child's top mount on /proc is %s %s, options %s", top.FSType, top.Source, top.Options)
	if err := judgeProcOptions(top); err != nil {
		return c.Failf("%v", err)
	}
	c.Check(true, "the new proc is mounted nosuid, nodev, noexec")
	return nil
}

// topMount returns the last mount on target in mountinfo text: the one on
// top, which path lookups see.
func topMount(mountinfo, target string) host.Mount {
	var top host.Mount
	for _, m := range host.ParseMountinfo(mountinfo) {
		if m.Target == target {
			top = m
		}
	}
	return top
}

// judgeProcOptions judges the child's top mount on /proc.
func judgeProcOptions(top host.Mount) error {
	opts := strings.Split(top.Options, ",")
	for _, want := range []string{"nosuid", "nodev", "noexec"} {
		if top.FSType != "proc" || !slices.Contains(opts, want) {
			return fmt.Errorf("from outside, the child's top mount on /proc is %q with options %q; want a proc with nosuid, nodev and noexec (MS_NOSUID|MS_NODEV|MS_NOEXEC, or-ed together, as unshare --mount-proc mounts it)", top.FSType, top.Options)
		}
	}
	return nil
}

// judgeProcMount judges step 02: before MountProc, the child sees the lab
// host's proc (the runner's view); after it, a proc of its own namespace.
func judgeProcMount(r procMountReport) error {
	b, a := r.Before, r.After
	switch {
	case b.Self != strconv.Itoa(r.PID) || !b.Has || b.Count < 2:
		return fmt.Errorf("before MountProc, /proc/self was %s and /proc listed %d PIDs (the runner's, %d: %v); want %d, the child's PID in the lab host, and the lab host's processes: /proc belongs to the runner's PID namespace until a new one is mounted", b.Self, b.Count, r.Runner, b.Has, r.PID)
	case r.MountErr != "":
		return fmt.Errorf("MountProc() in a child with new PID and mount namespaces: %s", r.MountErr)
	case a.Self != "1" || !slices.Equal(a.PIDs, []int{1}) || a.Has:
		return fmt.Errorf("after MountProc, /proc/self is %s and /proc lists %v (%d PIDs, the runner's: %v); want 1 and [1]: a proc mounted from inside shows the new namespace only (fstype proc, on /proc?)", a.Self, a.PIDs, a.Count, a.Has)
	case r.Refused.Errno != "EPERM":
		return fmt.Errorf("MountProc() in a child in new user and mount namespaces, but in the lab host's PID namespace, returned %s; want an error wrapping EPERM: the kernel refuses a proc mount to whoever lacks CAP_SYS_ADMIN over the PID namespace, and MountProc must return mount(2)'s error (with %%w)", lab.Or(r.Refused.Err, "nil"))
	}
	return nil
}

func checkSignals(c *lab.Check, r signalsReport) error {
	b := r.Box
	c.Say("init is sleep (PID %d); Catches(init, SIGTERM) = %v; the box (PID %d, a Go program that ignores SIGHUP): Catches(box, SIGTERM) = %v, Catches(box, SIGHUP) = %v", b.InitPID, b.InitCatchTERM, r.BoxPID, b.BoxCatchTERM, b.BoxCatchHUP)
	c.Say("a sibling, PID %d inside, sent PID 1: %v", b.Sibling.PID, b.Sibling.Results)
	c.Say("init afterwards: alive %v, state %s; sent SIGKILL from the parent namespace: ended by %s", b.AliveAfter, b.StateAfter, b.KilledBy)
	c.Say("sh as init, after kill -KILL $$; kill -TERM $$: %q", r.ShOut)
	c.Say("a Go program as init: %q, then %s (its runtime handles SIGTERM)", r.GoInitOut, r.GoInitEnd)
	for _, f := range r.Fake {
		c.Say("on a fake /proc, Catches(%d, SIGTERM) for %s = %v, %s", f.PID, f.What, f.Got, lab.Or(f.Err, "nil"))
	}
	if err := judgeSignals(r); err != nil {
		return c.Failf("%v", err)
	}
	// From outside: the kernel's masks of the box, which Catches read.
	st, err := c.ReadFile(r.BoxPID, "status")
	if err != nil {
		return fmt.Errorf("read the box's status from outside: %w", err)
	}
	cgt, err1 := SigMask(fieldOr(st, "SigCgt"))
	ign, err2 := SigMask(fieldOr(st, "SigIgn"))
	if err := errors.Join(err1, err2); err != nil {
		return fmt.Errorf("the box's status from outside: %w", err)
	}
	switch {
	case hasSignal(cgt, int(unix.SIGTERM)) != b.BoxCatchTERM || hasSignal(cgt, int(unix.SIGHUP)) != b.BoxCatchHUP:
		return c.Failf("the kernel says the box's SigCgt is %016x (SIGTERM %v, SIGHUP %v); Catches said SIGTERM %v, SIGHUP %v", cgt, hasSignal(cgt, int(unix.SIGTERM)), hasSignal(cgt, int(unix.SIGHUP)), b.BoxCatchTERM, b.BoxCatchHUP)
	case !hasSignal(ign, int(unix.SIGHUP)):
		return fmt.Errorf("the box's SigIgn is %016x, without SIGHUP, which it ignores: the lab's box did not start as it should", ign)
	case b.BoxMask != cgt:
		return c.Failf("asked about every signal from 1 to 64, Catches answered for the box as if its SigCgt were %016x; the kernel says %016x (bits that differ: %016x): bit N-1 of SigCgt stands for signal N", b.BoxMask, cgt, b.BoxMask^cgt)
	}
	c.Check(true, "Catches agrees with the kernel's SigCgt of the box on all 64 signals")
	if _, err := os.Stat(c.ProcDir(b.InitPID)); err == nil {
		return c.Failf("/proc/%d, the killed init, still exists in the lab host", b.InitPID)
	}
	c.Check(true, "signals from inside are dropped unless init handles them; SIGKILL from the parent namespace works")
	return nil
}

// judgeSignals judges step 03.
func judgeSignals(r signalsReport) error {
	b := r.Box
	switch {
	case b.CatchesErr != "":
		return fmt.Errorf("Catches: %s", b.CatchesErr)
	case b.InitCatchTERM:
		return fmt.Errorf("Catches(init, SIGTERM) = true for sleep, which has no handler; want false (SigCgt, bit N-1 for signal N)")
	case !b.BoxCatchTERM:
		return fmt.Errorf("Catches(self, SIGTERM) = false for a Go program, whose runtime catches SIGTERM; want true (SigCgt, not SigIgn or SigBlk)")
	case b.BoxCatchHUP:
		return fmt.Errorf("Catches(self, SIGHUP) = true for a Go program that ignores SIGHUP (signal.Ignore) and catches its neighbours SIGINT and SIGQUIT; want false (SigCgt, not SigIgn; bit N-1 for signal N)")
	}
	if err := judgeFake(r.Fake); err != nil {
		return err
	}
	for _, sig := range keys(b.Sibling.Results) {
		if res := b.Sibling.Results[sig]; res != "ok" {
			return fmt.Errorf("a sibling (PID %d) got %s from kill(1, %s); want success: the kernel accepts the call and drops the signal", b.Sibling.PID, res, sig)
		}
	}
	switch {
	case len(b.Sibling.Results) != 4:
		return fmt.Errorf("a sibling reported %v; want the results of SIGTERM, SIGINT, SIGHUP and SIGKILL", b.Sibling.Results)
	case !b.AliveAfter || b.StateAfter == "Z":
		return fmt.Errorf("init ended (state %q) after a sibling sent it %v; want it alive: init ignores signals it has no handler for, SIGKILL from inside included", b.StateAfter, keys(b.Sibling.Results))
	case b.KilledBy != "SIGKILL":
		return fmt.Errorf("init, sent SIGKILL from the parent namespace, ended %s %s; want killed by SIGKILL", b.KilledBy, b.WaitAfterError)
	case r.ShOut != "alive":
		return fmt.Errorf("sh as init, after kill -KILL $$ and kill -TERM $$, printed %q; want alive", r.ShOut)
	case !strings.Contains(r.GoInitOut, "catches-SIGTERM true kill-KILL ok") || strings.Contains(r.GoInitOut, "survived") || r.GoInitEnd != "status 2":
		return fmt.Errorf("a Go init that sends itself SIGKILL, then SIGTERM, said %q and ended with %s; want it to survive SIGKILL, and its runtime's SIGTERM handler to make it exit with status 2", r.GoInitOut, r.GoInitEnd)
	}
	return nil
}

// judgeFake judges what Catches returned for status files the kernel never
// writes: each must be an error, and a missing process the kernel's ENOENT.
func judgeFake(fake []fakeCatch) error {
	if len(fake) != len(fakeStatus) {
		return fmt.Errorf("the fake-proc child tried %d of the %d fake status files", len(fake), len(fakeStatus))
	}
	for _, f := range fake {
		switch {
		case f.Err == "":
			return fmt.Errorf("Catches(%d, SIGTERM) for %s returned %v, nil; want an error: a status Catches cannot read says nothing about handlers (return the error of os.ReadFile, of a missing SigCgt line, of SigMask)", f.PID, f.What, f.Got)
		case f.Missing && f.Errno != "ENOENT":
			return fmt.Errorf("Catches(%d, SIGTERM) for %s returned the error %q; want one wrapping ENOENT, os.ReadFile's (return it, or wrap it with %%w)", f.PID, f.What, f.Err)
		}
	}
	return nil
}

func keys(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

func checkOrphans(c *lab.Check, r orphanReport) error {
	c.Say("init is PID %d in the lab host; its child started cat (PID %d inside, %d in the lab host) and exited", r.InitPID, r.PID, r.HostPID)
	c.Say("cat's parent is now %d inside; after cat ended: state %s inside, %s with parent %d seen by the runner", r.PPID, r.State, r.HostState, r.HostPPID)
	c.Say("ReapOne() = %d, status %d; /proc entry gone inside: %v, in the lab host: %v", r.Reaped, r.Status, r.Gone, r.HostGone)
	c.Say("a second orphan, %d inside, still running: ReapOne() = %d, status %d, returned before it ended: %v", r.Running, r.Waited, r.WaitedEnd, r.Early)
	c.Say("ReapOne() with no child left: %s", r.NoChild)
	if err := judgeOrphan(r); err != nil {
		return c.Failf("%v (the init said %q)", err, r.ReaperLines)
	}
	if _, err := os.Stat(c.ProcDir(r.HostPID)); err == nil {
		return c.Failf("from outside, /proc/%d, the reaped orphan, still exists in the lab host", r.HostPID)
	}
	c.Check(true, "init adopted the orphan and reaped its zombie")
	return nil
}

// judgeOrphan judges step 04.
func judgeOrphan(r orphanReport) error {
	switch {
	case r.PPID != 1:
		return fmt.Errorf("after its parent exited, the orphan's parent is %d inside; want 1, the namespace's init", r.PPID)
	case r.State != "Z" || r.HostState != "Z" || r.HostPPID != r.InitPID:
		return fmt.Errorf("the orphan that ended was in state %q inside, %q with parent %d seen by the runner (%s); want a zombie (Z) of init (PID %d in the lab host)", r.State, r.HostState, r.HostPPID, r.HostErr, r.InitPID)
	case r.Reaped != r.PID || r.Status != 0:
		return fmt.Errorf("ReapOne() = %d, status %d; want the orphan, %d, status 0 (wait4(-1, ...) reaps any child)", r.Reaped, r.Status, r.PID)
	case !r.Gone || !r.HostGone:
		return fmt.Errorf("after ReapOne, /proc/%d inside gone: %v, /proc/%d in the lab host gone: %v; want both gone", r.PID, r.Gone, r.HostPID, r.HostGone)
	case r.Early:
		return fmt.Errorf("ReapOne() returned %d, status %d, while its only child, the adopted orphan %d, was still running; want it to wait until a child ends (wait4(-1, &ws, 0, nil): no WNOHANG)", r.Waited, r.WaitedEnd, r.Running)
	case r.Waited != r.Running || r.WaitedEnd != 0:
		return fmt.Errorf("ReapOne() = %d, status %d, once the running orphan %d ended; want %d, status 0", r.Waited, r.WaitedEnd, r.Running, r.Running)
	case r.NoChild != "ECHILD":
		return fmt.Errorf("ReapOne() with no child left returned %s; want an error wrapping ECHILD: return wait4's error (with %%w), which ends an init's loop of ReapOne when no child is left", lab.Or(r.NoChild, "ok"))
	}
	return nil
}

func checkInitDeath(c *lab.Check, r initDeathReport) error {
	c.Say("namespace %s: init is PID %d; Members = %v (the lab's scan: %v)", r.NS, r.InitPID, r.Before, r.BeforeLab)
	c.Say("kill -KILL %d from the runner: init ended by %s", r.InitPID, r.InitEnd)
	c.Say("afterwards: Members = %v (the lab's scan: %v)", r.After, r.AfterLab)
	c.Say("in a child chrooted into an empty directory, without /proc: Members = %v, %s", r.NoProc.Got, lab.Or(r.NoProc.Err, "nil"))
	if err := judgeInitDeath(r); err != nil {
		return c.Failf("%v", err)
	}
	for _, p := range r.BeforeLab {
		s, err := c.NS(p)
		if err != nil {
			continue // gone
		}
		if id, _ := s.Get(ns.PID); id.Equal(r.NS) {
			return c.Failf("from outside, PID %d is still in %s after its init died", p, r.NS)
		}
	}
	c.Check(true, "nothing survives its init")
	return nil
}

// judgeInitDeath judges step 05: init, two children, a shell and its child.
func judgeInitDeath(r initDeathReport) error {
	switch {
	case len(r.BeforeLab) != 5:
		return fmt.Errorf("the lab found %v in %s; want 5 processes (init, two sleeps, sh and its child)", r.BeforeLab, r.NS)
	case !slices.Equal(r.Before, r.BeforeLab):
		return fmt.Errorf("Members(%s) = %v; want %v (every /proc/PID/ns/pid that is this namespace, in numeric order)", r.NS, r.Before, r.BeforeLab)
	case r.InitEnd != "signal SIGKILL":
		return fmt.Errorf("init ended with %s; want killed by SIGKILL", r.InitEnd)
	case len(r.After) != 0 || len(r.AfterLab) != 0:
		return fmt.Errorf("after init was killed, Members = %v and the lab found %v; want nobody: the kernel kills every process of a namespace whose init dies", r.After, r.AfterLab)
	case r.NoProc.Errno != "ENOENT":
		return fmt.Errorf("Members in a child chrooted into an empty directory, where /proc does not exist, returned %v, %s; want an error wrapping ENOENT: return os.ReadDir's error, for an empty list would say the namespace has no process", r.NoProc.Got, lab.Or(r.NoProc.Err, "nil"))
	}
	return nil
}

func checkNoEscape(c *lab.Check, r reachReport) error {
	c.Say("the child is PID %d in the lab host, %d inside; the target, sleep, is PID %d in the lab host", r.ChildPID, r.PID, r.Target)
	c.Say("inside: Reach(%d), the target = %s; pidfd_open(%d) = %s; Reach(1), itself = %s", r.Target, r.Outside, r.Target, r.Pidfd, r.Self)
	c.Say("/proc/%d inside: %v with the lab host's proc, %v with a fresh one, which lists %v (the child's threads: %v)", r.Target, r.ProcBefore, r.ProcAfter, r.PIDsAfter, r.TasksAfter)
	if err := judgeReach(r); err != nil {
		return c.Failf("%v", err)
	}
	// From outside: the target is there all along, and the child is PID 1
	// of a namespace of its own.
	if _, err := os.Stat(c.ProcDir(r.Target)); err != nil {
		return fmt.Errorf("the target, PID %d, is not in the lab host's /proc: %w", r.Target, err)
	}
	st, err := c.ReadFile(r.ChildPID, "status")
	if err != nil {
		return fmt.Errorf("read the child's status from outside: %w", err)
	}
	if got, err := host.NSpid(st); err != nil || !slices.Equal(got, []int{r.ChildPID, 1}) {
		return c.Failf("from outside, the child's NSpid is %v (%v); want [%d 1]", got, err, r.ChildPID)
	}
	c.Check(true, "the target's PID means nothing inside, though the target exists")
	return nil
}

// judgeReach judges step 06.
func judgeReach(r reachReport) error {
	switch {
	case r.PID != 1:
		return fmt.Errorf("the child says it is PID %d; want 1", r.PID)
	case r.Self != "ok":
		return fmt.Errorf("inside, Reach(1) = %s; want ok: a process may signal itself", r.Self)
	case r.MountErr != "":
		return fmt.Errorf("mount a fresh /proc inside: %s", r.MountErr)
	case slices.Contains(r.PIDsAfter, r.Target) || slices.Contains(r.TasksAfter, r.Target):
		return fmt.Errorf("the child's namespace has a process or thread %d of its own (processes %v, the child's threads %v), so the target's PID names something inside; the lab could not tell", r.Target, r.PIDsAfter, r.TasksAfter)
	case r.Outside != "ESRCH" || r.Pidfd != "ESRCH":
		return fmt.Errorf("inside, Reach(%d) (a process of the lab host, outside) = %s and pidfd_open = %s; want ESRCH for both: the PID means nothing in the child's namespace (return kill(2)'s error as it is)", r.Target, r.Outside, r.Pidfd)
	case !r.ProcBefore || r.ProcAfter || r.SelfAfter != "1":
		return fmt.Errorf("/proc/%d inside: %v with the lab host's proc, %v with a fresh one (/proc/self %s); want true, then false, 1", r.Target, r.ProcBefore, r.ProcAfter, r.SelfAfter)
	}
	return nil
}

func checkUnshare(c *lab.Check, r unshareStep) error {
	u := r.Report
	c.Table(lab.Column{Title: "thread before", Set: pidSet(u.PIDBefore, u.PFCBefore)}, lab.Column{Title: "thread after", Set: pidSet(u.PIDAfter, u.PFCAfter)})
	c.Say("a Go program of %d threads (PID %d): UnshareForChildren() on thread %d = %s; a second unshare: %s; UnshareForChildren() again: %s", u.Threads, r.BoxPID, u.TID, lab.Or(u.UnshareErr, "ok"), u.SecondErr, u.AgainErr)
	c.Say("pid_for_children before the first child existed: %s (the kernel shows it once the namespace has an init)", u.PFCEarly)
	c.Say("its first child is PID %d in the lab host; the second says getpid() = %d, getppid() = %d", u.InitPID, u.Second.PID, u.Second.PPID)
	if err := judgeUnshare(u); err != nil {
		return c.Failf("%v", err)
	}
	// From outside: the box stayed in the runner's PID namespace, its
	// thread's children go to the new one, where its first child is.
	host, err := c.Host()
	if err != nil {
		return err
	}
	box, err := c.NS(r.BoxPID)
	if err != nil {
		return fmt.Errorf("read the box's namespaces from outside: %w", err)
	}
	init, err := c.NS(u.InitPID)
	if err != nil {
		return fmt.Errorf("read the namespaces of the box's first child from outside: %w", err)
	}
	task, err := ns.GetPath(fmt.Sprintf("%s/task/%d/ns/pid_for_children", c.ProcDir(r.BoxPID), u.TID))
	if err != nil {
		return fmt.Errorf("read the pid_for_children of the box's thread from outside: %w", err)
	}
	hostPID, _ := host.Get(ns.PID)
	boxPID, _ := box.Get(ns.PID)
	initPID, _ := init.Get(ns.PID)
	switch {
	case !boxPID.Equal(hostPID):
		return c.Failf("from outside, the box is in %s, the runner in %s; want the same: a process never changes its own PID namespace", boxPID, hostPID)
	case !task.Equal(u.PFCAfter):
		return c.Failf("from outside, the thread's pid_for_children is %s; the thread read %s", task, u.PFCAfter)
	case !initPID.Equal(u.PFCAfter):
		return c.Failf("from outside, the first child of the thread is in %s; want %s, the thread's pid_for_children", initPID, u.PFCAfter)
	}
	c.Check(true, "only pid_for_children changed; the first child is init of the new namespace")
	return nil
}

// judgeUnshare judges the box's report of step 07.
func judgeUnshare(u unshareReport) error {
	switch {
	case u.UnshareErr != "":
		return fmt.Errorf("UnshareForChildren() in a Go program with %d threads: %s; want success (CLONE_NEWPID, unlike CLONE_NEWUSER, is allowed in a multithreaded process)", u.Threads, u.UnshareErr)
	case !u.PIDAfter.Equal(u.PIDBefore):
		return fmt.Errorf("the thread's pid namespace went from %s to %s; want it unchanged: a process never changes its own PID namespace", u.PIDBefore, u.PIDAfter)
	case u.PFCAfter.IsZero() || u.PFCAfter.Equal(u.PFCBefore):
		return fmt.Errorf("the thread's pid_for_children went from %s to %q; want a new one (unshare(2) with CLONE_NEWPID, on the calling thread)", u.PFCBefore, u.PFCAfter)
	case u.Second.PID != 2 || u.Second.PPID != 0 || len(u.Second.NSpid) != 2:
		return fmt.Errorf("the second child says getpid() = %d, getppid() = %d, NSpid %v; want 2, 0 (its parent is outside) and two levels", u.Second.PID, u.Second.PPID, u.Second.NSpid)
	case u.SecondErr != "EINVAL":
		return fmt.Errorf("a second unshare(CLONE_NEWPID) on the same thread gave %s; want EINVAL", u.SecondErr)
	case u.AgainErr != "EINVAL":
		return fmt.Errorf("UnshareForChildren() called a second time on the same thread returned %s; want an error wrapping EINVAL, which the kernel gives while pid_for_children is already a new namespace: return unshare's error (with %%w)", lab.Or(u.AgainErr, "ok"))
	}
	return nil
}

func pidSet(pid, pfc ns.ID) ns.Set {
	pfc.Kind = ns.PIDForChildren
	pid.Kind = ns.PID
	return ns.Set{PID: ns.Self, IDs: map[ns.Kind]ns.ID{ns.PID: pid, ns.PIDForChildren: pfc}}
}

func checkNested(c *lab.Check, r nestedReport) error {
	for i, pids := range r.Levels {
		c.Say("level %d: NSpid %v, namespace %s", i+1, pids, r.LevelNS[i])
	}
	if len(r.Levels) > 0 {
		c.Say("Ancestry(%d) = %v", r.Levels[len(r.Levels)-1][0], r.Ancestry)
	}
	c.Say("NS_GET_PARENT of the runner's own PID namespace %s: %s", r.Own, r.OwnUp)
	c.Say("the runner's open files: %d before Ancestry, %d after", r.FDs[0], r.FDs[1])
	c.Say("Ancestry of a PID no process has: %s; with room for one more open file only: %s", lab.Or(r.MissingErr, "nil"), lab.Or(r.LimitedErr, "nil"))
	if err := judgeNested(r); err != nil {
		return c.Failf("%v", err)
	}
	// From outside: each level's namespace, and the runner's.
	host, err := c.Host()
	if err != nil {
		return err
	}
	if own, _ := host.Get(ns.PID); !own.Equal(r.Own) {
		return c.Failf("from outside, the runner is in %s; it read %s", own, r.Own)
	}
	cols := []lab.Column{{Title: fmt.Sprintf("runner (PID %d)", host.PID), Set: host}}
	for i, pids := range r.Levels {
		s, err := c.NS(pids[0])
		if err != nil {
			return fmt.Errorf("read the namespaces of level %d from outside: %w", i+1, err)
		}
		if id, _ := s.Get(ns.PID); !id.Equal(r.LevelNS[i]) {
			return c.Failf("from outside, level %d (PID %d) is in %s; the runner read %s", i+1, pids[0], id, r.LevelNS[i])
		}
		cols = append(cols, lab.Column{Title: fmt.Sprintf("level %d (PID %d)", i+1, pids[0]), Set: s})
	}
	c.Table(cols...)
	c.Check(true, "walked back from level %d to the runner's own namespace", depth)
	return nil
}

// judgeNested judges step 08.
func judgeNested(r nestedReport) error {
	if !r.OwnUpOutside {
		return fmt.Errorf("NS_GET_PARENT of the caller's own PID namespace: %s; want EPERM (ns.ErrOutsideScope)", lab.Or(r.OwnUp, "nil"))
	}
	if len(r.Levels) != depth || len(r.LevelNS) != depth {
		return fmt.Errorf("the lab saw %d levels; want %d", len(r.Levels), depth)
	}
	want := []ns.ID{r.Own}
	for _, id := range r.LevelNS {
		want = append([]ns.ID{id}, want...)
	}
	for i, pids := range r.Levels {
		if len(pids) != i+2 {
			return fmt.Errorf("level %d has NSpid %v; want %d PIDs, one per namespace from the lab host's down", i+1, pids, i+2)
		}
	}
	if !slices.EqualFunc(r.Ancestry, want, ns.ID.Equal) {
		return fmt.Errorf("Ancestry(deepest) = %v; want %v: the deepest level's PID namespace, each parent, and the caller's own last", r.Ancestry, want)
	}
	return judgeAncestryErrors(r)
}

// judgeAncestryErrors judges Ancestry's open files and its errors.
func judgeAncestryErrors(r nestedReport) error {
	switch {
	case r.FDs[1] != r.FDs[0]:
		return fmt.Errorf("the runner had %d open files before Ancestry(deepest) and %d after; want as many: close each handle once you have its parent (each open handle keeps its namespace alive)", r.FDs[0], r.FDs[1])
	case r.Missing != "ENOENT":
		return fmt.Errorf("Ancestry of a PID that no process has returned %s; want an error wrapping ENOENT: return ns.Open's error", lab.Or(r.MissingErr, "nil"))
	case r.Limited != "EMFILE":
		return fmt.Errorf("Ancestry(deepest) with room for one more open file only returned %s; want an error wrapping EMFILE, the kernel's answer to NS_GET_PARENT, which opens a file: only ns.ErrOutsideScope ends the walk without an error", lab.Or(r.LimitedErr, "nil"))
	}
	return nil
}
