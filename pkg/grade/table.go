package grade

import (
	"fmt"
	"io"
	"strings"

	"github.com/nslab/nslab/pkg/lab"
)

// WriteTable prints the grade for a learner: a row per step (lab, step,
// title, points, result), under each step that did not pass the first line
// of the reason and the step's section in the docs, then a progress line per
// lab and the total.
func (r *Report) WriteTable(w io.Writer) {
	titleW := len("title")
	for _, s := range r.Steps {
		titleW = max(titleW, len(s.Step.Title))
	}
	labW := len("lab")
	for _, l := range r.labs() {
		labW = max(labW, len(l.Name))
	}
	if line := r.NextLine(); line != "" {
		fmt.Fprintf(w, "%s\n\n", line)
	}
	fmt.Fprintf(w, "%-*s  step  %-*s  points  result\n", labW, "lab", titleW, "title")
	indent := strings.Repeat(" ", labW+8)
	for _, s := range r.Steps {
		result := label(s.Outcome)
		if s.NotWritten() {
			result += " (not written yet)"
		}
		fmt.Fprintf(w, "%-*s  %-4s  %-*s  %6s  %s\n", labW, s.Lab.Name, s.Step.ID, titleW, s.Step.Title,
			fmt.Sprintf("%d/%d", s.Score, s.Step.Points), result)
		if s.Outcome != Pass && !s.NotWritten() {
			msg := strings.TrimSuffix(s.Message, " (see "+s.Lab.Anchor(s.Step)+")")
			fmt.Fprintf(w, "%s%s\n%ssee %s\n", indent, clip(msg, 160), indent, s.Lab.Anchor(s.Step))
		}
	}
	fmt.Fprintln(w)
	for _, l := range r.labs() {
		got, total, passed, steps := r.labPoints(l)
		fmt.Fprintf(w, "%-*s  [%s]  %7s points  %d/%d steps pass\n", labW, l.Name, bar(got, total, 20), fmt.Sprintf("%d/%d", got, total), passed, steps)
	}
	for _, p := range r.Problems {
		fmt.Fprintf(w, "problem: %s\n", clip(p, 300))
	}
	r.writeProvenance(w)
	total, maxScore := r.Points()
	fmt.Fprintf(w, "total: %d/%d points, %d of %d steps pass", total, maxScore, r.Count(Pass), len(r.Steps))
	if n := r.Count(Skip) + r.Count(Error); n > 0 {
		fmt.Fprintf(w, " (%d did not run)", n)
	}
	fmt.Fprintln(w)
}

// Next is the step to work on: the first that does not pass, in course
// order; nil when every step passes.
func (r *Report) Next() *StepResult {
	for _, s := range r.Steps {
		if s.Outcome != Pass {
			return s
		}
	}
	return nil
}

// NextLine says where to work next, in one line: "begin with
// labs/uts/uts.go, StartInNewUTS (docs/labs/uts.md#step-01)" when no step
// passes yet, "next: …" when some do, "" when every step passes.
func (r *Report) NextLine() string {
	next := r.Next()
	if next == nil {
		return ""
	}
	verb := "next:"
	if r.Count(Pass) == 0 {
		verb = "begin with"
	}
	return verb + " " + next.Where()
}

// Where names the step for a learner: the file and function to edit and its
// section in the docs: "labs/uts/uts.go, StartInNewUTS
// (docs/labs/uts.md#step-01)"; without a known place, the lab, step and title.
func (s *StepResult) Where() string {
	if s.File == "" {
		return fmt.Sprintf("%s step %s, %s (%s)", s.Lab.Name, s.Step.ID, s.Step.Title, s.Lab.Anchor(s.Step))
	}
	where := s.File
	if s.Func != "" {
		where += ", " + s.Func
	}
	return where + " (" + s.Lab.Anchor(s.Step) + ")"
}

// NotWritten reports whether the step failed only because its solution
// region is still the starter's stub (lab.TODO).
func (s *StepResult) NotWritten() bool {
	if s.Outcome != Fail {
		return false
	}
	todo := lab.TODO(s.Lab.Name, s.Step.ID).Error()
	todo = todo[:strings.Index(todo, ":")] // "uts step 01 is not written yet"
	return strings.Contains(s.Message, todo)
}

func label(o Outcome) string {
	if o == Pass {
		return "pass"
	}
	return strings.ToUpper(string(o))
}

// labs returns the labs of the report in order.
func (r *Report) labs() []*lab.Lab {
	var labs []*lab.Lab
	for _, s := range r.Steps {
		if len(labs) == 0 || labs[len(labs)-1] != s.Lab {
			labs = append(labs, s.Lab)
		}
	}
	return labs
}

func (r *Report) labPoints(l *lab.Lab) (got, total, passed, steps int) {
	for _, s := range r.Steps {
		if s.Lab == l {
			got, total, steps = got+s.Score, total+s.Step.Points, steps+1
			if s.Outcome == Pass {
				passed++
			}
		}
	}
	return got, total, passed, steps
}

// bar draws got out of total in width characters: [#####.....].
func bar(got, total, width int) string {
	n := 0
	if total > 0 {
		n = got * width / total
	}
	return strings.Repeat("#", n) + strings.Repeat(".", width-n)
}

// clip cuts s to at most n characters (runes), marking the cut.
func clip(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}

// writeProvenance says what was graded: the solution regions in a pristine
// copy, and the files changed outside them (which count for nothing).
func (r *Report) writeProvenance(w io.Writer) {
	if r.Pristine == "" {
		fmt.Fprintln(w, "graded: this tree as it is (the Classroom grades only your solution regions, in a pristine copy of the course)")
		return
	}
	fmt.Fprintf(w, "graded: your solution regions in %s\n", r.Pristine)
	if len(r.Tampered) > 0 {
		fmt.Fprintf(w, "tampered (ignored by the grade): %s\n", clip(r.TamperedList(), 2000))
	}
}
