package grade

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nslab/nslab/pkg/lab"
)

// demo is the lab of the recorded streams in testdata (see record.sh).
func demo() *lab.Lab {
	return &lab.Lab{Name: "demo", Steps: []*lab.Step{
		{ID: "01", Slug: "first", Title: "First", Points: 10},
		{ID: "02", Slug: "second", Title: "Second", Points: 20},
		{ID: "03", Slug: "third", Title: "Third", Points: 5},
	}}
}

func load(t *testing.T, name string) *Report {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", name+".json"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	events, err := ReadEvents(f)
	if err != nil {
		t.Fatal(err)
	}
	return Score([]*lab.Lab{demo()}, events)
}

type want struct {
	outcome Outcome
	score   int
	message string // a part of the message
}

func TestScoreRecorded(t *testing.T) {
	tests := []struct {
		stream string
		status string
		total  int
		steps  [3]want
	}{
		{stream: "pass", status: "pass", total: 35, steps: [3]want{{Pass, 10, ""}, {Pass, 20, ""}, {Pass, 5, ""}}},
		{stream: "fail", status: "fail", total: 10, steps: [3]want{
			{Pass, 10, ""},
			{Fail, 0, "child uts namespace uts:[4026531838] is the host's; want a new one"},
			{Fail, 0, "demo step 03 is not written yet: fill in the code between BEGIN SOLUTION and END SOLUTION (see docs/labs/demo.md#step-03)"},
		}},
		{stream: "skip", status: "error", total: 0, steps: [3]want{
			{Skip, 0, "not run: TestDemo was skipped: skip: creating a demo namespace needs root or user namespaces"},
			{Skip, 0, "not run: TestDemo was skipped"},
			{Skip, 0, "not run: TestDemo was skipped"},
		}},
		{stream: "build", status: "error", total: 0, steps: [3]want{
			{Error, 0, "not run: labs/demo does not build: labs/demo/demo_test.go:7:6: declared and not used: unused"},
			{Error, 0, "does not build"},
			{Error, 0, "does not build"},
		}},
		{stream: "panic", status: "fail", total: 10, steps: [3]want{
			{Pass, 10, ""},
			{Error, 0, "the test binary crashed in this step: panic: assignment to entry in nil map"},
			{Error, 0, "not run: the test binary crashed before this step: panic: assignment to entry in nil map"},
		}},
		{stream: "timeout", status: "fail", total: 10, steps: [3]want{
			{Pass, 10, ""},
			{Error, 0, "did not finish: test timed out after 2s"},
			{Error, 0, "not run: the test binary timed out after 2s before this step"},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.stream, func(t *testing.T) {
			r := load(t, tt.stream)
			if len(r.Steps) != 3 {
				t.Fatalf("got %d steps, want 3", len(r.Steps))
			}
			for i, w := range tt.steps {
				s := r.Steps[i]
				if s.Outcome != w.outcome || s.Score != w.score || !strings.Contains(s.Message, w.message) || (w.message == "") != (s.Message == "") {
					t.Errorf("%s: %s, %d points, %q; want %s, %d, %q", s.Name(), s.Outcome, s.Score, s.Message, w.outcome, w.score, w.message)
				}
			}
			total, maxScore := r.Points()
			if total != tt.total || maxScore != 35 || r.Status() != tt.status {
				t.Errorf("Points() = %d/%d, Status() = %s; want %d/35, %s", total, maxScore, r.Status(), tt.total, tt.status)
			}
			checkResults(t, r)
		})
	}
}

// checkResults checks that results.json adds up to the table's total, as
// the Classroom reporter adds it (the sum of tests[].score), and has the
// fields the readers need.
func checkResults(t *testing.T, r *Report) {
	t.Helper()
	b, err := r.JSON()
	if err != nil {
		t.Fatal(err)
	}
	var res struct {
		Version  int    `json:"version"`
		Status   string `json:"status"`
		MaxScore int    `json:"max_score"`
		Tests    []struct {
			Name     string   `json:"name"`
			Status   string   `json:"status"`
			Score    int      `json:"score"`
			Message  string   `json:"message"`
			Output   string   `json:"output"`
			TaskID   int      `json:"task_id"`
			Duration *float64 `json:"duration"`
		} `json:"tests"`
	}
	if err := json.Unmarshal(b, &res); err != nil {
		t.Fatal(err)
	}
	sum := 0
	for i, tr := range res.Tests {
		sum += tr.Score
		if tr.Name != r.Steps[i].Name() || tr.TaskID != i+1 || tr.Duration == nil || len([]rune(tr.Output)) > MaxOutput {
			t.Errorf("tests[%d] = %+v; want name %s, task_id %d, a duration, output of at most %d characters", i, tr, r.Steps[i].Name(), i+1, MaxOutput)
		}
		if (tr.Status == "pass") != (tr.Message == "") || tr.Status != "pass" && tr.Status != "fail" && tr.Status != "error" {
			t.Errorf("tests[%d] status %q, message %q; want pass without a message, fail or error with one", i, tr.Status, tr.Message)
		}
	}
	total, maxScore := r.Points()
	if res.Version != 1 || res.Status != r.Status() || res.MaxScore != maxScore || sum != total {
		t.Errorf("results.json version %d, status %s, max_score %d, scores adding up to %d; want 1, %s, %d, %d", res.Version, res.Status, res.MaxScore, sum, r.Status(), maxScore, total)
	}
	var table bytes.Buffer
	r.WriteTable(&table)
	if line := lastLine(table.String()); !strings.HasPrefix(line, "total: "+itoa(total)+"/"+itoa(maxScore)+" points") {
		t.Errorf("the table ends with %q; want the total %d/%d", line, total, maxScore)
	}
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return lines[len(lines)-1]
}

func itoa(n int) string { b, _ := json.Marshal(n); return string(b) }

func TestFailureDetail(t *testing.T) {
	r := load(t, "fail")
	s := r.Steps[1]
	if s.Detail != "child uts namespace uts:[4026531838] is the host's; want a new one\nsecond line (see docs/labs/demo.md#step-02)" {
		t.Errorf("Detail = %q; want both lines of the failure", s.Detail)
	}
	if !strings.Contains(s.Output, "::notice title=Autograding complete::Points 100/100") || strings.Contains(s.Output, "--- FAIL") {
		t.Errorf("Output = %q; want what the test printed, without go test's framing", s.Output)
	}
}

func TestTable(t *testing.T) {
	var b bytes.Buffer
	load(t, "fail").WriteTable(&b)
	for _, want := range []string{
		"lab   step  title   points  result\n",
		"demo  02    Second    0/20  FAIL\n",
		"            child uts namespace uts:[4026531838] is the host's; want a new one\n",
		"            see docs/labs/demo.md#step-02\n",
		"next: demo step 02, Second (docs/labs/demo.md#step-02)\n\nlab ",
		"demo  03    Third      0/5  FAIL (not written yet)\n",
		"demo  [#####...............]    10/35 points  1/3 steps pass\n",
		"total: 10/35 points, 1 of 3 steps pass\n",
	} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("the table has no line %q:\n%s", want, b.String())
		}
	}
}

