//go:build linux

package pid

import (
	"context"
	"fmt"
	"os"

	"github.com/nslab/nslab/pkg/lab"
	"github.com/nslab/nslab/pkg/ns"
)

// Lab is the PID lab, registered with pkg/lab.
var Lab = &lab.Lab{
	Name:    "pid",
	Title:   "PID namespaces: process IDs, init and nesting",
	Summary: "   A PID namespace numbers its processes from 1; its first process is its init, which nothing in it outlives.",
	Steps: []*lab.Step{
		{
			ID: "01", Slug: "new_namespace", Title: "The first process of a new PID namespace is PID 1", Points: 15,
			Explain: "clone(2) with CLONE_NEWPID: the child is PID 1 with parent 0 inside, and has its ordinary PID on the host; NSpid in /proc/PID/status lists both.",
			Hints: []string{
				"Add ns.PID to the Config's New and call spawn.Start; do not release the child.",
				"NSpid is one line of /proc/PID/status: \"NSpid:\" then one PID per namespace, separated by tabs.",
				"strings.Lines, strings.CutPrefix(line, \"NSpid:\"), strings.Fields, strconv.Atoi; reject an empty line or a field that is not a positive number.",
			},
			Run: runNewNamespace,
		},
		{
			ID: "02", Slug: "proc_mount", Title: "/proc shows the host until a new proc is mounted", Points: 10,
			Explain: "A proc mount shows the PID namespace of whoever mounted it; a child in a new PID namespace sees the host's processes until it mounts its own.",
			Hints: []string{
				"mount(2) with source \"proc\", target \"/proc\", file system type \"proc\".",
				"unix.Mount(\"proc\", \"/proc\", \"proc\", unix.MS_NOSUID|unix.MS_NODEV|unix.MS_NOEXEC, \"\")",
			},
			Run: runProcMount,
		},
		{
			ID: "03", Slug: "init_signals", Title: "Init ignores signals it has no handler for", Points: 15,
			Explain: "The kernel drops a signal sent to a namespace's init from inside unless init has a handler for it, SIGKILL included; from the parent namespace SIGKILL works.",
			Hints: []string{
				"/proc/PID/status has a line SigCgt: 16 hexadecimal digits, the signals the process has handlers for.",
				"StatusField(status, \"SigCgt\") and SigMask(value) read it; bit N-1 stands for signal N.",
				"mask&(1<<(uint(sig)-1)) != 0",
			},
			Run: runInitSignals,
		},
		{
			ID: "04", Slug: "orphans", Title: "Init adopts orphans and must reap them", Points: 15,
			Explain: "When a process exits, its children are re-parented to the namespace's init; once they end they stay zombies until init waits for them.",
			Hints: []string{
				"wait4(2) with PID -1 waits for any child, adopted ones included.",
				"unix.Wait4(-1, &ws, 0, nil) returns the PID; ws is a unix.WaitStatus.",
			},
			Run: runOrphans,
		},
		{
			ID: "05", Slug: "init_death", Title: "When init dies, the whole namespace dies", Points: 10,
			Explain: "Killing a namespace's init makes the kernel kill every other process in it; none survives.",
			Hints: []string{
				"Every /proc/PID/ns/pid is a link to the PID namespace of PID; ns.Get(pid, ns.PID) reads it as an ns.ID.",
				"Walk os.ReadDir(\"/proc\"), keep the names that are numbers, compare with ID.Equal, skip errors (processes end while you look), sort.",
			},
			Run: runInitDeath,
		},
		{
			ID: "06", Slug: "no_escape", Title: "Inside, host processes do not exist", Points: 10,
			Explain: "A process in a child PID namespace cannot name a process outside it: kill(2) with a host PID fails with ESRCH.",
			Hints: []string{
				"kill(2) with signal 0 checks whether a process exists and may be signalled, and sends nothing.",
				"return unix.Kill(pid, 0)",
			},
			Run: runNoEscape,
		},
		{
			ID: "07", Slug: "unshare", Title: "unshare(CLONE_NEWPID) changes only pid_for_children", Points: 10,
			Explain: "A process never changes its own PID namespace: unshare(2) gives a new one to the calling thread's next children, the first of which is its init.",
			Hints: []string{
				"unshare(2) with CLONE_NEWPID; it is allowed in a multithreaded process.",
				"unix.Unshare(unix.CLONE_NEWPID); the caller has locked the thread already.",
			},
			Run: runUnshare,
		},
		{
			ID: "08", Slug: "nested", Title: "Nested PID namespaces, walked back to one's own", Points: 15,
			Explain: "PID namespaces nest: each has a parent, and NS_GET_PARENT leads from a deep one back to the caller's, beyond which the caller may not look.",
			Hints: []string{
				"ns.Open(pid, ns.PID) gives a Handle; Handle.Parent() is ioctl NS_GET_PARENT.",
				"Loop: append h.ID(), ask h.Parent(), close h; errors.Is(err, ns.ErrOutsideScope) ends the walk.",
			},
			Run: runNested,
		},
	},
}

