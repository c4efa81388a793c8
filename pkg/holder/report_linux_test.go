package holder_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/nslab/nslab/pkg/holder"
	"github.com/nslab/nslab/pkg/lab"
	"github.com/nslab/nslab/pkg/spawn"
)

const reporter = "holdertest.reporter"

func init() { spawn.Register(reporter, reporterMain) }

// said is a reporter's report.
type said struct {
	PID  int
	Args []string
}

// reporterMain: args[0] is what to do: report (then hold), lines (two of
// text, then hold), garbage (a line that is not JSON, then hold), die
// (before reporting), todo (an unwritten step).
func reporterMain(args []string) int {
	if len(args) == 0 {
		fmt.Fprintln(os.Stderr, "usage: holdertest.reporter report|lines|garbage|die|todo [ARG...]")
		return 2
	}
	switch args[0] {
	case "report":
		return holder.ReportAndHold(said{PID: os.Getpid(), Args: args[1:]})
	case "lines":
		fmt.Println("one")
		fmt.Println("two")
		return holder.ReportAndHold("three")
	case "garbage":
		fmt.Println("not json")
		return holder.ReportAndHold(nil)
	case "die":
		fmt.Fprintln(os.Stderr, "reporter: gave up before reporting")
		return 4
	case "todo":
		panic(lab.TODO("holdertest", "02"))
	}
	fmt.Fprintf(os.Stderr, "usage: holdertest.reporter: unknown %q\n", args[0])
	return 2
}

// startReporter starts a held reporter doing args, stopped when t ends.
func startReporter(t *testing.T, args ...string) *holder.Holder {
	t.Helper()
	h, err := holder.StartWith(t.Context(), spawn.Config{Entrypoint: reporter, Args: args}, spawn.Start)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(h.Stop)
	return h
}

// alive reports whether pid is a process that has not ended (not a zombie).
func alive(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	_, rest, _ := strings.Cut(string(b), ") ")
	return rest != "" && rest[0] != 'Z' && rest[0] != 'X'
}

// openFDs counts the test's open file descriptors.
func openFDs(t *testing.T) int {
	t.Helper()
	entries, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	return len(entries)
}

// leavesNoPipe runs fn (a call of what) and checks that the test has as
// many open files after it as before.
func leavesNoPipe(t *testing.T, what string, fn func()) {
	t.Helper()
	before := openFDs(t)
	fn()
	if after := openFDs(t); after != before {
		t.Errorf("%d open files before %s, %d after; want no pipe left", before, what, after)
	}
}

func TestReportHoldsTheChild(t *testing.T) {
	h := startReporter(t, "report", "a b")
	if c := h.Child(); c == nil || c.Released() || c.PID() != h.PID() {
		t.Fatalf("Child() = %v before Report; want the held spawn child, PID %d", c, h.PID())
	}
	var r said
	if err := h.Report(&r); err != nil {
		t.Fatal(err)
	}
	if r.PID != h.PID() || len(r.Args) != 1 || r.Args[0] != "a b" {
		t.Errorf("Report = %+v; want PID %d and args [a b]", r, h.PID())
	}
	if !alive(h.PID()) {
		t.Errorf("PID %d ended after its report; want it held until its input closes", h.PID())
	}
	if set, err := h.Namespaces(); err != nil || set.PID != h.PID() {
		t.Errorf("Namespaces() = PID %d, %v; want the reporter's, PID %d", set.PID, err, h.PID())
	}
	if err := h.Close(); err != nil {
		t.Errorf("Close() = %v; want nil: ReportAndHold returns 0 at the end of its input", err)
	}
	if alive(h.PID()) || h.Child() != nil {
		t.Errorf("PID %d alive, or Child() not nil, after Close", h.PID())
	}
	if err := h.Report(&r); err == nil {
		t.Error("Report after Close worked; want an error")
	}
}

func TestStopEndsAHeldReporter(t *testing.T) {
	h := startReporter(t, "report")
	if err := h.Report(new(said)); err != nil {
		t.Fatal(err)
	}
	h.Stop()
	if alive(h.PID()) {
		t.Errorf("PID %d alive after Stop", h.PID())
	}
	h.Stop() // twice is harmless
}

func TestNextReadsLines(t *testing.T) {
	h := startReporter(t, "lines")
	if err := h.Release(); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"one", "two", `"three"`} {
		if got, err := h.Next(); got != want || err != nil {
			t.Errorf("Next() = %q, %v; want %q", got, err, want)
		}
	}
	if !alive(h.PID()) {
		t.Errorf("PID %d ended after its lines; want it held", h.PID())
	}
}

// A start function that returns no child and no error is the learner's
// mistake: StartWith says so, and leaks no pipe.
func TestStartWithNilChildNilError(t *testing.T) {
	leavesNoPipe(t, "StartWith", func() {
		h, err := holder.StartWith(t.Context(), spawn.Config{Entrypoint: reporter, Args: []string{"report"}},
			func(context.Context, spawn.Config) (*spawn.Child, error) { return nil, nil })
		if h != nil || !errors.Is(err, holder.ErrNoChild) || !strings.Contains(err.Error(), "no child and no error") {
			t.Errorf("StartWith(nil, nil) = %v, %v; want ErrNoChild", h, err)
		}
	})
}

