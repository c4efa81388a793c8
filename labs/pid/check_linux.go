//go:build linux

package pid

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/nslab/nslab/pkg/lab"
	"github.com/nslab/nslab/pkg/ns"
)

// The Check functions say what the kernel was expected to do and what the
// step saw instead; nil means the step's facts are right. Steps narrate
// them, the graded tests fail with them.

// nspidCases are the texts ParseNSpid is graded on: a line from a process
// two levels down, one on the host, and broken ones.
var nspidCases = []struct {
	name, status string
	want         []int
}{
	{"nested", "Name:\tsleep\nPid:\t4242\nNSpid:\t4242\t17\t1\nNSpgid:\t4242\t17\t1\n", []int{4242, 17, 1}},
	{"host", "Tgid:\t99\nNSpid:\t99\n", []int{99}},
	{"no line", "Name:\tsleep\nPid:\t1\n", nil},
	{"empty line", "NSpid:\t\nPid:\t1\n", nil},
	{"not a number", "NSpid:\t12\tx\n", nil},
}

// CheckParseNSpid runs ParseNSpid on texts with known answers.
func CheckParseNSpid() error {
	for _, c := range nspidCases {
		got, err := ParseNSpid(c.status)
		if c.want == nil && err == nil {
			return fmt.Errorf("ParseNSpid(%q) = %v, nil; want an error (%s)", c.status, got, c.name)
		}
		if c.want != nil && (err != nil || !slices.Equal(got, c.want)) {
			return fmt.Errorf("ParseNSpid(%q) = %v, %v; want %v (%s)", c.status, got, err, c.want, c.name)
		}
	}
	return nil
}

// CheckNewNamespace checks step 01.
func CheckNewNamespace(r NewNamespace) error {
	if err := lab.CheckNewKinds(r.Host, r.Child, ns.PID); err != nil {
		return err
	}
	if r.Inside.PID != 1 || r.Inside.PPID != 0 {
		return fmt.Errorf("inside, getpid() = %d and getppid() = %d; want 1 and 0: the first process of a new PID namespace is its init, and its parent lies outside", r.Inside.PID, r.Inside.PPID)
	}
	want := []int{r.HostPID, 1}
	if !slices.Equal(r.Inside.NSpid, want) {
		return fmt.Errorf("the child's NSpid line, read by itself through the host's /proc, is %v; want %v", r.Inside.NSpid, want)
	}
	got, err := ParseNSpid(r.Status)
	if err != nil || !slices.Equal(got, want) {
		return fmt.Errorf("ParseNSpid of /proc/%d/status = %v, %v; want %v (the host's PID, then the PID inside)", r.HostPID, got, err, want)
	}
	return CheckParseNSpid()
}

// CheckProcMount checks step 02.
func CheckProcMount(r ProcViews) error {
	switch {
	case r.Before.Self == "1" || !r.Before.Has || r.Before.Count < 2:
		return fmt.Errorf("before MountProc, /proc/self was %s and /proc listed %d PIDs (the caller's: %v); want the host's view: /proc belongs to the host's PID namespace until a new one is mounted", r.Before.Self, r.Before.Count, r.Before.Has)
	case r.MountErr != "":
		return fmt.Errorf("MountProc() in a child with new PID and mount namespaces: %s", r.MountErr)
	case r.After.Self != "1" || !slices.Equal(r.After.PIDs, []int{1}) || r.After.Has:
		return fmt.Errorf("after MountProc, /proc/self is %s and /proc lists %v (%d PIDs, the caller's: %v); want 1 and [1]: a proc mounted from inside shows the new namespace only (fstype proc, on /proc?)", r.After.Self, r.After.PIDs, r.After.Count, r.After.Has)
	}
	return nil
}

