//go:build linux

package uts

import (
	"context"
	"fmt"

	"github.com/nslab/nslab/pkg/lab"
	"github.com/nslab/nslab/pkg/spawn"
)

// The run halves of the steps: each calls the learner's code in the lab
// host and returns what it saw; check.go makes the verdicts.

// NewNamespace is what step 01 saw: a child StartInNewUTS returned, held.
type NewNamespace struct {
	PID int // the child, held for the harness to look at
}

func runNewNamespace(ctx context.Context, cleanup *lab.Cleanup) (NewNamespace, error) {
	child, err := StartInNewUTS(ctx, []string{"true"})
	pid, err := spawn.HeldPID("StartInNewUTS", child, err, cleanup.Add)
	return NewNamespace{PID: pid}, err
}

// SetNamesReport is what step 02 saw.
type SetNamesReport struct {
	Want    Names
	Child   Renamed   // a child in a new UTS namespace that called SetNames(Want)
	Refused []Refusal // what SetNames returned for names the kernel refuses
}

func runSetNames(ctx context.Context, _ *lab.Cleanup) (r SetNamesReport, err error) {
	r.Want = LabNames()
	if r.Child, err = RenameInChild(ctx, r.Want); err != nil {
		return r, fmt.Errorf("a child in a new UTS namespace calling SetNames(%s) failed: %w", r.Want, err)
	}
	if r.Refused, err = RefusedInChild(ctx); err != nil {
		return r, fmt.Errorf("a child in a new UTS namespace calling SetNames with names longer than 64 bytes: %w", err)
	}
	return r, nil
}

func runHostUntouched(ctx context.Context, _ *lab.Cleanup) (UntouchedReport, error) {
	r, err := HostUntouched(ctx, LabNames())
	if err != nil {
		return r, fmt.Errorf("read the host's names around a renamed child: %w", err)
	}
	if r.Masked, err = MaskedInChild(ctx); err != nil {
		return r, fmt.Errorf("call HostNames where /proc/sys/kernel is hidden: %w", err)
	}
	return r, nil
}

var (
	runJoin         = withLabNames(Join, "read the names of a holder's UTS namespace through NamesIn")
	runSharedChange = withLabNames(Share, "two processes renaming a UTS namespace they share")
)

// withLabNames is the run half of a step that is one scenario (scenario.go)
// with the lab's names; what says what it does, in its error.
func withLabNames[R any](scenario func(context.Context, Names) (R, error), what string) func(context.Context, *lab.Cleanup) (R, error) {
	return func(ctx context.Context, _ *lab.Cleanup) (R, error) {
		r, err := scenario(ctx, LabNames())
		if err != nil {
			return r, fmt.Errorf("%s: %w", what, err)
		}
		return r, nil
	}
}