// A child that start returned with an error is stopped, not left held.
func TestStartWithChildAndError(t *testing.T) {
	var started *spawn.Child
	failed := errors.New("the start function failed after spawn.Start")
	_, err := holder.StartWith(t.Context(), spawn.Config{Entrypoint: reporter, Args: []string{"report"}},
		func(ctx context.Context, cfg spawn.Config) (*spawn.Child, error) {
			c, err := spawn.Start(ctx, cfg)
			if err != nil {
				t.Fatal(err)
			}
			started = c
			return c, failed
		})
	if !errors.Is(err, failed) {
		t.Errorf("StartWith = %v; want the start function's error", err)
	}
	if alive(started.PID()) {
		t.Errorf("PID %d, returned with an error, still alive; want it stopped", started.PID())
	}
}

func TestStartWithPassesStartErrors(t *testing.T) {
	_, err := holder.StartWith(t.Context(), spawn.Config{Entrypoint: "holdertest.nonexistent"}, spawn.Start)
	if err == nil || !strings.Contains(err.Error(), "holdertest.nonexistent") {
		t.Errorf("StartWith(an unregistered entrypoint) = %v; want spawn.Start's error", err)
	}
}

// A child that ends before it reports: the error has its exit status and
// its stderr, and the child is reaped.
func TestReportOfADeadChild(t *testing.T) {
	for _, tc := range []struct {
		do     string
		code   int
		stderr string
	}{
		{do: "die", code: 4, stderr: "reporter: gave up before reporting"},
		{do: "todo", code: 3, stderr: "holdertest step 02 is not written yet"},
	} {
		t.Run(tc.do, func(t *testing.T) {
			h := startReporter(t, tc.do)
			err := h.Report(new(said))
			var ee *spawn.ExitError
			if !errors.As(err, &ee) || ee.Code != tc.code {
				t.Fatalf("Report() = %v; want a *spawn.ExitError with status %d", err, tc.code)
			}
			want := fmt.Sprintf("PID %d ended without a report: %s", h.PID(), tc.stderr)
			if !strings.Contains(err.Error(), want) {
				t.Errorf("Report() = %q; want %q in it", err, want)
			}
			if !strings.Contains(h.Stderr(), tc.stderr) {
				t.Errorf("Stderr() = %q; want %q", h.Stderr(), tc.stderr)
			}
			if alive(h.PID()) {
				t.Errorf("PID %d not reaped", h.PID())
			}
			if _, err := h.Next(); err == nil {
				t.Error("Next on a dead reporter worked; want an error")
			}
		})
	}
}

func TestReportThatIsNotJSON(t *testing.T) {
	h := startReporter(t, "garbage")
	err := h.Report(new(said))
	if err == nil || !strings.Contains(err.Error(), `"not json"`) || !strings.Contains(err.Error(), fmt.Sprint(h.PID())) {
		t.Errorf("Report() = %v; want an error quoting the line and naming PID %d", err, h.PID())
	}
}

// reporterCommand is a reporter doing args as a command, not started.
func reporterCommand(t *testing.T, args ...string) *exec.Cmd {
	t.Helper()
	cmd, err := spawn.EntrypointCommand(reporter, args)
	if err != nil {
		t.Fatal(err)
	}
	return cmd
}

func TestStartCommand(t *testing.T) {
	h, err := holder.StartCommand(reporterCommand(t, "report", "x"), (*exec.Cmd).Start)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(h.Stop)
	if h.Child() != nil {
		t.Errorf("Child() of a command = %v; want nil", h.Child())
	}
	var r said
	if err := h.Report(&r); err != nil || r.PID != h.PID() {
		t.Fatalf("Report() = %+v, %v; want the report of PID %d", r, err, h.PID())
	}
	if !alive(h.PID()) {
		t.Errorf("PID %d ended after its report; want it held", h.PID())
	}
	if err := h.Close(); err != nil {
		t.Errorf("Close() = %v; want nil: the command ends with status 0 at the end of its input", err)
	}
	if alive(h.PID()) {
		t.Errorf("PID %d alive after Close", h.PID())
	}
}

func TestStartCommandThatDies(t *testing.T) {
	h, err := holder.StartCommand(reporterCommand(t, "die"), (*exec.Cmd).Start)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(h.Stop)
	err = h.Report(new(said))
	var ee *spawn.ExitError
	if !errors.As(err, &ee) || ee.Code != 4 || ee.PID != h.PID() || ee.What != "entrypoint "+reporter {
		t.Fatalf("Report() = %#v; want a *spawn.ExitError of %s, PID %d, status 4", err, reporter, h.PID())
	}
	if !strings.Contains(err.Error(), "gave up before reporting") {
		t.Errorf("Report() = %q; want its stderr in it", err)
	}
}

func TestStartCommandNotStarted(t *testing.T) {
	leavesNoPipe(t, "StartCommand", func() {
		h, err := holder.StartCommand(reporterCommand(t, "report"), func(*exec.Cmd) error { return nil })
		if h != nil || !errors.Is(err, holder.ErrNotStarted) {
			t.Errorf("StartCommand(a start that starts nothing) = %v, %v; want ErrNotStarted", h, err)
		}
	})
}

// A command that does not end at the end of its input is killed.
func TestStopKillsAStubbornCommand(t *testing.T) {
	h, err := holder.StartCommand(exec.Command("sleep", "100"), (*exec.Cmd).Start)
	if err != nil {
		t.Fatal(err)
	}
	h.Stop()
	if alive(h.PID()) {
		t.Errorf("sleep, PID %d, alive after Stop", h.PID())
	}
}
