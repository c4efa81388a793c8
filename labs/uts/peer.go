//go:build linux

package uts

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"

	"github.com/nslab/nslab/pkg/spawn"
)

// peer is a running uts-peer child that the lab talks to over its stdin and
// stdout, one line each way: the only synchronisation is the answer.
type peer struct {
	*spawn.Child
	in   *os.File
	outR *os.File
	out  *bufio.Reader
	errs syncBuffer
}

// launch starts a peer with start (spawn.Start, or the learner's code) from
// base, which gets the peer's entrypoint and pipes, and releases it.
func launch(start func(spawn.Config) (*spawn.Child, error), base spawn.Config) (p *peer, err error) {
	inR, inW, err := os.Pipe()
	if err != nil {
		return nil, fmt.Errorf("make a pipe for a peer's stdin: %w", err)
	}
	defer inR.Close()
	outR, outW, err := os.Pipe()
	if err != nil {
		inW.Close()
		return nil, fmt.Errorf("make a pipe for a peer's stdout: %w", err)
	}
	defer outW.Close()
	guard, err := guardArg()
	if err != nil {
		inW.Close()
		outR.Close()
		return nil, err
	}
	base.Args = []string{guard}
	p = &peer{in: inW, outR: outR, out: bufio.NewReader(outR)}
	defer func() {
		if p == nil || p.Child == nil { // start failed or panicked (an unwritten step)
			inW.Close()
			outR.Close()
		}
	}()
	base.Entrypoint, base.Stdin, base.Stdout, base.Stderr = entryPeer, inR, outW, &p.errs
	c, err := start(base)
	if err != nil {
		return nil, err
	}
	p.Child = c
	if err := c.Release(); err != nil {
		p.stop()
		return nil, err
	}
	return p, nil
}

// ask sends one command and returns the names in the answer.
func (p *peer) ask(cmd string) (Names, error) {
	if _, err := fmt.Fprintln(p.in, cmd); err != nil {
		return Names{}, fmt.Errorf("tell peer PID %d %q: %w", p.PID(), cmd, err)
	}
	line, err := p.out.ReadString('\n')
	if err == io.EOF {
		return Names{}, fmt.Errorf("peer PID %d ended before answering %q: %s", p.PID(), cmd, p.errs.String())
	}
	if err != nil {
		return Names{}, fmt.Errorf("read the answer of peer PID %d to %q: %w", p.PID(), cmd, err)
	}
	if msg, ok := strings.CutPrefix(line, "error: "); ok {
		return Names{}, fmt.Errorf("peer PID %d, %q: %s", p.PID(), cmd, strings.TrimSpace(msg))
	}
	return ParseNames(line)
}

// stop ends the peer's input, so that it exits, and reaps it.
func (p *peer) stop() {
	p.in.Close()
	p.Child.Stop()
	p.outR.Close()
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