// CheckSignals checks step 03.
func CheckSignals(r Signals) error {
	b := r.Box
	switch {
	case b.CatchesErr != "":
		return fmt.Errorf("Catches: %s", b.CatchesErr)
	case b.InitCatchTERM:
		return fmt.Errorf("Catches(init, SIGTERM) = true for sleep, which has no handler; want false (SigCgt, bit N-1 for signal N)")
	case !b.BoxCatchTERM:
		return fmt.Errorf("Catches(self, SIGTERM) = false for a Go program, whose runtime catches SIGTERM; want true (SigCgt, not SigIgn or SigBlk)")
	}
	for sig, res := range b.Sibling.Results {
		if res != "ok" {
			return fmt.Errorf("a sibling (PID %d) got %s from kill(1, %s); want success: the kernel accepts the call and drops the signal", b.Sibling.PID, res, sig)
		}
	}
	switch {
	case !b.AliveAfter || b.StateAfter == "Z":
		return fmt.Errorf("init ended (state %q) after a sibling sent it %v; want it alive: init ignores signals it has no handler for, SIGKILL from inside included", b.StateAfter, keys(b.Sibling.Results))
	case b.KilledBy != "SIGKILL":
		return fmt.Errorf("init, sent SIGKILL from the parent namespace, ended %s %s; want killed by SIGKILL", b.KilledBy, b.WaitAfterError)
	case r.ShOut != "alive":
		return fmt.Errorf("sh as init, after kill -KILL $$ and kill -TERM $$, printed %q; want alive", r.ShOut)
	case !strings.Contains(r.GoInitOut, "catches-SIGTERM true kill-KILL ok") || r.GoInitEnd != "status 2":
		return fmt.Errorf("a Go init that sends itself SIGKILL, then SIGTERM, said %q and ended with %s; want it to survive SIGKILL, and its runtime's SIGTERM handler to make it exit with status 2", r.GoInitOut, r.GoInitEnd)
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

// CheckOrphan checks step 04.
func CheckOrphan(r Orphan) error {
	switch {
	case r.PPID != 1:
		return fmt.Errorf("after its parent exited, the orphan's parent is %d inside; want 1, the namespace's init", r.PPID)
	case r.State != "Z" || r.HostState != "Z" || r.HostPPID != r.InitPID:
		return fmt.Errorf("the orphan that ended was in state %q inside, %q with parent %d from the host (%s); want a zombie (Z) of init (PID %d on the host)", r.State, r.HostState, r.HostPPID, r.HostErr, r.InitPID)
	case r.Reaped != r.PID || r.Status != 0:
		return fmt.Errorf("ReapOne() = %d, status %d; want the orphan, %d, status 0 (wait4(-1, ...) reaps any child)", r.Reaped, r.Status, r.PID)
	case !r.Gone || !r.HostGone:
		return fmt.Errorf("after ReapOne, /proc/%d inside gone: %v, /proc/%d on the host gone: %v; want both gone", r.PID, r.Gone, r.HostPID, r.HostGone)
	}
	return nil
}

// CheckInitDeath checks step 05: init, two children, a shell and its child.
func CheckInitDeath(r InitDeath) error {
	switch {
	case len(r.BeforeLab) != 5:
		return fmt.Errorf("the lab found %v in %s; want 5 processes (init, two sleeps, sh and its child)", r.BeforeLab, r.NS)
	case !slices.Equal(r.Before, r.BeforeLab):
		return fmt.Errorf("Members(%s) = %v; want %v (every /proc/PID/ns/pid that is this namespace, sorted)", r.NS, r.Before, r.BeforeLab)
	case r.InitEnd != "signal SIGKILL":
		return fmt.Errorf("init ended with %s; want killed by SIGKILL", r.InitEnd)
	case len(r.After) != 0 || len(r.AfterLab) != 0:
		return fmt.Errorf("after init was killed, Members = %v and the lab found %v; want nobody: the kernel kills every process of a namespace whose init dies", r.After, r.AfterLab)
	}
	return nil
}

// CheckReach checks step 06.
func CheckReach(r ReachReport) error {
	switch {
	case r.Self != "ok":
		return fmt.Errorf("inside, Reach(1) = %s; want ok: a process may signal itself", r.Self)
	case r.Host != "ESRCH" || r.Pidfd != "ESRCH":
		return fmt.Errorf("inside, Reach(%d) (the host process) = %s and pidfd_open = %s; want ESRCH for both: the PID means nothing in the child's namespace", r.HostPID, r.Host, r.Pidfd)
	case r.MountErr != "":
		return fmt.Errorf("mount a fresh /proc inside: %s", r.MountErr)
	case !r.ProcBefore || r.ProcAfter || r.SelfAfter != "1":
		return fmt.Errorf("/proc/%d inside: %v with the host's proc, %v with a fresh one (/proc/self %s); want true, then false, 1", r.HostPID, r.ProcBefore, r.ProcAfter, r.SelfAfter)
	}
	return nil
}

// CheckUnshare checks step 07.
func CheckUnshare(r Unshare) error {
	u := r.Report
	switch {
	case u.UnshareErr != "":
		return fmt.Errorf("UnshareForChildren() in a Go program with %d threads: %s; want success (CLONE_NEWPID, unlike CLONE_NEWUSER, is allowed in a multithreaded process)", u.Threads, u.UnshareErr)
	case !u.PIDAfter.Equal(u.PIDBefore) || !r.BoxNS.Equal(r.HostPID):
		return fmt.Errorf("the thread's pid namespace went from %s to %s (the host reads %s); want it unchanged: a process never changes its own PID namespace", u.PIDBefore, u.PIDAfter, r.BoxNS)
	case u.PFCAfter.Equal(u.PFCBefore) || !r.TaskPFC.Equal(u.PFCAfter):
		return fmt.Errorf("the thread's pid_for_children went from %s to %s (the host reads %s); want a new one", u.PFCBefore, u.PFCAfter, r.TaskPFC)
	case !r.InitNS.Equal(u.PFCAfter):
		return fmt.Errorf("the first child of the thread is in %s; want %s, the thread's pid_for_children", r.InitNS, u.PFCAfter)
	case u.Second.PID != 2 || u.Second.PPID != 0 || len(u.Second.NSpid) != 2:
		return fmt.Errorf("the second child says getpid() = %d, getppid() = %d, NSpid %v; want 2, 0 (its parent is outside) and two levels", u.Second.PID, u.Second.PPID, u.Second.NSpid)
	case u.SecondErr != "EINVAL":
		return fmt.Errorf("a second unshare(CLONE_NEWPID) on the same thread gave %s; want EINVAL", u.SecondErr)
	}
	return nil
}

// CheckNested checks step 08.
func CheckNested(r Nested) error {
	if !errors.Is(r.OwnUp, ns.ErrOutsideScope) {
		return fmt.Errorf("NS_GET_PARENT of the caller's own PID namespace: %v; want EPERM (ns.ErrOutsideScope)", r.OwnUp)
	}
	want := []ns.ID{r.Own}
	for _, id := range r.LevelNS {
		want = append([]ns.ID{id}, want...)
	}
	for i, pids := range r.Levels {
		if len(pids) != i+2 {
			return fmt.Errorf("level %d has NSpid %v; want %d PIDs, one per namespace from the host's down", i+1, pids, i+2)
		}
	}
	if !slices.EqualFunc(r.Ancestry, want, ns.ID.Equal) {
		return fmt.Errorf("Ancestry(deepest) = %v; want %v: the deepest level's PID namespace, each parent, and the caller's own last", r.Ancestry, want)
	}
	return nil
}
