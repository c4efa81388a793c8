//go:build linux

package pid

import (
	"os"
	"slices"
	"strings"
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
	parses(t, "SigMask", SigMask, []parseCase[uint64]{
		{name: "sleep", text: "0000000000000000", want: 0},
		{name: "go runtime", text: "fffffffffffffeff", want: 0xfffffffffffffeff},
		{name: "SIGTERM", text: "0000000000004000\n", want: 1 << 14},
		{name: "junk", text: "xyz", bad: true},
	})
}

// parseCase is a case of parses: want, or an error when bad.
type parseCase[T comparable] struct {
	name, text string
	want       T
	bad        bool
}

// parses checks parse (called what) on each case.
func parses[T comparable](t *testing.T, what string, parse func(string) (T, error), tests []parseCase[T]) {
	t.Helper()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parse(tt.text)
			if got != tt.want || (err != nil) != tt.bad {
				t.Errorf("%s(%q) = %+v, %v; want %+v, error %v", what, tt.text, got, err, tt.want, tt.bad)
			}
		})
	}
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
	parses(t, "parseStat", parseStat, []parseCase[procStat]{
		{name: "zombie", text: "11 (cat) Z 1 11 1 0 -1 4227084 0 0\n", want: procStat{Comm: "cat", State: 'Z', PPID: 1}},
		{name: "blanks and parens in comm", text: "5 (a (b) c) S 4 5 5 0", want: procStat{Comm: "a (b) c", State: 'S', PPID: 4}},
		{name: "no comm", text: "5 S 4", bad: true},
		{name: "short", text: "5 (x) S", bad: true},
		{name: "bad parent", text: "5 (x) S y", bad: true},
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

// judged runs a judge on a recorded report changed by edit, and checks
// that it passes (want "") or fails with want in its message.
func judged[R any](t *testing.T, judge func(R) error, base func() R, tests map[string]struct {
	edit func(*R)
	want string
}) {
	t.Helper()
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			r := base()
			if tt.edit != nil {
				tt.edit(&r)
			}
			failsWith(t, judge(r), tt.want)
		})
	}
}

// failsWith checks a judge's verdict: it passes (nil) where want is "",
// else it fails with want in its message.
func failsWith(t *testing.T, err error, want string) {
	t.Helper()
	switch {
	case want == "" && err != nil:
		t.Errorf("got %v; want it to pass", err)
	case want != "" && (err == nil || !strings.Contains(err.Error(), want)):
		t.Errorf("got %v; want an error with %q", err, want)
	}
}

type cases[R any] = map[string]struct {
	edit func(*R)
	want string
}

func TestJudgeNewNamespace(t *testing.T) {
	base := func() newNamespaceReport {
		return newNamespaceReport{PID: 13, Status: "NSpid:\t13\t1\n", Parsed: []int{13, 1}, Cases: goodParseCases(),
			Inside: whoami{PID: 1, PPID: 0, NSpid: []int{13, 1}}}
	}
	outside := func(o []int) func(newNamespaceReport) error {
		return func(r newNamespaceReport) error { return judgeNewNamespace(r, o) }
	}
	judged(t, outside([]int{13, 1}), base, cases[newNamespaceReport]{
		"recorded":          {},
		"not PID 1 inside":  {edit: func(r *newNamespaceReport) { r.Inside.PID, r.Inside.PPID = 13, 7 }, want: "want 1 and 0"},
		"parser took one":   {edit: func(r *newNamespaceReport) { r.Parsed = []int{13} }, want: "ParseNSpid of /proc/13/status"},
		"parser failed":     {edit: func(r *newNamespaceReport) { r.Parsed, r.ParseErr = nil, "boom" }, want: "boom"},
		"zero accepted":     {edit: func(r *newNamespaceReport) { r.Cases[5] = parseResult{Got: []int{7, 0}} }, want: "want an error (a zero PID)"},
		"negative accepted": {edit: func(r *newNamespaceReport) { r.Cases[6] = parseResult{Got: []int{-3, 1}} }, want: "a negative PID"},
		"nested wrong":      {edit: func(r *newNamespaceReport) { r.Cases[0] = parseResult{Got: []int{4242}} }, want: "(nested)"},
		"cases missing":     {edit: func(r *newNamespaceReport) { r.Cases = r.Cases[:2] }, want: "fixed texts"},
		"child's own nspid": {edit: func(r *newNamespaceReport) { r.Inside.NSpid = []int{13} }, want: "read by itself"},
		"format swapped": {edit: func(r *newNamespaceReport) {
			r.Cases[4] = parseResult{Err: "x%!(EXTRA string=parse NSpid: %q is not a PID)"}
		}, want: "fmt could not format"},
	})
	judged(t, outside([]int{13}), base, cases[newNamespaceReport]{
		"no new namespace from outside": {want: "read from outside"},
	})
}

