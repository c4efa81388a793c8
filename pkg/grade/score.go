package grade

import (
	"fmt"
	"path"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/nslab/nslab/pkg/lab"
)

// Outcome is what became of a step's test.
type Outcome string

const (
	Pass  Outcome = "pass"
	Fail  Outcome = "fail"  // it ran and failed
	Skip  Outcome = "skip"  // it, or its lab's test, was skipped
	Error Outcome = "error" // it did not run, or did not finish
)

// StepResult is the grade of one step.
type StepResult struct {
	Lab      *lab.Lab
	Step     *lab.Step
	Outcome  Outcome
	Score    int
	Message  string // why it did not pass, in one line; "" on a pass
	Detail   string // the whole failure message
	Output   string // what the test printed, go test's framing left out
	Duration time.Duration
	File     string // the step's solution region, relative to the module root, when known
	Line     int
	Func     string // the function around that region: StartInNewUTS
}

// Name is the name of the step's graded subtest: TestUTS/01_new_namespace.
func (s *StepResult) Name() string { return s.Lab.TestFunc() + "/" + s.Step.TestName() }

// Report is the grade of a run.
type Report struct {
	Steps    []*StepResult
	Problems []string // what went wrong in a package outside any step: a host left changed, a crash
	Output   string   // the whole output of go test, as go test -v prints it
	Pristine string   // what the solution regions were graded in ("" for the tree as it is)
	Tampered []Change // files that differ from the pristine copy outside the regions
}

// TamperedList is the tampered files in one line: "a.go (edited), b.go (added)".
func (r *Report) TamperedList() string {
	parts := make([]string, len(r.Tampered))
	for i, c := range r.Tampered {
		parts[i] = c.String()
	}
	return strings.Join(parts, ", ")
}

// Points returns the points earned and the points there are.
func (r *Report) Points() (total, max int) {
	for _, s := range r.Steps {
		total += s.Score
		max += s.Step.Points
	}
	return total, max
}

// Count returns how many steps had the outcome.
func (r *Report) Count(o Outcome) int {
	n := 0
	for _, s := range r.Steps {
		if s.Outcome == o {
			n++
		}
	}
	return n
}

// Status is the run's status in results.json: pass when every step passed,
// error when no step could run, fail otherwise.
func (r *Report) Status() string {
	switch {
	case len(r.Steps) > 0 && r.Count(Pass) == len(r.Steps):
		return "pass"
	case r.Count(Pass)+r.Count(Fail) == 0:
		return "error"
	}
	return "fail"
}

type testRun struct {
	action  string // pass, fail, skip; "" while it has not finished
	elapsed float64
	lines   []string
}

type pkgRun struct {
	tests    map[string]*testRun
	build    []string // compiler output
	lines    []string // output outside any test
	crash    string   // the first panic: or fatal error: line
	failed   bool
	finished bool
}

// Score grades the steps of labs from the events of go test -json.
func Score(labs []*lab.Lab, events []Event) *Report {
	pkgs, out := collect(events)
	r := &Report{Output: out}
	for _, l := range labs {
		for _, s := range l.Steps {
			r.Steps = append(r.Steps, scoreStep(l, s, pkgs))
		}
	}
	r.Problems = problems(pkgs)
	return r
}

func collect(events []Event) (map[string]*pkgRun, string) {
	pkgs := map[string]*pkgRun{}
	get := func(name string) *pkgRun {
		if pkgs[name] == nil {
			pkgs[name] = &pkgRun{tests: map[string]*testRun{}}
		}
		return pkgs[name]
	}
	var out strings.Builder
	for _, e := range events {
		if e.Action == "build-output" {
			p := get(strings.Fields(e.ImportPath + " ")[0])
			p.build = append(p.build, strings.TrimSuffix(e.Output, "\n"))
			out.WriteString(e.Output)
			continue
		}
		p := get(e.Package)
		out.WriteString(e.Output)
		addEvent(p, e)
	}
	return pkgs, out.String()
}

func addEvent(p *pkgRun, e Event) {
	line := strings.TrimSuffix(e.Output, "\n")
	if e.Action == "output" && p.crash == "" && (strings.HasPrefix(line, "panic: ") || strings.HasPrefix(line, "fatal error: ")) {
		p.crash = line
	}
	if e.Test == "" {
		switch e.Action {
		case "output":
			p.lines = append(p.lines, line)
		case "fail":
			p.failed, p.finished = true, true
		case "pass", "skip":
			p.finished = true
		}
		return
	}
	t := p.tests[e.Test]
	if t == nil {
		t = &testRun{}
		p.tests[e.Test] = t
	}
	switch e.Action {
	case "output":
		t.lines = append(t.lines, line)
	case "pass", "fail", "skip":
		t.action, t.elapsed = e.Action, e.Elapsed
	}
}

// pkgOf finds the package of a lab: the one that ran its test, else the one
// whose path ends in labs/<name>.
func pkgOf(l *lab.Lab, pkgs map[string]*pkgRun) *pkgRun {
	for _, p := range pkgs {
		if _, ok := p.tests[l.TestFunc()]; ok {
			return p
		}
	}
	for name, p := range pkgs {
		if path.Base(name) == l.Name && path.Base(path.Dir(name)) == "labs" {
			return p
		}
	}
	return nil
}

