package loop

import (
	"fmt"
	"io"
	"strings"

	"github.com/nslab/nslab/pkg/grade"
	"github.com/nslab/nslab/pkg/lab"
)

// Mark is a step's sign in the progress table.
func Mark(s *grade.StepResult) string {
	switch {
	case s.Outcome == grade.Pass:
		return "✓"
	case s.NotWritten():
		return "·"
	case s.Outcome == grade.Fail:
		return "✗"
	}
	return "-"
}

// Legend explains the marks.
const Legend = "✓ passes   ✗ fails   · not written yet   - did not run (skipped, or the lab does not build)"

// WriteProgress prints a learner's progress from a grade of the labs: per
// lab a bar, the points, a mark per step and, under a lab not finished, its
// next step (title, file and function to edit, docs); then the total and
// where to work next.
func WriteProgress(w io.Writer, r *grade.Report) {
	labs := labsOf(r)
	nameW := 0
	for _, l := range labs {
		nameW = max(nameW, len(l.Name))
	}
	indent := strings.Repeat(" ", nameW+2)
	for _, l := range labs {
		got, total := 0, 0
		var marks []string
		var next *grade.StepResult
		for _, s := range r.Steps {
			if s.Lab != l {
				continue
			}
			got, total = got+s.Score, total+s.Step.Points
			marks = append(marks, s.Step.ID+Mark(s))
			if next == nil && s.Outcome != grade.Pass {
				next = s
			}
		}
		fmt.Fprintf(w, "%-*s  [%s] %7s  %s\n", nameW, l.Name, bar(got, total, 20), fmt.Sprintf("%d/%d", got, total), strings.Join(marks, " "))
		if next != nil {
			fmt.Fprintf(w, "%snext: step %s, %s: %s\n", indent, next.Step.ID, next.Step.Title, next.Where())
		}
	}
	fmt.Fprintf(w, "\n%s\n", Legend)
	for _, p := range r.Problems {
		fmt.Fprintf(w, "problem: %s\n", p)
	}
	total, maxScore := r.Points()
	fmt.Fprintf(w, "total: %d/%d points, %d of %d steps pass\n", total, maxScore, r.Count(grade.Pass), len(r.Steps))
	if next := r.Next(); next != nil {
		fmt.Fprintf(w, "%s\n  go tool mage watch %s   re-runs it each time you save\n", r.NextLine(), next.Lab.Name)
	} else {
		fmt.Fprintln(w, "every step passes: well done")
	}
}

func labsOf(r *grade.Report) []*lab.Lab {
	var labs []*lab.Lab
	for _, s := range r.Steps {
		if len(labs) == 0 || labs[len(labs)-1] != s.Lab {
			labs = append(labs, s.Lab)
		}
	}
	return labs
}

// bar draws got out of total in width characters: #####.....
func bar(got, total, width int) string {
	n := 0
	if total > 0 {
		n = got * width / total
	}
	return strings.Repeat("#", n) + strings.Repeat(".", width-n)
}