// TestNextLine: the table's first line says where to work, the file and
// function once the steps are placed, "begin with" while nothing passes.
func TestNextLine(t *testing.T) {
	r := load(t, "fail")
	r.Steps[1].File, r.Steps[1].Func = "labs/demo/demo.go", "Second"
	if got, want := r.NextLine(), "next: labs/demo/demo.go, Second (docs/labs/demo.md#step-02)"; got != want {
		t.Errorf("NextLine() = %q; want %q", got, want)
	}
	if r.Steps[1].NotWritten() || !r.Steps[2].NotWritten() {
		t.Errorf("NotWritten() = %v, %v for steps 02 and 03; want false, true", r.Steps[1].NotWritten(), r.Steps[2].NotWritten())
	}
	r.Steps[0].Outcome, r.Steps[0].Score = Fail, 0
	r.Steps[0].File, r.Steps[0].Func = "labs/demo/demo.go", "First"
	if got, want := r.NextLine(), "begin with labs/demo/demo.go, First (docs/labs/demo.md#step-01)"; got != want {
		t.Errorf("NextLine() with nothing passing = %q; want %q", got, want)
	}
	if got := load(t, "pass").NextLine(); got != "" {
		t.Errorf("NextLine() with every step passing = %q; want none", got)
	}
}

