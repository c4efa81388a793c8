package lab

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sync"
)

// Scenario is a step's two halves, made with Do: run, in a lab host, in a
// process of its own that calls the learner's code; check, in the harness, a
// process that never runs learner code and makes the verdict.
type Scenario interface {
	run(ctx context.Context, cleanup *Cleanup) (json.RawMessage, error)
	check(c *Check, report json.RawMessage) error
}

// Do makes a step's scenario of its two halves.
//
// run calls the learner's code and returns what it saw, a report that
// crosses to the harness as JSON (so its fields must be exported). What must
// stay alive while the harness looks at it (a child held in its namespaces)
// is stopped through cleanup, after the check. An error from run fails the
// step with that error.
//
// check gets the report in the harness: it verifies what it can against the
// kernel itself, through c (namespaces, /proc files, a visit with setns),
// narrates through c, and returns what the kernel was expected to do and did
// not, or nil. The same check serves the narrated run and the graded test.
func Do[R any](run func(ctx context.Context, cleanup *Cleanup) (R, error), check func(c *Check, r R) error) Scenario {
	return scenario[R]{runFn: run, checkFn: check}
}

type scenario[R any] struct {
	runFn   func(ctx context.Context, cleanup *Cleanup) (R, error)
	checkFn func(c *Check, r R) error
}

func (s scenario[R]) run(ctx context.Context, cleanup *Cleanup) (json.RawMessage, error) {
	r, err := s.runFn(ctx, cleanup)
	if err != nil {
		return nil, err
	}
	raw, err := json.Marshal(r)
	if err != nil {
		return nil, fmt.Errorf("encode the step's report: %w", err)
	}
	return raw, nil
}

func (s scenario[R]) check(c *Check, raw json.RawMessage) error {
	var r R
	if err := json.Unmarshal(raw, &r); err != nil {
		return fmt.Errorf("read the step's report: %w", err)
	}
	return s.checkFn(c, r)
}

// CheckReport runs the check half of sc on a report, as the harness does:
// for table tests of a step's check on recorded reports.
func CheckReport[R any](sc Scenario, c *Check, r R) error {
	raw, err := json.Marshal(r)
	if err != nil {
		return err
	}
	return sc.check(c, raw)
}

// Cleanup holds what a step's run leaves alive for the harness to look at,
// to be undone once the check is over: functions run last added, first run.
type Cleanup struct {
	mu  sync.Mutex
	fns []func()
}

// Add registers fn; nil is ignored.
func (c *Cleanup) Add(fn func()) {
	if fn == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.fns = append(c.fns, fn)
}

// Run runs the registered functions, last added first, and forgets them.
func (c *Cleanup) Run() {
	c.mu.Lock()
	fns := c.fns
	c.fns = nil
	c.mu.Unlock()
	for _, fn := range slices.Backward(fns) {
		fn()
	}
}
