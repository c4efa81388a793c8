//go:build linux

package lab_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	osexec "os/exec"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/nslab/nslab/pkg/lab"
	"github.com/nslab/nslab/pkg/labhost"
	"github.com/nslab/nslab/pkg/ns"
	"github.com/nslab/nslab/pkg/spawn"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"
)

func TestMain(m *testing.M) {
	spawn.Init()
	os.Exit(m.Run())
}

// Seen is the demo steps' report.
type Seen struct {
	PID  int
	Note string
}

func ok(ctx context.Context, _ *lab.Cleanup) (Seen, error) { return Seen{Note: "fine"}, nil }

func noteIs(want string) func(*lab.Check, Seen) error {
	return func(c *lab.Check, r Seen) error {
		if r.Note != want {
			return c.Failf("note %q; want %q", r.Note, want)
		}
		c.Check(true, "note %q", r.Note)
		return nil
	}
}

// held starts a child in a new UTS namespace and leaves it held for the check.
func held(ctx context.Context, cleanup *lab.Cleanup) (Seen, error) {
	child, err := spawn.Start(ctx, spawn.Config{New: []ns.Kind{ns.UTS}, Args: []string{"true"}})
	if err != nil {
		return Seen{}, err
	}
	cleanup.Add(func() { child.Stop() })
	return Seen{PID: child.PID()}, nil
}

func checkHeld(c *lab.Check, r Seen) error { return c.NewKindsOnly(r.PID, "child", ns.UTS) }

func step(id, slug string, sc lab.Scenario) *lab.Step {
	return &lab.Step{ID: id, Slug: slug, Title: slug, Points: 1, Explain: slug, Hints: []string{slug}, Do: sc}
}

var demo = &lab.Lab{Name: "demo", Title: "The harness's own test lab", Steps: []*lab.Step{
	step("01", "pass", lab.Do(ok, noteIs("fine"))),
	step("02", "todo", lab.Do(func(context.Context, *lab.Cleanup) (Seen, error) { panic(lab.TODO("demo", "02")) }, noteIs(""))),
	step("03", "wrong", lab.Do(ok, noteIs("other"))),
	step("04", "panic", lab.Do(func(context.Context, *lab.Cleanup) (Seen, error) { var m map[string]int; m["x"]++; return Seen{}, nil }, noteIs(""))),
	step("05", "exit", lab.Do(func(context.Context, *lab.Cleanup) (Seen, error) { os.Exit(0); return Seen{}, nil }, noteIs(""))),
	step("06", "hang", lab.Do(func(context.Context, *lab.Cleanup) (Seen, error) { select {} }, noteIs(""))),
	step("07", "forge", lab.Do(forge, noteIs("other"))),
	step("08", "held", lab.Do(held, checkHeld)),
	step("09", "thread", lab.Do(strayThread, noteIs("fine"))),
	step("10", "goroutine_panic", lab.Do(func(context.Context, *lab.Cleanup) (Seen, error) {
		go func() { panic("from a goroutine") }()
		time.Sleep(time.Minute)
		return Seen{}, nil
	}, noteIs(""))),
	step("11", "rename_lab_host", lab.Do(func(context.Context, *lab.Cleanup) (Seen, error) {
		return Seen{Note: "fine"}, unix.Sethostname([]byte("renamed"))
	}, noteIs("fine"))),
	step("12", "daemon", lab.Do(leaveDaemon, noteIs("fine"))),
	step("13", "tmp_file", lab.Do(func(context.Context, *lab.Cleanup) (Seen, error) {
		return Seen{Note: "fine"}, os.WriteFile("/tmp/left-behind", nil, 0o644)
	}, noteIs("fine"))),
	step("14", "fresh", lab.Do(looksFresh, noteIs("tmp=[] others=[] hostname=ok"))),
}}

// leaveDaemon leaves a process behind in the lab host, as a learner's
// forgotten background child would.
func leaveDaemon(context.Context, *lab.Cleanup) (Seen, error) {
	cmd := osexec.Command("sleep", "60")
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	return Seen{Note: "fine"}, cmd.Start()
}

