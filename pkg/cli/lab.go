package cli

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"text/tabwriter"

	"github.com/nslab/nslab/pkg/lab"
)

const labUsage = `usage: nslab lab [NAME] [--step N]
       nslab lab [NAME] --list

Runs a lab of the course, narrating each step: what the learner's code asked
of the kernel and what the kernel did. Without NAME, runs every lab in course
order. With --step, runs only step N of lab NAME. On Ctrl-C, the children the
steps started are stopped.

Flags:
  --list      list the labs and their steps with their points; run nothing
  --step N    run only step N (1 or 01) of lab NAME
  -h, --help  print this help

Exit status: 0 when every step passed, 1 when a step failed (the last lines
name each failed step and the section of the docs to read), 2 for a bad
command line or an unknown lab or step.
`

// labOptions is the parsed command line of nslab lab.
type labOptions struct {
	labs []*lab.Lab
	step string
	list bool
}

func runLab(args []string, _ io.Reader, stdout, stderr io.Writer) int {
	opts, code, done := parseLab(args, stdout, stderr)
	if done {
		return code
	}
	if opts.list {
		io.WriteString(stdout, FormatLabs(opts.labs))
		return exitOK
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
	defer stop()
	return runLabs(ctx, opts, stdout, stderr)
}

func parseLab(args []string, stdout, stderr io.Writer) (labOptions, int, bool) {
	var opts labOptions
	fs := newFlagSet("lab")
	fs.StringVar(&opts.step, "step", "", "")
	fs.BoolVar(&opts.list, "list", false, "")
	pos, err := parseInterspersed(fs, args)
	if code, done := parseResult(fs, err, stdout, stderr, labUsage); done {
		return opts, code, true
	}
	if opts.labs, err = selectLabs(pos, opts.step); err != nil {
		return opts, fail(stderr, err), true
	}
	return opts, exitOK, false
}

// selectLabs returns the labs named on the command line: one, or all.
func selectLabs(pos []string, step string) ([]*lab.Lab, error) {
	switch {
	case len(pos) > 1:
		return nil, usageErrorf("lab: one lab at a time, not %s (usage: nslab lab [NAME] [--step N])", strings.Join(pos, " "))
	case len(pos) == 0 && step != "":
		return nil, usageErrorf("lab: --step %s needs a lab NAME (see nslab lab --list)", step)
	case len(pos) == 0:
		if all := lab.All(); len(all) > 0 {
			return all, nil
		}
		return nil, fmt.Errorf("lab: no lab is registered in this binary")
	}
	l, err := lab.Get(pos[0])
	if err != nil {
		return nil, usageErrorf("lab: %v", err)
	}
	if step != "" {
		if _, err := l.Step(step); err != nil {
			return nil, usageErrorf("lab: %v", err)
		}
	}
	return []*lab.Lab{l}, nil
}

func runLabs(ctx context.Context, opts labOptions, stdout, stderr io.Writer) int {
	var failed []string
	passed, total := 0, 0
	for _, l := range opts.labs {
		results, err := lab.Run(ctx, l, stdout, opts.step)
		if err != nil {
			return fail(stderr, fmt.Errorf("lab %s: %w", l.Name, err))
		}
		for _, r := range results {
			total++
			if r.Err == nil {
				passed++
				continue
			}
			failed = append(failed, fmt.Sprintf("FAIL lab %s step %s (%s): read %s", l.Name, r.Step.ID, r.Step.Title, l.Anchor(r.Step)))
		}
	}
	fmt.Fprintf(stdout, "\n== %d of %d steps passed\n", passed, total)
	for _, f := range failed {
		fmt.Fprintln(stdout, f)
	}
	if len(failed) > 0 {
		return exitFail
	}
	return exitOK
}

// FormatLabs renders nslab lab --list: each lab with its steps and points.
func FormatLabs(labs []*lab.Lab) string {
	var b strings.Builder
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	for _, l := range labs {
		fmt.Fprintf(tw, "%s\t%s\t%d points\n", l.Name, l.Title, l.Points())
		for _, s := range l.Steps {
			fmt.Fprintf(tw, "  %s %s\t%s\t%d points\n", s.ID, s.Slug, s.Title, s.Points)
		}
	}
	tw.Flush()
	return b.String()
}