func init() { lab.Register(Lab) }

func runNewNamespace(ctx context.Context, n *lab.Narrator) error {
	r, err := RunNewNamespace(ctx)
	if err != nil {
		return err
	}
	n.Compare(r.Host, r.Child, "child")
	nspid, _ := StatusField(r.Status, "NSpid")
	n.Say("the host sees the child as PID %d; /proc/%d/status says NSpid: %s", r.HostPID, r.HostPID, nspid)
	n.Say("inside, the child says getpid() = %d, getppid() = %d", r.Inside.PID, r.Inside.PPID)
	return n.Expect(CheckNewNamespace(r) == nil, "PID 1 with parent 0 inside, PID %d outside: %v", r.HostPID, errOrOK(CheckNewNamespace(r)))
}

func runProcMount(ctx context.Context, n *lab.Narrator) error {
	r, err := RunProcMount(ctx)
	if err != nil {
		return err
	}
	n.Say("I am PID %d on the host", os.Getpid())
	n.Say("child, before MountProc: /proc/self -> %s, /proc lists %d PIDs, mine among them: %v", r.Before.Self, r.Before.Count, r.Before.Has)
	n.Say("child, after MountProc:  /proc/self -> %s, /proc lists %v", r.After.Self, r.After.PIDs)
	return n.Expect(CheckProcMount(r) == nil, "the fresh proc shows the child's namespace only: %v", errOrOK(CheckProcMount(r)))
}

func runInitSignals(ctx context.Context, n *lab.Narrator) error {
	r, err := RunSignals(ctx)
	if err != nil {
		return err
	}
	b := r.Box
	n.Say("init is sleep (PID %d on the host); Catches(init, SIGTERM) = %v, Catches(a Go program, SIGTERM) = %v", b.InitPID, b.InitCatchTERM, b.BoxCatchTERM)
	n.Say("a sibling, PID %d inside, sent PID 1: %v", b.Sibling.PID, b.Sibling.Results)
	n.Say("init afterwards: alive %v, state %s; sent SIGKILL from the parent namespace: ended by %s", b.AliveAfter, b.StateAfter, b.KilledBy)
	n.Say("sh as init, after kill -KILL $$; kill -TERM $$: %q", r.ShOut)
	n.Say("a Go program as init: %q, then %s (its runtime handles SIGTERM)", r.GoInitOut, r.GoInitEnd)
	return n.Expect(CheckSignals(r) == nil, "signals from inside are dropped unless init handles them: %v", errOrOK(CheckSignals(r)))
}

