//go:build linux

package cgroup

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"

	"github.com/nslab/nslab/pkg/spawn"
)

// talker is a child of the lab that reports one JSON line once released,
// then waits for the end of its input: it stays alive, in its namespaces and
// its cgroup, until the harness has looked at it from outside. (labs/user
// has the same.)
type talker struct {
	*spawn.Child
	in   *os.File // the write end of its stdin: closing it ends the child
	outR *os.File
	out  *bufio.Reader
	errs syncBuffer
}

// startTalker starts cfg (its Entrypoint a talker's), held, with pipes for
// its stdin and stdout.
func startTalker(start func(spawn.Config) (*spawn.Child, error), cfg spawn.Config) (t *talker, err error) {
	inR, inW, err := os.Pipe()
	if err != nil {
		return nil, fmt.Errorf("make a pipe for a child's stdin: %w", err)
	}
	defer inR.Close()
	outR, outW, err := os.Pipe()
	if err != nil {
		inW.Close()
		return nil, fmt.Errorf("make a pipe for a child's stdout: %w", err)
	}
	defer outW.Close()
	t = &talker{in: inW, outR: outR, out: bufio.NewReader(outR)}
	defer func() {
		if t == nil || t.Child == nil { // start failed, or panicked
			inW.Close()
			outR.Close()
		}
	}()
	cfg.Stdin, cfg.Stdout, cfg.Stderr = inR, outW, &t.errs
	c, err := start(cfg)
	if err != nil {
		return nil, err
	}
	if c == nil {
		return nil, errors.New("no child and no error; want the *spawn.Child of spawn.Start")
	}
	t.Child = c
	return t, nil
}

// report releases the child and reads its report into v.
func (t *talker) report(v any) error {
	if err := t.Release(); err != nil {
		return err
	}
	line, err := t.out.ReadBytes('\n')
	if err == io.EOF {
		t.Wait()
		return fmt.Errorf("PID %d ended without a report: %s", t.PID(), t.errs.String())
	}
	if err != nil {
		return fmt.Errorf("read the report of PID %d: %w", t.PID(), err)
	}
	if err := json.Unmarshal(line, v); err != nil {
		return fmt.Errorf("read the report %q of PID %d: %w", bytes.TrimSpace(line), t.PID(), err)
	}
	return nil
}

// stop ends the child (the end of its input, then a signal) and reaps it.
func (t *talker) stop() {
	t.in.Close()
	t.Stop()
	t.outR.Close()
}

// syncBuffer is a bytes.Buffer that os/exec may write while the lab reads it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return strings.TrimSpace(s.b.String())
}