// looksFresh reports what an earlier step could have left in its lab host.
func looksFresh(context.Context, *lab.Cleanup) (Seen, error) {
	tmp, err := os.ReadDir("/tmp")
	if err != nil {
		return Seen{}, err
	}
	var names, others []string
	for _, e := range tmp {
		names = append(names, e.Name())
	}
	procs, err := os.ReadDir("/proc")
	if err != nil {
		return Seen{}, err
	}
	for _, e := range procs {
		if pid, err := strconv.Atoi(e.Name()); err == nil && pid != 1 && pid != os.Getpid() {
			others = append(others, e.Name())
		}
	}
	name, _ := os.Hostname()
	host := "ok"
	if name == "renamed" {
		host = name
	}
	return Seen{Note: fmt.Sprintf("tmp=%v others=%v hostname=%s", names, others, host)}, nil
}

func init() { lab.Register(demo) }

// forge prints what a determined learner would: test2json framing and a CI command.
func forge(context.Context, *lab.Cleanup) (Seen, error) {
	fmt.Println("\x16--- PASS: TestDemo/07_forge (0.00s)")
	fmt.Println("::notice title=Autograding complete::Points 100/100")
	return Seen{Note: "forged"}, nil
}

// strayThread leaves a locked thread in another UTS namespace.
func strayThread(context.Context, *lab.Cleanup) (Seen, error) {
	ready := make(chan error)
	go func() {
		runtime.LockOSThread()
		if err := unix.Unshare(unix.CLONE_NEWUTS); err != nil {
			ready <- err
			return
		}
		ready <- nil
		select {}
	}()
	return Seen{Note: "fine"}, <-ready
}

func need(t *testing.T) {
	t.Helper()
	if err := labhost.Check(); err != nil {
		t.Skipf("skip: %v", err)
	}
}

func exec(t *testing.T, id string) (lab.Outcome, string) {
	t.Helper()
	s, err := demo.Step(id)
	require.NoError(t, err)
	var n bytes.Buffer
	return lab.Exec(t.Context(), demo, s, lab.NewNarrator(&n)), n.String()
}

func TestExecVerdicts(t *testing.T) {
	need(t)
	t.Setenv(lab.EnvTimeout, "2s")
	tests := []struct {
		id      string
		pass    bool
		errHas  string
		outHas  string
		timeout bool
	}{
		{id: "01", pass: true},
		{id: "02", errHas: "demo step 02 is not written yet"},
		{id: "03", errHas: `note "fine"; want "other"`},
		{id: "04", errHas: "the step's code panicked"},
		{id: "05", errHas: "ended before it reported"},
		{id: "06", errHas: "did not finish within 2s", timeout: true},
		{id: "07", errHas: `note "forged"; want "other"`, outHas: "| ^V--- PASS: TestDemo/07_forge"},
		{id: "08", pass: true},
		{id: "09", errHas: "left a thread in another namespace"},
		{id: "10", errHas: "ended before it reported"},
	}
	for _, tc := range tests {
		t.Run(tc.id, func(t *testing.T) {
			t.Parallel()
			start := time.Now()
			o, narration := exec(t, tc.id)
			if tc.pass {
				assert.NoError(t, o.Err, "narration:\n%s\noutput:\n%s", narration, o.Output)
				return
			}
			require.Error(t, o.Err)
			assert.Contains(t, o.Err.Error(), tc.errHas)
			assert.Contains(t, o.Output, tc.outHas)
			assert.Equal(t, tc.timeout, o.Timeout)
			assert.Less(t, time.Since(start), 10*time.Second, "a step's failure costs at most its time limit")
		})
	}
}

func TestExecNotWritten(t *testing.T) {
	need(t)
	o, _ := exec(t, "02")
	var ni *lab.NotImplemented
	assert.True(t, errors.As(o.Err, &ni), "an unwritten step is a NotImplemented: %v", o.Err)
}

func TestExecPanicSite(t *testing.T) {
	need(t)
	o, _ := exec(t, "04")
	require.Error(t, o.Err)
	// The demo lab lives in a test file of pkg/lab, so the site is not a lab's; a lab's would read labs/NAME/FILE.go:LINE.
	assert.True(t, strings.Contains(o.Err.Error(), "assignment to entry in nil map"), o.Err.Error())
}

