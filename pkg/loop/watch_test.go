package loop

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nslab/nslab/pkg/grade"
	"github.com/nslab/nslab/pkg/holder"
	"github.com/nslab/nslab/pkg/lab"
)

func demoLab() *lab.Lab {
	return &lab.Lab{Name: "demo", Steps: []*lab.Step{
		{ID: "01", Slug: "first", Title: "First", Points: 10},
		{ID: "02", Slug: "second", Title: "Second", Points: 20},
		{ID: "03", Slug: "third", Title: "Third", Points: 5, Hints: []string{"look"}},
	}}
}

// result makes a step's grade the way pkg/grade reads it from go test.
func result(l *lab.Lab, s *lab.Step, outcome grade.Outcome, msg string) *grade.StepResult {
	r := &grade.StepResult{Lab: l, Step: s, Outcome: outcome, File: "labs/demo/demo.go", Func: "F" + s.ID}
	switch outcome {
	case grade.Pass:
		r.Score = s.Points
	case grade.Fail:
		if msg == "" {
			msg = lab.TODO(l.Name, s.ID).Error()
		}
		r.Message, r.Detail = msg, msg
		r.Output = "    demo_test.go:12: narration of step " + s.ID + "\n    demo_test.go:13: " + msg + "\n"
	}
	return r
}

func TestRelevant(t *testing.T) {
	dir := "/m/labs/uts"
	tests := []struct {
		path string
		want bool
	}{
		{"/m/labs/uts/uts.go", true},
		{"/m/labs/uts/testdata/mistakes/x.txtar", true},
		{"/m/labs/uts/.uts.go.swp", false},
		{"/m/labs/uts/uts.go~", false},
		{"/m/labs/uts/4913", false},
		{"/m/labs/uts/#uts.go#", false},
		{"/m/labs/ipc/ipc.go", false},
		{"/m/labs/uts", false},
	}
	for _, tt := range tests {
		if got := Relevant(tt.path, dir); got != tt.want {
			t.Errorf("Relevant(%q) = %v; want %v", tt.path, got, tt.want)
		}
	}
}

func TestClean(t *testing.T) {
	in := "    labtest.go:67: what the step checked:\n             kind  host\n             FAIL it is the host's\n    labtest.go:73: it is the host's (see docs/labs/uts.md#step-01)\n"
	want := "what the step checked:\n     kind  host\n     FAIL it is the host's\nit is the host's (see docs/labs/uts.md#step-01)"
	if got := Clean(in); got != want {
		t.Errorf("Clean() =\n%s\nwant\n%s", got, want)
	}
}

func TestWriteVerdict(t *testing.T) {
	l := demoLab()
	tests := []struct {
		name string
		s    *grade.StepResult
		want []string
		not  []string
	}{
		{name: "pass is one line", s: result(l, l.Steps[1], grade.Pass, ""), want: []string{"✓ demo step 02 passes: +20 points\n"}, not: []string{"narration"}},
		{name: "not written", s: result(l, l.Steps[1], grade.Fail, ""),
			want: []string{"· demo step 02 is not written yet: labs/demo/demo.go, F02 (docs/labs/demo.md#step-02)\n"}},
		{name: "a failure in full", s: result(l, l.Steps[2], grade.Fail, "the child's hostname is vm\nwant box (see docs/labs/demo.md#step-03)"),
			want: []string{"✗ demo step 03 fails\n", "  the child's hostname is vm\n  want box", "narration of step 03", "edit labs/demo/demo.go, F03",
				"stuck? go tool mage hint demo -step=03\n"}},
		{name: "did not run", s: &grade.StepResult{Lab: l, Step: l.Steps[0], Outcome: grade.Error, Message: "does not build", Detail: "labs/demo/demo.go:3: syntax error"},
			want: []string{"- demo step 01 did not run\n", "syntax error", "does not build", "see docs/labs/demo.md#step-01\n"}},
		{name: "not run, a message only", s: &grade.StepResult{Lab: l, Step: l.Steps[0], Outcome: grade.Error, Message: "not run: labs/demo does not build: demo.go:3:1: syntax error"},
			want: []string{"- demo step 01 did not run\n  not run: labs/demo does not build: demo.go:3:1: syntax error\nsee docs/labs/demo.md#step-01\n"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b bytes.Buffer
			WriteVerdict(&b, tt.s)
			for _, w := range tt.want {
				if !strings.Contains(b.String(), w) {
					t.Errorf("verdict has no %q:\n%s", w, b.String())
				}
			}
			for _, w := range tt.not {
				if strings.Contains(b.String(), w) {
					t.Errorf("verdict has %q:\n%s", w, b.String())
				}
			}
		})
	}
}

