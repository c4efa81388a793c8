//go:build linux

package pid

import (
	"os"
	"slices"
	"testing"

	"github.com/nslab/nslab/pkg/lab"
	"github.com/nslab/nslab/pkg/lab/labtest"
	"github.com/nslab/nslab/pkg/ns"
)

// TestLabShape checks the steps and the docs page (labtest.CheckLab), and
// that the lab is known by its name and test function.
func TestLabShape(t *testing.T) {
	labtest.CheckLab(t, Lab, 100)
	if got, err := lab.Get("pid"); err != nil || got != Lab {
		t.Errorf("lab.Get(\"pid\") = %v, %v; want the registered lab", got, err)
	}
	if Lab.TestFunc() != "TestPID" {
		t.Errorf("TestFunc() = %q, want TestPID", Lab.TestFunc())
	}
}

func TestStatusField(t *testing.T) {
	const status = "Name:\tcat\nState:\tS (sleeping)\nNSpid:\t4242\t1\nSigCgt:\t0000000000004002\n"
	tests := []struct {
		name, field, want string
		ok                bool
	}{
		{name: "nspid", field: "NSpid", want: "4242\t1", ok: true},
		{name: "state", field: "State", want: "S (sleeping)", ok: true},
		{name: "missing", field: "SigIgn"},
		{name: "prefix is not a field", field: "NS"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := StatusField(status, tt.field)
			if got != tt.want || ok != tt.ok {
				t.Errorf("StatusField(%q) = %q, %v; want %q, %v", tt.field, got, ok, tt.want, tt.ok)
			}
		})
	}
}

func TestSigMask(t *testing.T) {
	labtest.Parses(t, "SigMask", SigMask, []labtest.Parse[uint64]{
		{Name: "sleep", Text: "0000000000000000", Want: 0},
		{Name: "go runtime", Text: "fffffffffffffeff", Want: 0xfffffffffffffeff},
		{Name: "SIGTERM", Text: "0000000000004000\n", Want: 1 << 14},
		{Name: "junk", Text: "xyz", Bad: true},
	})
}

func TestHasSignal(t *testing.T) {
	const mask = 1<<14 | 1 // SIGTERM (15) and SIGHUP (1)
	for sig, want := range map[int]bool{15: true, 1: true, 14: false, 16: false, 2: false, 0: false, 65: false} {
		if got := hasSignal(mask, sig); got != want {
			t.Errorf("hasSignal(%#x, %d) = %v; want %v", mask, sig, got, want)
		}
	}
}

func TestParseStat(t *testing.T) {
	labtest.Parses(t, "parseStat", parseStat, []labtest.Parse[procStat]{
		{Name: "zombie", Text: "11 (cat) Z 1 11 1 0 -1 4227084 0 0\n", Want: procStat{Comm: "cat", State: 'Z', PPID: 1}},
		{Name: "blanks and parens in comm", Text: "5 (a (b) c) S 4 5 5 0", Want: procStat{Comm: "a (b) c", State: 'S', PPID: 4}},
		{Name: "no comm", Text: "5 S 4", Bad: true},
		{Name: "short", Text: "5 (x) S", Bad: true},
		{Name: "bad parent", Text: "5 (x) S y", Bad: true},
	})
}

// TestProcPIDsNumeric: /proc's names sorted as numbers, not as strings.
func TestProcPIDsNumeric(t *testing.T) {
	dir := t.TempDir()
	for _, name := range []string{"998", "1002", "9", "self", "10"} {
		if err := mkdir(dir + "/" + name); err != nil {
			t.Fatal(err)
		}
	}
	got, err := procPIDs(dir)
	if want := []int{9, 10, 998, 1002}; err != nil || !slices.Equal(got, want) {
		t.Errorf("procPIDs = %v, %v; want %v", got, err, want)
	}
}