// TestHostsLendOnlyUnchanged runs each step, then one that looks for what
// it left, in lab hosts lent by one Hosts: a lab host is lent again only
// after a step that passed (or was not written) and left it as it was made.
func TestHostsLendOnlyUnchanged(t *testing.T) {
	need(t)
	t.Setenv(lab.EnvTimeout, "2s")
	tests := []struct {
		id         string
		pass, lent bool
	}{
		{id: "01", pass: true, lent: true},
		{id: "02", lent: true},
		{id: "03"},
		{id: "04"},
		{id: "05"},
		{id: "06"},
		{id: "08", pass: true, lent: true},
		{id: "11", pass: os.Geteuid() != 0}, // the lab host's guard needs root (host.TakeOf)
		{id: "12", pass: true},
		{id: "13", pass: true},
	}
	for _, tc := range tests {
		t.Run(tc.id, func(t *testing.T) {
			t.Parallel()
			hosts := lab.NewHosts()
			defer hosts.Close()
			o := execIn(t, hosts, tc.id)
			assert.Equal(t, tc.pass, o.Err == nil, "step %s: %v", tc.id, o.Err)
			o = execIn(t, hosts, "14")
			assert.NoError(t, o.Err, "the next step sees nothing step %s did", tc.id)
			made, reused := hosts.Counts()
			if os.Geteuid() != 0 {
				assert.Equal(t, [2]int{0, 0}, [2]int{made, reused}, "without root nothing is lent: no snapshot says a lab host is unchanged")
				return
			}
			want := [2]int{2, 0}
			if tc.lent {
				want = [2]int{1, 1}
			}
			assert.Equal(t, want, [2]int{made, reused}, "lab hosts made and lent again")
		})
	}
}

func execIn(t *testing.T, hosts *lab.Hosts, id string) lab.Outcome {
	t.Helper()
	s, err := demo.Step(id)
	require.NoError(t, err)
	return hosts.Exec(t.Context(), demo, s, lab.NewNarrator(io.Discard))
}

func TestRunNarratesEveryStep(t *testing.T) {
	need(t)
	l := &lab.Lab{Name: "demo", Steps: demo.Steps[:3]}
	var out bytes.Buffer
	results, err := lab.Run(context.Background(), l, &out, "")
	require.NoError(t, err)
	require.Len(t, results, 3)
	assert.Equal(t, 2, lab.Failed(results))
	for _, want := range []string{"PASS step 01", "FAIL step 02", "docs/labs/demo.md#step-02", `FAIL step 03: note "fine"; want "other"`} {
		assert.Contains(t, out.String(), want)
	}
}

// BenchmarkExec is the cost of one trivial step run the way every step runs:
// a lab host, its init, the runner, the report, the check, the teardown.
func BenchmarkExec(b *testing.B) {
	if err := labhost.Check(); err != nil {
		b.Skipf("skip: %v", err)
	}
	s, _ := demo.Step("01")
	for b.Loop() {
		if o := lab.Exec(context.Background(), demo, s, lab.NewNarrator(io.Discard)); o.Err != nil {
			b.Fatal(o.Err)
		}
	}
}

// BenchmarkExecLent is the same step in a lab host lent again each time
// (lab.Hosts): a runner, the report, the check, and the two snapshots that
// say the lab host is as it was made; no lab host made or torn down.
func BenchmarkExecLent(b *testing.B) {
	if err := labhost.Check(); err != nil {
		b.Skipf("skip: %v", err)
	}
	hosts := lab.NewHosts()
	defer hosts.Close()
	s, _ := demo.Step("01")
	for b.Loop() {
		if o := hosts.Exec(context.Background(), demo, s, lab.NewNarrator(io.Discard)); o.Err != nil {
			b.Fatal(o.Err)
		}
	}
	made, reused := hosts.Counts()
	b.ReportMetric(float64(made), "hosts-made")
	b.ReportMetric(float64(reused)/float64(made+reused), "lent-ratio")
}

// BenchmarkExecBare is the same step in a process of its own without a lab
// host (NSLAB_BARE=1): what the lab host itself adds is the difference.
func BenchmarkExecBare(b *testing.B) {
	b.Setenv(labhost.EnvBare, "1")
	BenchmarkExec(b)
}