func TestArgs(t *testing.T) {
	other := &lab.Lab{Name: "uts"}
	got := strings.Join(Config{Labs: []*lab.Lab{demo(), other}, Exec: "sudo -n", Timeout: time.Minute}.Args(), " ")
	want := "test -json -count=1 -ldflags=-w -timeout 1m0s -run ^(TestDemo|TestUTS)$ -exec sudo -n ./labs/demo/... ./labs/uts/..."
	if got != want {
		t.Errorf("Args() = %q; want %q", got, want)
	}
}

func TestArgsEnvThroughSudo(t *testing.T) {
	env := []string{"NSLAB_DIAGRAMS=/tmp/d", "NSLAB_STEP_TIMEOUT=3s"}
	got := strings.Join(Config{Labs: []*lab.Lab{demo()}, Exec: "sudo -n", Env: env}.Args(), " ")
	if want := "-exec sudo -n env NSLAB_DIAGRAMS=/tmp/d NSLAB_STEP_TIMEOUT=3s ./labs/demo/..."; !strings.HasSuffix(got, want) {
		t.Errorf("Args() = %q; want it to end with %q (sudo resets the environment)", got, want)
	}
	got = strings.Join(Config{Labs: []*lab.Lab{demo()}, Env: env}.Args(), " ")
	if strings.Contains(got, "-exec") {
		t.Errorf("Args() without Exec = %q; want no -exec (go test passes its environment on)", got)
	}
}

func TestArgsOneStep(t *testing.T) {
	got := strings.Join(Config{Labs: []*lab.Lab{demo()}, Step: "02_second"}.Args(), " ")
	want := "test -json -count=1 -ldflags=-w -timeout 3m0s -run ^(TestDemo)$/^02_second$ ./labs/demo/..."
	if got != want {
		t.Errorf("Args() = %q; want %q", got, want)
	}
	got = strings.Join(Config{Labs: []*lab.Lab{demo()}, Cache: true}.Args(), " ")
	want = "test -json -ldflags=-w -timeout 3m0s -run ^(TestDemo)$ ./labs/demo/..."
	if got != want {
		t.Errorf("Args() with Cache = %q; want %q", got, want)
	}
}

// runnerCommands returns the workflow commands the Actions runner would
// act on in a log: lines that start with :: once leading blanks are
// trimmed, except between ::stop-commands::TOKEN and ::TOKEN::.
func runnerCommands(log string) []string {
	var cmds []string
	stopped := ""
	for _, line := range strings.Split(log, "\n") {
		l := strings.TrimLeft(line, " \t")
		switch {
		case stopped != "":
			if l == "::"+stopped+"::" {
				stopped = ""
			}
		case strings.HasPrefix(l, "::stop-commands::"):
			stopped = strings.TrimPrefix(l, "::stop-commands::")
		case strings.HasPrefix(l, "::"):
			cmds = append(cmds, l)
		}
	}
	return cmds
}

func TestPublishInActions(t *testing.T) {
	dir := t.TempDir()
	env := Env{Results: filepath.Join(dir, "results.json"), Actions: true, Summary: filepath.Join(dir, "summary.md"), Output: filepath.Join(dir, "output")}
	r := load(t, "fail")
	r.Steps[1].Message = "::notice title=Autograding complete::Points 100/100" // a failure message a learner chose
	var log bytes.Buffer
	if err := Publish(&log, r, env); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(log.String(), "::notice title=Autograding complete::Points 100/100") {
		t.Fatalf("the log lacks the test's output:\n%s", log.String())
	}
	for _, c := range runnerCommands(log.String()) {
		if !strings.HasPrefix(c, "::group::") && c != "::endgroup::" && !strings.HasPrefix(c, "::error ") {
			t.Errorf("the runner would act on %q, which the learner's code printed", c)
		}
	}
	if n := strings.Count(log.String(), "\n::error "); n != 2 {
		t.Errorf("%d ::error annotations; want 2, one per step that failed:\n%s", n, log.String())
	}
	out, err := os.ReadFile(env.Output)
	if err != nil {
		t.Fatal(err)
	}
	var res Results
	for _, line := range strings.Split(string(out), "\n") {
		if v, ok := strings.CutPrefix(line, "result="); ok {
			b, err := base64.StdEncoding.DecodeString(v)
			if err != nil || json.Unmarshal(b, &res) != nil {
				t.Fatalf("result=%s is not base64 JSON: %v", v, err)
			}
		}
	}
	if res.MaxScore != 35 || res.Score != 10 || !strings.Contains(string(out), "points=10\nmax_score=35\n") {
		t.Errorf("$GITHUB_OUTPUT = %s; want the result of 10/35", out)
	}
	summary, err := os.ReadFile(env.Summary)
	if err != nil || !strings.Contains(string(summary), "## nslab: 10/35 points") || strings.Count(string(summary), "<details>") != 2 {
		t.Errorf("summary (%v):\n%s\nwant the total and two folded failures", err, summary)
	}
	if _, err := os.Stat(env.Results); err != nil {
		t.Errorf("no results.json: %v", err)
	}
}

