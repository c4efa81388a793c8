//go:build linux

package lab

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/nslab/nslab/pkg/host"
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
	return (*Hosts)(nil).Exec(ctx, l, s, n)
}

// Exec runs step s of lab l as the function Exec does, in a lab host that
// p lends: one that no step has changed (see Hosts).
func (p *Hosts) Exec(ctx context.Context, l *Lab, s *Step, n *Narrator) Outcome {
	start := time.Now()
	out := &capBuffer{max: maxOutput}
	o := p.execStep(ctx, l, s, n, out)
	o.Output, o.Duration = Safe(out.String(), maxOutput), time.Since(start)
	return o
}

func (p *Hosts) execStep(ctx context.Context, l *Lab, s *Step, n *Narrator, out *capBuffer) Outcome {
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
	defer doneW.Close() // the runner cleans up and ends
	sh, err := p.launch(ctx, l, s, out, repW, doneR)
	repW.Close()
	doneR.Close()
	if err != nil {
		return Outcome{Err: err}
	}
	defer sh.end()
	return sh.step(ctx, l, s, n, out, readLines(repR), doneW, limit)
}

// step waits for the runner to be ready, says go, and makes the verdict
// from its report.
func (sh *stepHost) step(ctx context.Context, l *Lab, s *Step, n *Narrator, out *capBuffer, lines <-chan []byte, doneW *os.File, limit time.Duration) Outcome {
	if _, o := sh.await(ctx, lines, limit, out); o != nil {
		return *o
	}
	guard := sh.guard()
	if _, err := doneW.Write([]byte{1}); err != nil {
		sh.wait()
		return Outcome{Err: ended(err, out.String())}
	}
	line, o := sh.await(ctx, lines, limit, out)
	var env *envelope
	if o == nil {
		env, o = decode(line)
	}
	if o != nil {
		return *o
	}
	err := guard.judge(verdict(l, s, n, sh.h, env))
	doneW.Close() // the runner cleans up and ends
	sh.reusable = sh.finish() && passedOrUnwritten(err)
	return Outcome{Err: err, Procs: n.procs()}
}

// readLines sends each line the runner writes; the channel closes at the
// end of the pipe (the runner is gone, or closed it).
func readLines(r *os.File) <-chan []byte {
	lines := make(chan []byte, 2)
	go func() {
		defer close(lines)
		br := bufio.NewReaderSize(r, 64<<10)
		for {
			line, err := br.ReadBytes('\n')
			if err != nil {
				return
			}
			lines <- line
		}
	}()
	return lines
}

// await waits for the runner's next line; without one, the outcome says
// why: the runner ended (a crash, os.Exit) or the step's time ran out.
func (sh *stepHost) await(ctx context.Context, lines <-chan []byte, limit time.Duration, out *capBuffer) ([]byte, *Outcome) {
	select {
	case line, ok := <-lines:
		if ok {
			return line, nil
		}
		err := sh.wait()
		return nil, &Outcome{Err: ended(err, out.String())}
	case <-ctx.Done():
		return nil, &Outcome{Err: fmt.Errorf("the step did not finish within %v: its code hangs or deadlocks (the limit is %s, default %v)", limit, EnvTimeout, DefaultTimeout), Timeout: true}
	}
}

// decode reads the runner's envelope.
func decode(line []byte) (*envelope, *Outcome) {
	var env envelope
	if err := json.Unmarshal(line, &env); err != nil {
		return nil, &Outcome{Err: fmt.Errorf("read the step's report %.200q: %w", line, err)}
	}
	return &env, nil
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
	c.Cgroup, c.PidsV1 = h.Cgroup(), h.PidsV1()
	if base, err := c.Host(); err == nil {
		n.base = &base
	}
	return Recover(func() error { return s.Do.check(c, env.Report) })
}

// labHostGuard compares the lab host's own namespaces (its init's: the
// runner shares them) before and after the step's code ran, so that code
// that acted on its parent's namespaces instead of its own fails the step,
// whatever the step's check looks at. It needs root (host.TakeOf).
type labHostGuard struct {
	h      *labhost.Host
	before *host.Snapshot
}

func watchLabHost(h *labhost.Host) *labHostGuard {
	g := &labHostGuard{h: h}
	if before, err := host.TakeOf(h.ProcDir(1)); err == nil {
		g.before = &before
	}
	return g
}

// judge adds what changed in the lab host to the step's verdict err.
func (g *labHostGuard) judge(err error) error {
	if g.before == nil {
		return err
	}
	after, terr := host.TakeOf(g.h.ProcDir(1))
	if terr != nil {
		return err
	}
	diff := host.Diff(*g.before, after)
	if len(diff) == 0 {
		return err
	}
	changed := fmt.Sprintf("the lab host itself changed (the step's code acted on its parent's namespaces, not only on ones it made; see docs/safety.md#lab-host-changed): %s", strings.Join(diff, "; "))
	if err != nil {
		return fmt.Errorf("%w; and %s", err, changed)
	}
	return errors.New(changed)
}