func TestWriteProgress(t *testing.T) {
	l := demoLab()
	other := &lab.Lab{Name: "ipc", Steps: []*lab.Step{{ID: "01", Slug: "one", Title: "One", Points: 10}}}
	r := &grade.Report{Steps: []*grade.StepResult{
		result(l, l.Steps[0], grade.Pass, ""),
		result(l, l.Steps[1], grade.Fail, "wrong"),
		result(l, l.Steps[2], grade.Fail, ""),
		result(other, other.Steps[0], grade.Pass, ""),
	}}
	var b bytes.Buffer
	WriteProgress(&b, r)
	for _, w := range []string{
		"demo  [#####...............]   10/35  01✓ 02✗ 03·\n",
		"      next: step 02, Second: labs/demo/demo.go, F02 (docs/labs/demo.md#step-02)\n",
		"ipc   [####################]   10/10  01✓\n",
		"total: 20/45 points, 2 of 4 steps pass\n",
		"next: labs/demo/demo.go, F02 (docs/labs/demo.md#step-02)\n  go tool mage watch demo",
	} {
		if !strings.Contains(b.String(), w) {
			t.Errorf("progress has no %q:\n%s", w, b.String())
		}
	}
}

// fileTester grades the demo lab from the file labs/demo/demo.go: step NN
// passes when the file says "NN done", fails when it says "NN wrong", and
// is not written otherwise.
type fileTester struct {
	dir   string
	mu    sync.Mutex
	runs  []string
	build bool
}

func (f *fileTester) Test(ctx context.Context, labs []*lab.Lab, step *lab.Step) (*grade.Report, error) {
	f.mu.Lock()
	var names []string
	for _, l := range labs {
		names = append(names, l.Name)
	}
	name := strings.Join(names, "+")
	if step != nil {
		name += "/" + step.ID
	}
	f.runs = append(f.runs, name)
	f.mu.Unlock()
	r := &grade.Report{}
	for _, l := range labs {
		src, err := os.ReadFile(filepath.Join(f.dir, "labs", l.Name, l.Name+".go"))
		if err != nil {
			return nil, err
		}
		f.grade(r, l, step, string(src))
	}
	return r, nil
}

func (f *fileTester) grade(r *grade.Report, l *lab.Lab, step *lab.Step, src string) {
	for _, s := range l.Steps {
		switch {
		case step != nil && s != step:
			r.Steps = append(r.Steps, &grade.StepResult{Lab: l, Step: s, Outcome: grade.Error, Message: "not run"})
		case strings.Contains(src, s.ID+" done"):
			r.Steps = append(r.Steps, result(l, s, grade.Pass, ""))
		case strings.Contains(src, s.ID+" wrong"):
			r.Steps = append(r.Steps, result(l, s, grade.Fail, "step "+s.ID+" is wrong (see docs/labs/demo.md#step-"+s.ID+")"))
		default:
			r.Steps = append(r.Steps, result(l, s, grade.Fail, ""))
		}
	}
}

func (f *fileTester) calls() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string{}, f.runs...)
}