func TestJudgeProcMount(t *testing.T) {
	base := func() procMountReport {
		return procMountReport{PID: 13, Runner: 7, procViews: procViews{
			Before: procView{Self: "13", Count: 3, PIDs: []int{1, 7, 13}, Has: true},
			After:  procView{Self: "1", Count: 1, PIDs: []int{1}},
		}, Refused: refusedMount{Errno: "EPERM", Err: "mount proc on /proc: operation not permitted"}}
	}
	judged(t, judgeProcMount, base, cases[procMountReport]{
		"recorded":        {},
		"refusal dropped": {edit: func(r *procMountReport) { r.Refused = refusedMount{Errno: "ok"} }, want: "want an error wrapping EPERM"},
		"errno lost":      {edit: func(r *procMountReport) { r.Refused.Errno = "mount proc: operation not permitted" }, want: "wrapping EPERM"},
		"mount failed":    {edit: func(r *procMountReport) { r.MountErr = "EPERM" }, want: "EPERM"},
		"bind mounted":    {edit: func(r *procMountReport) { r.After = r.Before }, want: "after MountProc, /proc/self is 13"},
		"own proc early":  {edit: func(r *procMountReport) { r.Before = r.After }, want: "before MountProc"},
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
	judged(t, judgeSignals, base, cases[signalsReport]{
		"recorded":            {},
		"no SigCgt, no error": {edit: func(r *signalsReport) { r.Fake[0].Errno, r.Fake[0].Err = "ok", "" }, want: "Catches(1, SIGTERM) for no SigCgt returned false, nil"},
		"bad mask, no error":  {edit: func(r *signalsReport) { r.Fake[1].Errno, r.Fake[1].Err = "ok", "" }, want: "want an error"},
		"missing, no error":   {edit: func(r *signalsReport) { r.Fake[2].Errno, r.Fake[2].Err = "ok", "" }, want: "want an error"},
		"missing, as text":    {edit: func(r *signalsReport) { r.Fake[2].Errno = "no such file" }, want: "wrapping ENOENT"},
		"fake not tried":      {edit: func(r *signalsReport) { r.Fake = nil }, want: "fake status files"},
		"SigIgn read":         {edit: func(r *signalsReport) { r.Box.BoxCatchTERM, r.Box.BoxCatchHUP = false, true }, want: "SigCgt, not SigIgn"},
		"bit off by one":      {edit: func(r *signalsReport) { r.Box.BoxCatchHUP = true }, want: "Catches(self, SIGHUP) = true"},
		"init catches":        {edit: func(r *signalsReport) { r.Box.InitCatchTERM = true }, want: "Catches(init, SIGTERM) = true"},
		"kill failed":         {edit: func(r *signalsReport) { r.Box.Sibling.Results["SIGKILL"] = "EPERM" }, want: "got EPERM from kill(1, SIGKILL)"},
		"init died":           {edit: func(r *signalsReport) { r.Box.AliveAfter, r.Box.StateAfter = false, "Z" }, want: "want it alive"},
		"survived SIGTERM":    {edit: func(r *signalsReport) { r.GoInitOut += "\nsurvived SIGTERM"; r.GoInitEnd = "status 0" }, want: "exit with status 2"},
		"sh died":             {edit: func(r *signalsReport) { r.ShOut = "" }, want: "want alive"},
		"not killed from out": {edit: func(r *signalsReport) { r.Box.KilledBy = "" }, want: "want killed by SIGKILL"},
	})
}

func TestJudgeOrphan(t *testing.T) {
	base := func() orphanReport {
		return orphanReport{InitPID: 13, PID: 13, PPID: 1, State: "Z", HostPID: 25, HostState: "Z", HostPPID: 13, Reaped: 13, Gone: true, HostGone: true,
			Running: 20, Waited: 20, NoChild: "ECHILD"}
	}
	judged(t, judgeOrphan, base, cases[orphanReport]{
		"recorded":          {},
		"WNOHANG, running":  {edit: func(r *orphanReport) { r.Waited, r.Early = 0, true }, want: "was still running"},
		"another reaped":    {edit: func(r *orphanReport) { r.Waited = 13 }, want: "once the running orphan 20 ended"},
		"ECHILD dropped":    {edit: func(r *orphanReport) { r.NoChild = "ok" }, want: "returned ok; want an error wrapping ECHILD"},
		"own process group": {edit: func(r *orphanReport) { r.NoChild = "EINVAL" }, want: "wrapping ECHILD"},
		"WNOHANG":           {edit: func(r *orphanReport) { r.Reaped, r.Gone, r.HostGone = 0, false, false }, want: "ReapOne() = 0"},
		"not adopted":       {edit: func(r *orphanReport) { r.PPID = 5 }, want: "want 1"},
		"not a zombie":      {edit: func(r *orphanReport) { r.HostState = "S" }, want: "want a zombie"},
		"still in /proc":    {edit: func(r *orphanReport) { r.HostGone = false }, want: "want both gone"},
	})
}

func TestJudgeInitDeath(t *testing.T) {
	base := func() initDeathReport {
		return initDeathReport{NS: ns.ID{Kind: ns.PID, Dev: 4, Inode: 4026532179}, InitPID: 998,
			Before: []int{998, 999, 1000, 1001, 1002}, BeforeLab: []int{998, 999, 1000, 1001, 1002}, InitEnd: "signal SIGKILL",
			NoProc: membersReport{Errno: "ENOENT", Err: "open /proc: no such file or directory"}}
	}
	judged(t, judgeInitDeath, base, cases[initDeathReport]{
		"recorded across a power of ten": {},
		"ReadDir error dropped":          {edit: func(r *initDeathReport) { r.NoProc = membersReport{Errno: "ok"} }, want: "want an error wrapping ENOENT"},
		"string order":                   {edit: func(r *initDeathReport) { r.Before = []int{1000, 1001, 1002, 998, 999} }, want: "in numeric order"},
		"one missed":                     {edit: func(r *initDeathReport) { r.Before = r.Before[1:] }, want: "Members("},
		"survivor":                       {edit: func(r *initDeathReport) { r.After = []int{1001} }, want: "want nobody"},
	})
}

func TestJudgeReach(t *testing.T) {
	base := func() reachReport {
		return reachReport{ChildPID: 13, reachView: reachView{Outside: "ESRCH", Self: "ok", Pidfd: "ESRCH", ProcBefore: true,
			SelfBefore: "10002", SelfAfter: "1", PIDsAfter: []int{1}, TasksAfter: []int{1, 2, 3, 4, 5, 6}, Target: 10000, PID: 1}}
	}
	judged(t, judgeReach, base, cases[reachReport]{
		"recorded":          {},
		"os.FindProcess":    {edit: func(r *reachReport) { r.Outside = "os: process already finished" }, want: "want ESRCH"},
		"ESRCH turned nil":  {edit: func(r *reachReport) { r.Outside = "ok" }, want: "want ESRCH"},
		"target inside too": {edit: func(r *reachReport) { r.PIDsAfter = []int{1, 10000} }, want: "could not tell"},
		"a thread's ID":     {edit: func(r *reachReport) { r.Target, r.Outside, r.Pidfd = 6, "ok", "ENOENT" }, want: "could not tell"},
		"not init":          {edit: func(r *reachReport) { r.PID = 2 }, want: "want 1"},
	})
}

func TestJudgeUnshare(t *testing.T) {
	own := ns.ID{Kind: ns.PID, Dev: 4, Inode: 1}
	base := func() unshareReport {
		return unshareReport{TID: 14, Threads: 5, PIDBefore: own, PIDAfter: own, PFCBefore: own,
			PFCAfter: ns.ID{Kind: ns.PIDForChildren, Dev: 4, Inode: 2}, PFCEarly: "ENOENT", SecondErr: "EINVAL", AgainErr: "EINVAL",
			InitPID: 20, Second: whoami{PID: 2, PPID: 0, NSpid: []int{21, 2}}}
	}
	judged(t, judgeUnshare, base, cases[unshareReport]{
		"recorded":           {},
		"with CLONE_NEWUSER": {edit: func(r *unshareReport) { r.UnshareErr = "EINVAL" }, want: "EINVAL"},
		"nothing unshared":   {edit: func(r *unshareReport) { r.PFCAfter = own }, want: "want a new one"},
		"second allowed":     {edit: func(r *unshareReport) { r.SecondErr = "ok" }, want: "want EINVAL"},
		"error dropped":      {edit: func(r *unshareReport) { r.AgainErr = "ok" }, want: "called a second time on the same thread returned ok"},
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
	judged(t, judgeNested, base, cases[nestedReport]{
		"recorded":                  {},
		"handles leaked":            {edit: func(r *nestedReport) { r.FDs[1] = 23 }, want: "18 open files before Ancestry(deepest) and 23 after"},
		"open error":                {edit: func(r *nestedReport) { r.Missing = "ok" }, want: "no process has returned nil"},
		"every error ends the walk": {edit: func(r *nestedReport) { r.Limited = "ok" }, want: "wrapping EMFILE"},
		"caller first":              {edit: func(r *nestedReport) { slices.Reverse(r.Ancestry) }, want: "Ancestry(deepest)"},
		"stopped short":             {edit: func(r *nestedReport) { r.Ancestry = r.Ancestry[:4] }, want: "Ancestry(deepest)"},
		"parent of own":             {edit: func(r *nestedReport) { r.OwnUpOutside = false }, want: "want EPERM"},
		"level too flat":            {edit: func(r *nestedReport) { r.Levels[2] = []int{25, 1} }, want: "level 3"},
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
			failsWith(t, judgeProcOptions(topMount(info+tt.top+"\n", "/proc")), tt.want)
		})
	}
}

func mkdir(path string) error { return os.Mkdir(path, 0o755) }
