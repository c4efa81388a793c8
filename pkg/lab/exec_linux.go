//go:build linux

package lab

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/nslab/nslab/pkg/labhost"
)

// EnvTimeout names the per-step time limit, a Go duration ("30s", "2m").
const EnvTimeout = "NSLAB_STEP_TIMEOUT"

// DefaultTimeout is a step's time limit when NSLAB_STEP_TIMEOUT is unset.
const DefaultTimeout = 30 * time.Second

// maxOutput is how much of what a step printed is kept (the end of it).
const maxOutput = 16 << 10

// Timeout returns the per-step time limit.
func Timeout() (time.Duration, error) {
	v := os.Getenv(EnvTimeout)
	if v == "" {
		return DefaultTimeout, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil || d <= 0 {
		return 0, fmt.Errorf("%s=%q: want a positive Go duration such as 30s or 2m", EnvTimeout, v)
	}
	return d, nil
}

// Exec runs step s of lab l as a learner's step runs everywhere: its run
// half in a lab host of its own (pkg/labhost), in a process that does
// nothing else, and its check half here, narrating to n. Whatever the step's
// code does (panic, os.Exit, hang, print forged verdicts), it costs this step
// only: the outcome says what happened, and when Exec returns every process
// the step started is gone with its lab host.
func Exec(ctx context.Context, l *Lab, s *Step, n *Narrator) Outcome {
	start := time.Now()
	out := &capBuffer{max: maxOutput}
	o := execStep(ctx, l, s, n, out)
	o.Output, o.Duration = Safe(out.String(), maxOutput), time.Since(start)
	return o
}

func execStep(ctx context.Context, l *Lab, s *Step, n *Narrator, out *capBuffer) Outcome {
	limit, err := Timeout()
	if err != nil {
		return Outcome{Err: err}
	}
	if s.Cgroup {
		if err := labhost.CheckCgroup(); err != nil {
			return Outcome{Skip: "the step needs a cgroup of its own: " + err.Error()}
		}
	}
	ctx, cancel := context.WithTimeout(ctx, limit)
	defer cancel()
	repR, repW, err := os.Pipe()
	if err != nil {
		return Outcome{Err: fmt.Errorf("make pipe: %w", err)}
	}
	defer repR.Close()
	doneR, doneW, err := os.Pipe()
	if err != nil {
		repW.Close()
		return Outcome{Err: fmt.Errorf("make pipe: %w", err)}
	}
	h, err := labhost.Start(ctx, labhost.Options{Entrypoint: entryStep, Args: []string{l.Name, s.ID}, Stdout: out, Stderr: out, ExtraFiles: []*os.File{repW, doneR}, Cgroup: s.Cgroup})
	repW.Close()
	doneR.Close()
	if err != nil {
		doneW.Close()
		return Outcome{Err: err}
	}
	defer h.Stop() // the lab host's init: every process of the step dies with it
	if _, err := doneW.Write([]byte{1}); err != nil {
		doneW.Close()
		h.Wait()
		return Outcome{Err: ended(err, out.String())}
	}
	env, o := await(ctx, h, repR, limit, out)
	if o != nil {
		doneW.Close()
		return *o
	}
	err = verdict(l, s, n, h, env)
	doneW.Close() // the runner cleans up and ends
	finish(h)
	return Outcome{Err: err}
}

// await reads the runner's envelope; a nil envelope comes with the outcome
// that explains why there is none.
func await(ctx context.Context, h *labhost.Host, r *os.File, limit time.Duration, out *capBuffer) (*envelope, *Outcome) {
	got := make(chan *envelope, 1)
	go func() {
		line, err := bufio.NewReaderSize(r, 64<<10).ReadBytes('\n')
		var env envelope
		if err != nil || json.Unmarshal(line, &env) != nil {
			got <- nil
			return
		}
		got <- &env
	}()
	select {
	case env := <-got:
		if env != nil {
			return env, nil
		}
		err := h.Wait() // no report: the runner ended (or closed its pipe)
		return nil, &Outcome{Err: ended(err, out.String())}
	case <-ctx.Done():
		return nil, &Outcome{Err: fmt.Errorf("the step did not finish within %v: its code hangs or deadlocks (the limit is %s, default %v)", limit, EnvTimeout, DefaultTimeout), Timeout: true}
	}
}

// ended explains a runner that ended without a report.
func ended(err error, output string) error {
	why := "it exited"
	if err != nil {
		why = err.Error()
	}
	msg := fmt.Sprintf("the step's process ended before it reported (%s): its code crashed, or called os.Exit", why)
	if where := PanicSite(output); where != "" {
		msg += "; the panic came from " + where
	}
	return errors.New(msg)
}

// verdict makes the step's verdict from its envelope: the run half's error,
// or the check half's, made here.
func verdict(l *Lab, s *Step, n *Narrator, h *labhost.Host, env *envelope) error {
	switch {
	case env.TODO:
		return &NotImplemented{Lab: l.Name, Step: s.ID}
	case env.Error != "":
		return errors.New(env.Error)
	case s.Do == nil:
		return nil // a step in the old shape: its run half narrated and decided
	}
	c := NewCheck(n, h.Proc(), env.PID)
	c.Cgroup = h.Cgroup()
	return Recover(func() error { return s.Do.check(c, env.Report) })
}

// finish gives the runner a moment to clean up after the check; the caller's
// Stop ends the lab host either way.
func finish(h *labhost.Host) {
	done := make(chan struct{})
	go func() { h.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
	}
}