// TestWatch drives the watcher with real file changes: a save re-runs the
// step at hand; a pass moves on to the next step, and past the last step of
// a lab to the next lab; an editor's swap file, or a file of a lab not at
// hand, runs nothing; it ends once every step passes.
func TestWatch(t *testing.T) {
	dir := t.TempDir()
	two := &lab.Lab{Name: "two", Steps: []*lab.Step{{ID: "01", Slug: "one", Title: "Only", Points: 10}}}
	saveLab(t, dir, "demo", "01 done")
	saveLab(t, dir, "two", "nothing")
	tester := &fileTester{dir: dir}
	var out holder.SyncBuffer
	w := &Watcher{Labs: []*lab.Lab{demoLab(), two}, Dir: dir, Tester: tester, Out: &out, Quiet: 20 * time.Millisecond,
		Now: func() time.Time { return time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC) }}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ended := make(chan error, 1)
	go func() { ended <- w.Run(ctx) }()

	watchDemo(t, dir, &out)
	watchTwo(t, dir, &out)
	select {
	case err := <-ended:
		if err != nil {
			t.Errorf("Run() = %v; want nil once every step passes", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Run() did not return once every step passed")
	}
	want := "demo+two demo/02 demo/02 demo demo/03 demo two two/01 two"
	if got := strings.Join(tester.calls(), " "); got != want {
		t.Errorf("tests run: %s; want %s", got, want)
	}
}

// watchDemo is TestWatch's lab demo, step by step: a failure, a swap file
// that runs nothing, then each step passing up to the next lab.
func watchDemo(t *testing.T, dir string, out *holder.SyncBuffer) {
	t.Helper()
	waitFor(t, out, "next: demo step 02, Second\n  edit labs/demo/demo.go, F02 (docs/labs/demo.md#step-02)\n", 1)
	waitFor(t, out, "watching labs/demo for changes", 1)

	saveLab(t, dir, "demo", "01 done, 02 wrong")
	waitFor(t, out, "✗ demo step 02 fails\n", 1)
	waitFor(t, out, "  step 02 is wrong (see docs/labs/demo.md#step-02)\nedit labs/demo/demo.go, F02", 1)
	waitFor(t, out, "watching labs/demo for changes", 2)

	// A swap file is not a change of the lab: no run.
	if err := os.WriteFile(filepath.Join(dir, "labs", "demo", ".demo.go.swp"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	saveLab(t, dir, "demo", "01 done, 02 done")
	waitFor(t, out, "✓ demo step 02 passes: +20 points\nnext: demo step 03, Third", 1)
	waitFor(t, out, "watching labs/demo for changes", 3)

	saveLab(t, dir, "demo", "01 done, 02 done, 03 done")
	waitFor(t, out, "✓ demo step 03 passes: +5 points\nlab demo: every step passes (35/35 points)\nnext: two step 01, Only\n", 1)
	waitFor(t, out, "watching labs/two for changes", 1)
}

// watchTwo is TestWatch's lab two, once demo passes: demo's files are not
// watched any more, and two's one step passing ends the watch.
func watchTwo(t *testing.T, dir string, out *holder.SyncBuffer) {
	t.Helper()
	// The finished lab's files are not watched any more.
	saveLab(t, dir, "demo", "01 done, 02 done, 03 done, again")
	saveLab(t, dir, "two", "01 done")
	waitFor(t, out, "✓ two step 01 passes", 1)
	waitFor(t, out, "lab two: every step passes (10/10 points)\nevery step passes: nothing left to watch\n", 1)
}

// saveLab writes labs/NAME/NAME.go under dir.
func saveLab(t *testing.T, dir, name, text string) {
	t.Helper()
	file := filepath.Join(dir, "labs", name, name+".go")
	if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(file, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
}

// waitFor waits up to 10 s for want to be n times in out.
func waitFor(t *testing.T, out *holder.SyncBuffer, want string, n int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for strings.Count(out.Raw(), want) < n {
		if time.Now().After(deadline) {
			t.Fatalf("no %q (x%d) in the output after 10 s:\n%s", want, n, out.Raw())
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestWatchCancel: Ctrl-C (the context cancelled) while waiting ends Run
// with no error and says so.
func TestWatchCancel(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "labs", "demo", "demo.go")
	if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(file, []byte("nothing"), 0o644); err != nil {
		t.Fatal(err)
	}
	var out holder.SyncBuffer
	w := &Watcher{Labs: []*lab.Lab{demoLab()}, Dir: dir, Tester: &fileTester{dir: dir}, Out: &out}
	ctx, cancel := context.WithCancel(context.Background())
	ended := make(chan error, 1)
	go func() { ended <- w.Run(ctx) }()
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(out.Raw(), "watching") {
		if time.Now().After(deadline) {
			t.Fatalf("never watching:\n%s", out.Raw())
		}
		time.Sleep(5 * time.Millisecond)
	}
	if !strings.Contains(out.Raw(), "next: demo step 01, First") {
		t.Errorf("the first step is not shown:\n%s", out.Raw())
	}
	cancel()
	select {
	case err := <-ended:
		if err != nil || !strings.Contains(out.Raw(), "watch: stopped") {
			t.Errorf("Run() = %v, output:\n%s\nwant nil and \"watch: stopped\"", err, out.Raw())
		}
	case <-time.After(10 * time.Second):
		t.Fatal(fmt.Sprintf("Run() did not return after the cancel:\n%s", out.Raw()))
	}
}
