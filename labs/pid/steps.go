//go:build linux

package pid

import (
	"github.com/nslab/nslab/pkg/lab"
)

// Lab is the PID lab, registered with pkg/lab.
var Lab = &lab.Lab{
	Name:    "pid",
	Title:   "PID namespaces: process IDs, init and nesting",
	Summary: "   A PID namespace numbers its processes from 1; its first process is its init, which nothing in it outlives.",
	Steps: []*lab.Step{
		{
			ID: "01", Slug: "new_namespace", Title: "The first process of a new PID namespace is PID 1", Points: 15,
			Explain: "clone(2) with CLONE_NEWPID: the child is PID 1 with parent 0 inside, and has its ordinary PID in its parent's namespace; NSpid in /proc/PID/status lists both.",
			Hints: []string{
				"Add ns.PID to the Config's New and call spawn.Start; do not release the child.",
				"NSpid is one line of /proc/PID/status: \"NSpid:\" then one PID per namespace, separated by tabs.",
				"strings.Lines, strings.CutPrefix(line, \"NSpid:\"), strings.Fields, strconv.Atoi; reject an empty line or a field that is not a positive number.",
			},
			Do: lab.Do(runNewNamespace, checkNewNamespace),
		},
		{
			ID: "02", Slug: "proc_mount", Title: "/proc shows the lab host until a new proc is mounted", Points: 10,
			Explain: "A proc mount shows the PID namespace of whoever mounted it; a child in a new PID namespace sees its parent's processes until it mounts its own.",
			Hints: []string{
				"mount(2) with source \"proc\", target \"/proc\", file system type \"proc\".",
				"unix.Mount(\"proc\", \"/proc\", \"proc\", unix.MS_NOSUID|unix.MS_NODEV|unix.MS_NOEXEC, \"\")",
			},
			Do: lab.Do(runProcMount, checkProcMount),
		},
		{
			ID: "03", Slug: "init_signals", Title: "Init ignores signals it has no handler for", Points: 15,
			Explain: "The kernel drops a signal sent to a namespace's init from inside unless init has a handler for it, SIGKILL included; from the parent namespace SIGKILL works.",
			Hints: []string{
				"/proc/PID/status has a line SigCgt: 16 hexadecimal digits, the signals the process has handlers for.",
				"StatusField(status, \"SigCgt\") and SigMask(value) read it; bit N-1 stands for signal N.",
				"mask&(1<<(uint(sig)-1)) != 0",
			},
			Do: lab.Do(runSignals, checkSignals),
		},
		{
			ID: "04", Slug: "orphans", Title: "Init adopts orphans and must reap them", Points: 15,
			Explain: "When a process exits, its children are re-parented to the namespace's init; once they end they stay zombies until init waits for them.",
			Hints: []string{
				"wait4(2) with PID -1 waits for any child, adopted ones included.",
				"unix.Wait4(-1, &ws, 0, nil) returns the PID; ws is a unix.WaitStatus.",
			},
			Do: lab.Do(runOrphans, checkOrphans),
		},
		{
			ID: "05", Slug: "init_death", Title: "When init dies, the whole namespace dies", Points: 10,
			Explain: "Killing a namespace's init makes the kernel kill every other process in it; none survives.",
			Hints: []string{
				"Every /proc/PID/ns/pid is a link to the PID namespace of PID; ns.Get(pid, ns.PID) reads it as an ns.ID.",
				"Walk os.ReadDir(\"/proc\"), keep the names that are numbers, compare with ID.Equal, skip errors (processes end while you look), sort.",
			},
			Do: lab.Do(runInitDeath, checkInitDeath),
		},
		{
			ID: "06", Slug: "no_escape", Title: "Inside, the parent's processes do not exist", Points: 10,
			Explain: "A process in a child PID namespace cannot name a process outside it: kill(2) with its parent's PID fails with ESRCH.",
			Hints: []string{
				"kill(2) with signal 0 checks whether a process exists and may be signalled, and sends nothing.",
				"return unix.Kill(pid, 0)",
			},
			Do: lab.Do(runNoEscape, checkNoEscape),
		},
		{
			ID: "07", Slug: "unshare", Title: "unshare(CLONE_NEWPID) changes only pid_for_children", Points: 10,
			Explain: "A process never changes its own PID namespace: unshare(2) gives a new one to the calling thread's next children, the first of which is its init.",
			Hints: []string{
				"unshare(2) with CLONE_NEWPID; it is allowed in a multithreaded process.",
				"unix.Unshare(unix.CLONE_NEWPID); the caller has locked the thread already.",
			},
			Do: lab.Do(runUnshare, checkUnshare),
		},
		{
			ID: "08", Slug: "nested", Title: "Nested PID namespaces, walked back to one's own", Points: 15,
			Explain: "PID namespaces nest: each has a parent, and NS_GET_PARENT leads from a deep one back to the caller's, beyond which the caller may not look.",
			Hints: []string{
				"ns.Open(pid, ns.PID) gives a Handle; Handle.Parent() is ioctl NS_GET_PARENT.",
				"Loop: append h.ID(), ask h.Parent(), close h; errors.Is(err, ns.ErrOutsideScope) ends the walk.",
			},
			Do: lab.Do(runNested, checkNested),
		},
	},
}

func init() { lab.Register(Lab) }
