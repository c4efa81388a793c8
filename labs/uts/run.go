//go:build linux

package uts

import (
	"context"
	"errors"
	"fmt"

	"github.com/nslab/nslab/pkg/lab"
)

// The run halves of the steps: each calls the learner's code in the lab
// host and returns what it saw; check.go makes the verdicts.

// NewNamespace is what step 01 saw: a child StartInNewUTS returned, held.
type NewNamespace struct {
	PID int // the child, held for the harness to look at
}

func runNewNamespace(ctx context.Context, cleanup *lab.Cleanup) (NewNamespace, error) {
	child, err := StartInNewUTS(ctx, []string{"true"})
	if err != nil {
		return NewNamespace{}, fmt.Errorf("StartInNewUTS: %w", err)
	}
	if child == nil {
		return NewNamespace{}, errors.New("StartInNewUTS returned no child and no error; want the *spawn.Child of spawn.Start")
	}
	cleanup.Add(func() { child.Stop() })
	if child.Released() {
		return NewNamespace{}, fmt.Errorf("StartInNewUTS returned child PID %d already released; want it held, so that the caller can look at it before it runs (spawn.Start holds it; do not call Release, Run or Wait)", child.PID())
	}
	return NewNamespace{PID: child.PID()}, nil
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

func runJoin(ctx context.Context, _ *lab.Cleanup) (JoinReport, error) {
	r, err := Join(ctx, LabNames())
	if err != nil {
		return r, fmt.Errorf("read the names of a holder's UTS namespace through NamesIn: %w", err)
	}
	return r, nil
}

func runSharedChange(ctx context.Context, _ *lab.Cleanup) (ShareReport, error) {
	r, err := Share(ctx, LabNames())
	if err != nil {
		return r, fmt.Errorf("two processes renaming a UTS namespace they share: %w", err)
	}
	return r, nil
}
