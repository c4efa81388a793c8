package lab

import (
	"context"
	"fmt"
	"io"
	"strings"
)

// Result is the outcome of one step run narrated.
type Result struct {
	Step *Step
	Err  error  // nil when the step did what it should
	Skip string // why the step could not run here
}

// Run runs the steps of l (all, or only the one with ID only) in order,
// narrating to w, and returns every step's result. A failed step does not stop
// the ones after it: each step starts its own children.
func Run(ctx context.Context, l *Lab, w io.Writer, only string) ([]Result, error) {
	steps := l.Steps
	if only != "" {
		s, err := l.Step(only)
		if err != nil {
			return nil, err
		}
		steps = []*Step{s}
	}
	fmt.Fprintf(w, "== Lab %s: %s\n", l.Name, l.Title)
	if l.Summary != "" && only == "" {
		fmt.Fprintf(w, "%s\n", l.Summary)
	}
	var results []Result
	hosts := NewHosts()
	defer hosts.Close()
	for _, s := range steps {
		results = append(results, runStep(ctx, hosts, l, s, w))
	}
	return results, nil
}

func runStep(ctx context.Context, hosts *Hosts, l *Lab, s *Step, w io.Writer) Result {
	fmt.Fprintf(w, "\n-- Step %s: %s (%d points)\n", s.ID, s.Title, s.Points)
	if s.Explain != "" {
		fmt.Fprintf(w, "   %s\n", s.Explain)
	}
	o := hosts.Exec(ctx, l, s, NewNarrator(w))
	if o.Output != "" {
		fmt.Fprintf(w, "   what the step's code printed:\n%s", indentLines(o.Output, "   "))
	}
	err := o.Err
	if o.Skip != "" {
		fmt.Fprintf(w, "   SKIP step %s: %s\n", s.ID, o.Skip)
		return Result{Step: s, Skip: o.Skip}
	}
	if err != nil {
		fmt.Fprintf(w, "   FAIL step %s: %v\n        read %s\n", s.ID, err, l.Anchor(s))
	} else {
		fmt.Fprintf(w, "   PASS step %s\n", s.ID)
	}
	return Result{Step: s, Err: err}
}

func indentLines(text, prefix string) string {
	var b strings.Builder
	for line := range strings.Lines(text) {
		b.WriteString(prefix + line)
	}
	return b.String()
}

// Failed counts the results with an error.
func Failed(results []Result) int {
	n := 0
	for _, r := range results {
		if r.Err != nil {
			n++
		}
	}
	return n
}