// goodParseCases is what the reference ParseNSpid returns for nspidCases.
func goodParseCases() []parseResult {
	var out []parseResult
	for _, c := range nspidCases {
		if c.want == nil {
			out = append(out, parseResult{Err: "parse NSpid: bad"})
		} else {
			out = append(out, parseResult{Got: c.want})
		}
	}
	return out
}

func TestJudgeNewNamespace(t *testing.T) {
	base := func() newNamespaceReport {
		return newNamespaceReport{PID: 13, Status: "NSpid:\t13\t1\n", Parsed: []int{13, 1}, Cases: goodParseCases(),
			Inside: whoami{PID: 1, PPID: 0, NSpid: []int{13, 1}}}
	}
	outside := func(o []int) func(newNamespaceReport) error {
		return func(r newNamespaceReport) error { return judgeNewNamespace(r, o) }
	}
	labtest.Edits(t, base, outside([]int{13, 1}), []labtest.Edit[newNamespaceReport]{
		{Name: "recorded"},
		{Name: "not PID 1 inside", Change: func(r *newNamespaceReport) { r.Inside.PID, r.Inside.PPID = 13, 7 }, Want: "want 1 and 0"},
		{Name: "parser took one", Change: func(r *newNamespaceReport) { r.Parsed = []int{13} }, Want: "ParseNSpid of /proc/13/status"},
		{Name: "parser failed", Change: func(r *newNamespaceReport) { r.Parsed, r.ParseErr = nil, "boom" }, Want: "boom"},
		{Name: "zero accepted", Change: func(r *newNamespaceReport) { r.Cases[5] = parseResult{Got: []int{7, 0}} }, Want: "want an error (a zero PID)"},
		{Name: "negative accepted", Change: func(r *newNamespaceReport) { r.Cases[6] = parseResult{Got: []int{-3, 1}} }, Want: "a negative PID"},
		{Name: "nested wrong", Change: func(r *newNamespaceReport) { r.Cases[0] = parseResult{Got: []int{4242}} }, Want: "(nested)"},
		{Name: "cases missing", Change: func(r *newNamespaceReport) { r.Cases = r.Cases[:2] }, Want: "fixed texts"},
		{Name: "child's own nspid", Change: func(r *newNamespaceReport) { r.Inside.NSpid = []int{13} }, Want: "read by itself"},
		{Name: "format swapped", Change: func(r *newNamespaceReport) {
			r.Cases[4] = parseResult{Err: "x%!(EXTRA string=parse NSpid: %q is not a PID)"}
		}, Want: "fmt could not format"},
	})
	labtest.Edits(t, base, outside([]int{13}), []labtest.Edit[newNamespaceReport]{
		{Name: "no new namespace from outside", Want: "read from outside"},
	})
}

func TestJudgeProcMount(t *testing.T) {
	base := func() procMountReport {
		return procMountReport{PID: 13, Runner: 7, procViews: procViews{
			Before: procView{Self: "13", Count: 3, PIDs: []int{1, 7, 13}, Has: true},
			After:  procView{Self: "1", Count: 1, PIDs: []int{1}},
		}, Refused: refusedMount{Errno: "EPERM", Err: "mount proc on /proc: operation not permitted"}}
	}
	labtest.Edits(t, base, judgeProcMount, []labtest.Edit[procMountReport]{
		{Name: "recorded"},
		{Name: "refusal dropped", Change: func(r *procMountReport) { r.Refused = refusedMount{Errno: "ok"} }, Want: "want an error wrapping EPERM"},
		{Name: "errno lost", Change: func(r *procMountReport) { r.Refused.Errno = "mount proc: operation not permitted" }, Want: "wrapping EPERM"},
		{Name: "mount failed", Change: func(r *procMountReport) { r.MountErr = "EPERM" }, Want: "EPERM"},
		{Name: "bind mounted", Change: func(r *procMountReport) { r.After = r.Before }, Want: "after MountProc, /proc/self is 13"},
		{Name: "own proc early", Change: func(r *procMountReport) { r.Before = r.After }, Want: "before MountProc"},
	})
}