func TestGuardRefusesItsToken(t *testing.T) {
	var b bytes.Buffer
	if err := Guard(&b, "abc", "::abc::\n::notice::x"); err == nil {
		t.Error("Guard() of a text holding the token succeeded; want an error")
	}
	tok, err := Token()
	if err != nil || len(tok) != 32 {
		t.Errorf("Token() = %q, %v; want 32 hex digits", tok, err)
	}
	if tok2, _ := Token(); tok2 == tok {
		t.Error("two tokens are equal")
	}
}

// failing is a report of n failed steps of a lab "big", of 1 point each,
// step i titled "t" with ID i until edit(i, step) changes it.
func failing(n int, edit func(i int, s *StepResult)) *Report {
	l := &lab.Lab{Name: "big"}
	r := &Report{}
	for i := range n {
		s := &StepResult{Lab: l, Step: &lab.Step{ID: itoa(i), Title: "t", Points: 1}, Outcome: Fail}
		edit(i, s)
		l.Steps = append(l.Steps, s.Step)
		r.Steps = append(r.Steps, s)
	}
	return r
}

func TestAnnotations(t *testing.T) {
	r := failing(14, func(i int, s *StepResult) {
		s.Step.ID, s.Step.Title = string(rune('a'+i)), "a, b: c"
		s.Message, s.File, s.Line = "100% wrong\nline two", "labs/big/big.go", 10+i
	})
	got := r.Annotations()
	if len(got) != MaxAnnotations {
		t.Fatalf("%d annotations; want %d", len(got), MaxAnnotations)
	}
	want := "::error file=labs/big/big.go,line=10,title=big step a%3A a%2C b%3A c (0/1)::100%25 wrong%0Aline two (see docs/labs/big.md#step-a)"
	if got[0] != want {
		t.Errorf("annotation = %q; want %q", got[0], want)
	}
}

func TestSummaryLimit(t *testing.T) {
	long := strings.Repeat("x<y>|", 2000)
	r := failing(400, func(_ int, s *StepResult) { s.Message, s.Detail, s.Output = long, long, long })
	got := r.Summary()
	if len(got) > SummaryLimit || !strings.Contains(got, "more failures left out") || strings.Contains(got, "x<y>") {
		t.Errorf("summary of %d bytes; want at most %d, the cut said, learner text escaped", len(got), SummaryLimit)
	}
}

func TestLocate(t *testing.T) {
	dir := t.TempDir()
	src := "package demo\n\n// Second is step 02.\nfunc Second() int {\n\t// BEGIN SOLUTION\n\treturn 2\n\t// END SOLUTION\n}\n"
	if err := os.MkdirAll(filepath.Join(dir, "labs", "demo"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "labs", "demo", "demo.go"), []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	r := load(t, "fail")
	r.Locate(dir)
	if s := r.Steps[1]; s.File != "labs/demo/demo.go" || s.Line != 5 {
		t.Errorf("step 02 located at %s:%d; want labs/demo/demo.go:5", s.File, s.Line)
	}
	if s := r.Steps[2]; s.File != "" {
		t.Errorf("step 03 located at %s:%d; want nowhere (no region)", s.File, s.Line)
	}
}
