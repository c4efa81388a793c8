//go:build linux

package pid

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"sync"

	"github.com/nslab/nslab/pkg/spawn"
	"golang.org/x/sys/unix"
)

// piped is a started child with a pipe to its standard input and one from
// its standard output. The lab's children report a line of JSON (or a few
// lines of text) and then wait for their standard input to close: the run
// halves keep them so until the harness has checked the step.
type piped struct {
	child *spawn.Child
	in    *os.File
	out   *bufio.Reader
	outR  *os.File
	errb  syncBuffer
}

// startPiped starts cfg with start (spawn.Start, or the learner's function
// that calls it), with pipes on stdin and stdout, and returns it held, so
// that the caller can look at it before Release.
func startPiped(ctx context.Context, cfg spawn.Config, start func(context.Context, spawn.Config) (*spawn.Child, error)) (*piped, error) {
	inR, inW, err := os.Pipe()
	if err != nil {
		return nil, fmt.Errorf("make pipe: %w", err)
	}
	outR, outW, err := os.Pipe()
	if err != nil {
		inR.Close()
		inW.Close()
		return nil, fmt.Errorf("make pipe: %w", err)
	}
	p := &piped{in: inW, outR: outR, out: bufio.NewReader(outR)}
	cfg.Stdin, cfg.Stdout, cfg.Stderr = inR, outW, &p.errb
	p.child, err = start(ctx, cfg)
	inR.Close()
	outW.Close()
	if err == nil && p.child == nil {
		err = fmt.Errorf("no child and no error were returned; want the *spawn.Child of spawn.Start")
	}
	if err != nil {
		if p.child != nil {
			p.child.Stop()
		}
		inW.Close()
		outR.Close()
		return nil, err
	}
	return p, nil
}

// line reads one line of the child's output; at the end of it, the child's
// exit and standard error say why.
func (p *piped) line() (string, error) {
	s, err := p.out.ReadString('\n')
	if err != nil {
		p.in.Close()
		werr := p.child.Wait()
		return "", fmt.Errorf("PID %d stopped answering: %v (%w): %s", p.child.PID(), werr, err, p.errb.String())
	}
	return strings.TrimSpace(s), nil
}

// report reads the child's one line of JSON into v.
func (p *piped) report(v any) error {
	s, err := p.line()
	if err != nil {
		return err
	}
	if err := json.Unmarshal([]byte(s), v); err != nil {
		return fmt.Errorf("PID %d said %q: %w", p.child.PID(), s, err)
	}
	return nil
}

// end closes the child's input and waits for it to exit on its own.
func (p *piped) end() error {
	p.in.Close()
	if err := p.child.Wait(); err != nil {
		return fmt.Errorf("%w: %s", err, p.errb.String())
	}
	return nil
}

// stop kills the child (SIGKILL: a namespace's init may ignore SIGTERM) and closes the pipes.
func (p *piped) stop() {
	p.in.Close()
	p.child.Stop()
	p.outR.Close()
}

// withKill makes cfg stop with SIGKILL at once.
func withKill(cfg spawn.Config) spawn.Config {
	cfg.StopSignal = unix.SIGKILL
	return cfg
}

// syncBuffer is a bytes.Buffer that os/exec may write while the lab reads it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(b []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(b)
}

// String is what was written, without surrounding blanks.
func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return strings.TrimSpace(s.b.String())
}