func TestJudgeSignals(t *testing.T) {
	base := func() signalsReport {
		return signalsReport{BoxPID: 13, Box: signalReport{InitPID: 19, BoxCatchTERM: true,
			Sibling:    killReport{PID: 2, Results: map[string]string{"SIGTERM": "ok", "SIGINT": "ok", "SIGHUP": "ok", "SIGKILL": "ok"}},
			AliveAfter: true, StateAfter: "S", KilledBy: "SIGKILL"},
			ShOut: "alive", GoInitOut: "pid 1 catches-SIGTERM true kill-KILL ok", GoInitEnd: "status 2",
			Fake: []fakeCatch{
				{PID: 1, What: "no SigCgt", Errno: "read /proc/1/status: no SigCgt line", Err: "read /proc/1/status: no SigCgt line"},
				{PID: 2, What: "not hex", Errno: "EINVAL", Err: "read /proc/2/status: signal mask: invalid syntax"},
				{PID: 3, What: "missing", Missing: true, Errno: "ENOENT", Err: "open /proc/3/status: no such file or directory"},
			}}
	}
	labtest.Edits(t, base, judgeSignals, []labtest.Edit[signalsReport]{
		{Name: "recorded"},
		{Name: "no SigCgt, no error", Change: func(r *signalsReport) { r.Fake[0].Errno, r.Fake[0].Err = "ok", "" }, Want: "Catches(1, SIGTERM) for no SigCgt returned false, nil"},
		{Name: "bad mask, no error", Change: func(r *signalsReport) { r.Fake[1].Errno, r.Fake[1].Err = "ok", "" }, Want: "want an error"},
		{Name: "missing, no error", Change: func(r *signalsReport) { r.Fake[2].Errno, r.Fake[2].Err = "ok", "" }, Want: "want an error"},
		{Name: "missing, as text", Change: func(r *signalsReport) { r.Fake[2].Errno = "no such file" }, Want: "wrapping ENOENT"},
		{Name: "fake not tried", Change: func(r *signalsReport) { r.Fake = nil }, Want: "fake status files"},
		{Name: "SigIgn read", Change: func(r *signalsReport) { r.Box.BoxCatchTERM, r.Box.BoxCatchHUP = false, true }, Want: "SigCgt, not SigIgn"},
		{Name: "bit off by one", Change: func(r *signalsReport) { r.Box.BoxCatchHUP = true }, Want: "Catches(self, SIGHUP) = true"},
		{Name: "init catches", Change: func(r *signalsReport) { r.Box.InitCatchTERM = true }, Want: "Catches(init, SIGTERM) = true"},
		{Name: "kill failed", Change: func(r *signalsReport) { r.Box.Sibling.Results["SIGKILL"] = "EPERM" }, Want: "got EPERM from kill(1, SIGKILL)"},
		{Name: "init died", Change: func(r *signalsReport) { r.Box.AliveAfter, r.Box.StateAfter = false, "Z" }, Want: "want it alive"},
		{Name: "survived SIGTERM", Change: func(r *signalsReport) { r.GoInitOut += "\nsurvived SIGTERM"; r.GoInitEnd = "status 0" }, Want: "exit with status 2"},
		{Name: "sh died", Change: func(r *signalsReport) { r.ShOut = "" }, Want: "want alive"},
		{Name: "not killed from out", Change: func(r *signalsReport) { r.Box.KilledBy = "" }, Want: "want killed by SIGKILL"},
	})
}

