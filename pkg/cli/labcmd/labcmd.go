// Package labcmd is the lab command of nslab: it runs the course's labs,
// narrated. It is apart from package cli, which the binary installs it in
// (cli.SetLab), so that nslab run and nslab ns do not link the labs: their
// start-up would cost every command (docs/performance.md).
package labcmd

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"text/tabwriter"

	"github.com/nslab/nslab/pkg/cli/internal/cmdline"
	"github.com/nslab/nslab/pkg/lab"
)

// Usage is the help of nslab lab.
const Usage = cmdline.LabUsage

// labOptions is the parsed command line of nslab lab.
type labOptions struct {
	labs []*lab.Lab
	step string
	list bool
}

// Run runs nslab lab with args (after "lab") and returns its exit status.
func Run(args []string, stdout, stderr io.Writer) int {
	opts, code, done := parseLab(args, stdout, stderr)
	if done {
		return code
	}
	if opts.list {
		io.WriteString(stdout, FormatLabs(opts.labs))
		return cmdline.ExitOK
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
	defer stop()
	return runLabs(ctx, opts, stdout, stderr)
}

func parseLab(args []string, stdout, stderr io.Writer) (labOptions, int, bool) {
	var opts labOptions
	fs := cmdline.NewFlagSet("lab")
	fs.StringVar(&opts.step, "step", "", "")
	fs.BoolVar(&opts.list, "list", false, "")
	pos, err := cmdline.ParseInterspersed(fs, args)
	if code, done := cmdline.ParseResult(fs, err, stdout, stderr, Usage); done {
		return opts, code, true
	}
	if opts.labs, err = selectLabs(pos, opts.step); err != nil {
		return opts, cmdline.Fail(stderr, err), true
	}
	return opts, cmdline.ExitOK, false
}

// selectLabs returns the labs named on the command line: one, or all.
func selectLabs(pos []string, step string) ([]*lab.Lab, error) {
	switch {
	case len(pos) > 1:
		return nil, cmdline.UsageErrorf("lab: one lab at a time, not %s (usage: nslab lab [NAME] [--step N])", strings.Join(pos, " "))
	case len(pos) == 0 && step != "":
		return nil, cmdline.UsageErrorf("lab: --step %s needs a lab NAME (see nslab lab --list)", step)
	case len(pos) == 0:
		if all := lab.All(); len(all) > 0 {
			return all, nil
		}
		return nil, fmt.Errorf("lab: no lab is registered in this binary")
	}
	l, err := lab.Get(pos[0])
	if err != nil {
		return nil, cmdline.UsageErrorf("lab: %v", err)
	}
	if step != "" {
		if _, err := l.Step(step); err != nil {
			return nil, cmdline.UsageErrorf("lab: %v", err)
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
			return cmdline.Fail(stderr, fmt.Errorf("lab %s: %w", l.Name, err))
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
		return cmdline.ExitFail
	}
	return cmdline.ExitOK
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