func scoreStep(l *lab.Lab, s *lab.Step, pkgs map[string]*pkgRun) *StepResult {
	r := &StepResult{Lab: l, Step: s}
	p := pkgOf(l, pkgs)
	if p == nil {
		r.Outcome, r.Message = Error, fmt.Sprintf("not run: go test printed nothing for labs/%s (is the package there, does %s exist?)", l.Name, l.TestFunc())
		return r
	}
	t := p.tests[r.Name()]
	if t == nil {
		r.Outcome, r.Message = notRun(l, r.Name(), p)
		return r
	}
	r.Output = strings.Join(userLines(t.lines), "\n")
	r.Duration = time.Duration(t.elapsed * float64(time.Second))
	switch t.action {
	case "pass":
		r.Outcome, r.Score = Pass, s.Points
	case "skip":
		r.Outcome = Skip
		r.Message, r.Detail = message(t.lines)
		r.Message = "skipped: " + r.Message
	case "fail":
		r.Outcome = Fail
		r.Message, r.Detail = message(t.lines)
		if todo := todoRe.FindString(r.Detail); todo != "" {
			r.Message = todo // the stub of the starter edition, reached from wherever
		}
		if r.Message == "" && p.crash != "" {
			r.Outcome, r.Message = Error, "the test binary crashed in this step: "+p.crash
		} else if r.Message == "" {
			r.Message = "failed without a message"
		}
	default:
		r.Outcome, r.Message = Error, unfinished(p)
	}
	return r
}

func unfinished(p *pkgRun) string {
	switch {
	case strings.HasPrefix(p.crash, "panic: test timed out"):
		return "did not finish: " + strings.TrimPrefix(p.crash, "panic: ")
	case p.crash != "":
		return "did not finish: the test binary crashed: " + p.crash
	}
	return "did not finish: the test binary stopped while it ran"
}

// notRun says why a step's test is absent from the run.
func notRun(l *lab.Lab, name string, p *pkgRun) (Outcome, string) {
	if parent := p.tests[l.TestFunc()]; parent != nil {
		msg, _ := message(parent.lines)
		switch parent.action {
		case "skip":
			return Skip, fmt.Sprintf("not run: %s was skipped: %s", l.TestFunc(), msg)
		case "fail":
			if msg != "" && p.crash == "" {
				return Error, fmt.Sprintf("not run: %s failed before this step: %s", l.TestFunc(), msg)
			}
		}
	}
	switch {
	case len(p.build) > 0:
		return Error, fmt.Sprintf("not run: labs/%s does not build: %s", l.Name, firstBuildError(p.build))
	case strings.HasPrefix(p.crash, "panic: test timed out"):
		return Error, "not run: the test binary " + strings.TrimPrefix(p.crash, "panic: test ") + " before this step"
	case p.crash != "":
		return Error, "not run: the test binary crashed before this step: " + p.crash
	case p.failed && firstLine(p.lines) != "":
		return Error, "not run: " + firstLine(p.lines)
	}
	return Error, fmt.Sprintf("not run: there is no test %s in labs/%s", name, l.Name)
}

// firstBuildError skips the "# package" header of the compiler's output.
func firstBuildError(lines []string) string {
	for _, l := range lines {
		if l != "" && !strings.HasPrefix(l, "# ") {
			return l
		}
	}
	return "build failed"
}

func firstLine(lines []string) string {
	for _, l := range lines {
		if s := strings.TrimSpace(l); s != "" && !strings.HasPrefix(s, "FAIL") && s != "PASS" {
			return s
		}
	}
	return ""
}

// userLines leaves out go test's framing lines.
func userLines(lines []string) []string {
	var out []string
	for _, l := range lines {
		if !framing(l) {
			out = append(out, l)
		}
	}
	return out
}

// todoRe finds the message of lab.TODO in a failure.
var todoRe = regexp.MustCompile(`\w+ step \d+ is not written yet: [^(]*\(see [^)]*\)`)

var logLine = regexp.MustCompile(`^ {4}[^ ]+\.go:\d+: (.*)$`)

// message finds the failure (or skip) message in a test's output: the last
// t.Error/t.Fatal/t.Skip block that points at the docs, else the last block,
// else the first line the test printed. It returns its first line and the
// whole block.
func message(lines []string) (first, whole string) {
	var blocks [][]string
	for _, l := range lines {
		if m := logLine.FindStringSubmatch(l); m != nil {
			blocks = append(blocks, []string{m[1]})
		} else if strings.HasPrefix(l, "        ") && len(blocks) > 0 {
			b := &blocks[len(blocks)-1]
			*b = append(*b, strings.TrimPrefix(l, "        "))
		}
	}
	for i := len(blocks) - 1; i >= 0; i-- {
		if strings.Contains(strings.Join(blocks[i], "\n"), "docs/labs/") {
			return blocks[i][0], strings.Join(blocks[i], "\n")
		}
	}
	if n := len(blocks); n > 0 {
		return blocks[n-1][0], strings.Join(blocks[n-1], "\n")
	}
	u := userLines(lines)
	first = firstLine(u)
	return first, strings.TrimSpace(strings.Join(u, "\n"))
}

// problems lists what failed packages printed outside any test, such as
// the host snapshot check of labtest.Main: "FAIL: the tests changed the
// host" and the indented lines after it.
func problems(pkgs map[string]*pkgRun) []string {
	names := make([]string, 0, len(pkgs))
	for name := range pkgs {
		names = append(names, name)
	}
	sort.Strings(names)
	var out []string
	for _, name := range names {
		p := pkgs[name]
		if !p.failed {
			continue
		}
		taking := false
		for _, l := range p.lines {
			switch {
			case strings.HasPrefix(l, "FAIL: "):
				taking = true
				out = append(out, name+": "+strings.TrimPrefix(l, "FAIL: "))
			case taking && strings.HasPrefix(l, "  "):
				out[len(out)-1] += "; " + strings.TrimSpace(l)
			default:
				taking = false
			}
		}
	}
	return out
}