func TestJudgeOrphan(t *testing.T) {
	base := func() orphanReport {
		return orphanReport{InitPID: 13, PID: 13, PPID: 1, State: "Z", HostPID: 25, HostState: "Z", HostPPID: 13, Reaped: 13, Gone: true, HostGone: true,
			Running: 20, Waited: 20, NoChild: "ECHILD"}
	}
	labtest.Edits(t, base, judgeOrphan, []labtest.Edit[orphanReport]{
		{Name: "recorded"},
		{Name: "WNOHANG, running", Change: func(r *orphanReport) { r.Waited, r.Early = 0, true }, Want: "was still running"},
		{Name: "another reaped", Change: func(r *orphanReport) { r.Waited = 13 }, Want: "once the running orphan 20 ended"},
		{Name: "ECHILD dropped", Change: func(r *orphanReport) { r.NoChild = "ok" }, Want: "returned ok; want an error wrapping ECHILD"},
		{Name: "own process group", Change: func(r *orphanReport) { r.NoChild = "EINVAL" }, Want: "wrapping ECHILD"},
		{Name: "WNOHANG", Change: func(r *orphanReport) { r.Reaped, r.Gone, r.HostGone = 0, false, false }, Want: "ReapOne() = 0"},
		{Name: "not adopted", Change: func(r *orphanReport) { r.PPID = 5 }, Want: "want 1"},
		{Name: "not a zombie", Change: func(r *orphanReport) { r.HostState = "S" }, Want: "want a zombie"},
		{Name: "still in /proc", Change: func(r *orphanReport) { r.HostGone = false }, Want: "want both gone"},
	})
}

func TestJudgeInitDeath(t *testing.T) {
	base := func() initDeathReport {
		return initDeathReport{NS: ns.ID{Kind: ns.PID, Dev: 4, Inode: 4026532179}, InitPID: 998,
			Before: []int{998, 999, 1000, 1001, 1002}, BeforeLab: []int{998, 999, 1000, 1001, 1002}, InitEnd: "signal SIGKILL",
			NoProc: membersReport{Errno: "ENOENT", Err: "open /proc: no such file or directory"}}
	}
	labtest.Edits(t, base, judgeInitDeath, []labtest.Edit[initDeathReport]{
		{Name: "recorded across a power of ten"},
		{Name: "ReadDir error dropped", Change: func(r *initDeathReport) { r.NoProc = membersReport{Errno: "ok"} }, Want: "want an error wrapping ENOENT"},
		{Name: "string order", Change: func(r *initDeathReport) { r.Before = []int{1000, 1001, 1002, 998, 999} }, Want: "in numeric order"},
		{Name: "one missed", Change: func(r *initDeathReport) { r.Before = r.Before[1:] }, Want: "Members("},
		{Name: "survivor", Change: func(r *initDeathReport) { r.After = []int{1001} }, Want: "want nobody"},
	})
}

func TestJudgeReach(t *testing.T) {
	base := func() reachReport {
		return reachReport{ChildPID: 13, reachView: reachView{Outside: "ESRCH", Self: "ok", Pidfd: "ESRCH", ProcBefore: true,
			SelfBefore: "10002", SelfAfter: "1", PIDsAfter: []int{1}, TasksAfter: []int{1, 2, 3, 4, 5, 6}, Target: 10000, PID: 1}}
	}
	labtest.Edits(t, base, judgeReach, []labtest.Edit[reachReport]{
		{Name: "recorded"},
		{Name: "os.FindProcess", Change: func(r *reachReport) { r.Outside = "os: process already finished" }, Want: "want ESRCH"},
		{Name: "ESRCH turned nil", Change: func(r *reachReport) { r.Outside = "ok" }, Want: "want ESRCH"},
		{Name: "target inside too", Change: func(r *reachReport) { r.PIDsAfter = []int{1, 10000} }, Want: "could not tell"},
		{Name: "a thread's ID", Change: func(r *reachReport) { r.Target, r.Outside, r.Pidfd = 6, "ok", "ENOENT" }, Want: "could not tell"},
		{Name: "not init", Change: func(r *reachReport) { r.PID = 2 }, Want: "want 1"},
	})
}