func runOrphans(ctx context.Context, n *lab.Narrator) error {
	r, err := RunOrphan(ctx)
	if err != nil {
		return err
	}
	n.Say("init is PID %d on the host; its child started cat (PID %d inside, %d on the host) and exited", r.InitPID, r.PID, r.HostPID)
	n.Say("cat's parent is now %d inside; after cat ended: state %s inside, %s with parent %d on the host", r.PPID, r.State, r.HostState, r.HostPPID)
	n.Say("ReapOne() = %d, status %d; /proc entry gone inside: %v, on the host: %v", r.Reaped, r.Status, r.Gone, r.HostGone)
	return n.Expect(CheckOrphan(r) == nil, "init adopted the orphan and reaped its zombie: %v", errOrOK(CheckOrphan(r)))
}

func runInitDeath(ctx context.Context, n *lab.Narrator) error {
	r, err := RunInitDeath(ctx)
	if err != nil {
		return err
	}
	n.Say("namespace %s: init is PID %d; Members = %v (the lab's scan: %v)", r.NS, r.InitPID, r.Before, r.BeforeLab)
	n.Say("kill -KILL %d from the host: init ended by %s", r.InitPID, r.InitEnd)
	n.Say("afterwards: Members = %v (the lab's scan: %v)", r.After, r.AfterLab)
	return n.Expect(CheckInitDeath(r) == nil, "nothing survives its init: %v", errOrOK(CheckInitDeath(r)))
}

func runNoEscape(ctx context.Context, n *lab.Narrator) error {
	r, err := RunReach(ctx)
	if err != nil {
		return err
	}
	n.Say("inside (PID %d): Reach(%d), the host process = %s; pidfd_open(%d) = %s; Reach(1) = %s", r.PID, r.HostPID, r.Host, r.HostPID, r.Pidfd, r.Self)
	n.Say("/proc/%d inside: %v with the host's proc, %v with a fresh one", r.HostPID, r.ProcBefore, r.ProcAfter)
	return n.Expect(CheckReach(r) == nil, "the host's PIDs mean nothing inside: %v", errOrOK(CheckReach(r)))
}

func runUnshare(ctx context.Context, n *lab.Narrator) error {
	r, err := RunUnshare(ctx)
	if err != nil {
		return err
	}
	u := r.Report
	n.Table(lab.Column{Title: "thread before", Set: pidSet(u.PIDBefore, u.PFCBefore)}, lab.Column{Title: "thread after", Set: pidSet(u.PIDAfter, u.PFCAfter)})
	n.Say("a Go program of %d threads: UnshareForChildren() on thread %d; a second unshare: %s", u.Threads, u.TID, u.SecondErr)
	n.Say("pid_for_children before the first child existed: %s (the kernel shows it once the namespace has an init)", u.PFCEarly)
	n.Say("its first child (PID %d on the host) is in %s; the second says getpid() = %d, getppid() = %d", u.InitPID, r.InitNS, u.Second.PID, u.Second.PPID)
	return n.Expect(CheckUnshare(r) == nil, "only pid_for_children changed: %v", errOrOK(CheckUnshare(r)))
}

func pidSet(pid, pfc ns.ID) ns.Set {
	pfc.Kind = ns.PIDForChildren
	pid.Kind = ns.PID
	return ns.Set{PID: ns.Self, IDs: map[ns.Kind]ns.ID{ns.PID: pid, ns.PIDForChildren: pfc}}
}

func runNested(ctx context.Context, n *lab.Narrator) error {
	r, err := RunNested(ctx)
	if err != nil {
		return err
	}
	for i, pids := range r.Levels {
		n.Say("level %d: NSpid %v, namespace %s", i+1, pids, r.LevelNS[i])
	}
	n.Say("Ancestry(%d) = %v", r.Levels[len(r.Levels)-1][0], r.Ancestry)
	n.Say("NS_GET_PARENT of my own PID namespace %s: %v", r.Own, r.OwnUp)
	return n.Expect(CheckNested(r) == nil, "walked back from level %d to my own namespace: %v", Depth, errOrOK(CheckNested(r)))
}

func errOrOK(err error) string {
	if err == nil {
		return "yes"
	}
	return fmt.Sprint(err)
}