func TestJudgeUnshare(t *testing.T) {
	own := ns.ID{Kind: ns.PID, Dev: 4, Inode: 1}
	base := func() unshareReport {
		return unshareReport{TID: 14, Threads: 5, PIDBefore: own, PIDAfter: own, PFCBefore: own,
			PFCAfter: ns.ID{Kind: ns.PIDForChildren, Dev: 4, Inode: 2}, PFCEarly: "ENOENT", SecondErr: "EINVAL", AgainErr: "EINVAL",
			InitPID: 20, Second: whoami{PID: 2, PPID: 0, NSpid: []int{21, 2}}}
	}
	labtest.Edits(t, base, judgeUnshare, []labtest.Edit[unshareReport]{
		{Name: "recorded"},
		{Name: "with CLONE_NEWUSER", Change: func(r *unshareReport) { r.UnshareErr = "EINVAL" }, Want: "EINVAL"},
		{Name: "nothing unshared", Change: func(r *unshareReport) { r.PFCAfter = own }, Want: "want a new one"},
		{Name: "second allowed", Change: func(r *unshareReport) { r.SecondErr = "ok" }, Want: "want EINVAL"},
		{Name: "error dropped", Change: func(r *unshareReport) { r.AgainErr = "ok" }, Want: "called a second time on the same thread returned ok"},
	})
}

func TestJudgeNested(t *testing.T) {
	id := func(n uint64) ns.ID { return ns.ID{Kind: ns.PID, Dev: 4, Inode: n} }
	base := func() nestedReport {
		return nestedReport{
			Levels:  [][]int{{13, 1}, {19, 7, 1}, {25, 13, 7, 1}, {31, 19, 13, 7, 1}},
			LevelNS: []ns.ID{id(11), id(12), id(13), id(14)}, Own: id(10), OwnUp: "EPERM", OwnUpOutside: true,
			Ancestry: []ns.ID{id(14), id(13), id(12), id(11), id(10)},
			FDs:      [2]int{18, 18}, Missing: "ENOENT", Limited: "EMFILE",
		}
	}
	labtest.Edits(t, base, judgeNested, []labtest.Edit[nestedReport]{
		{Name: "recorded"},
		{Name: "handles leaked", Change: func(r *nestedReport) { r.FDs[1] = 23 }, Want: "18 open files before Ancestry(deepest) and 23 after"},
		{Name: "open error", Change: func(r *nestedReport) { r.Missing = "ok" }, Want: "no process has returned nil"},
		{Name: "every error ends the walk", Change: func(r *nestedReport) { r.Limited = "ok" }, Want: "wrapping EMFILE"},
		{Name: "caller first", Change: func(r *nestedReport) { slices.Reverse(r.Ancestry) }, Want: "Ancestry(deepest)"},
		{Name: "stopped short", Change: func(r *nestedReport) { r.Ancestry = r.Ancestry[:4] }, Want: "Ancestry(deepest)"},
		{Name: "parent of own", Change: func(r *nestedReport) { r.OwnUpOutside = false }, Want: "want EPERM"},
		{Name: "level too flat", Change: func(r *nestedReport) { r.Levels[2] = []int{25, 1} }, Want: "level 3"},
	})
}

func TestJudgeProcOptions(t *testing.T) {
	const info = "22 1 0:20 / /proc rw,nosuid,nodev,noexec,relatime shared:5 - proc proc rw\n" +
		"40 22 0:21 / /proc/sys/fs/binfmt_misc rw,relatime - autofs systemd-1 rw\n"
	tests := []struct {
		name, top string // the line stacked on /proc; "" for none
		want      string
	}{
		{name: "as unshare --mount-proc", top: "300 22 0:60 / /proc rw,nosuid,nodev,noexec,relatime - proc proc rw"},
		{name: "flags and-ed", top: "300 22 0:60 / /proc rw,noexec,relatime - proc proc rw", want: "want a proc with nosuid"},
		{name: "no flags", top: "300 22 0:60 / /proc rw,relatime - proc proc rw", want: "nosuid"},
		{name: "a tmpfs", top: "300 22 0:60 / /proc rw,nosuid,nodev,noexec - tmpfs tmpfs rw", want: "\"tmpfs\""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			labtest.FailsWith(t, judgeProcOptions(topMount(info+tt.top+"\n", "/proc")), tt.want)
		})
	}
}

func mkdir(path string) error { return os.Mkdir(path, 0o755) }
