//go:build linux

package timens

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"strings"
	"sync"
	"time"

	"github.com/nslab/nslab/pkg/lab"
	"github.com/nslab/nslab/pkg/spawn"
)

// held is a lab child (the time-child entrypoint) that reported what it
// saw and now waits, alive, for the end of its input: the harness looks at
// its namespaces and its timens_offsets meanwhile.
type held struct {
	mode string
	cmd  *exec.Cmd
	in   io.WriteCloser
	out  *bufio.Reader
	errs syncBuffer
}

// childCommand prepares a time-child in mode (see entry.go), not started.
func childCommand(mode string) (*held, error) {
	cmd, err := spawn.EntrypointCommand(entryChild, []string{mode})
	if err != nil {
		return nil, err
	}
	h := &held{mode: mode, cmd: cmd}
	cmd.Stderr = &h.errs
	if h.in, err = cmd.StdinPipe(); err != nil {
		return nil, err
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		h.in.Close()
		return nil, err
	}
	h.out = bufio.NewReader(out)
	return h, nil
}

// startIn starts a time-child in mode from the nursery's thread, so that it
// is born in that thread's time_for_children.
func startIn(n *nursery, mode string) (*held, error) {
	h, err := childCommand(mode)
	if err != nil {
		return nil, err
	}
	n.do(func() { err = h.cmd.Start() })
	if err != nil {
		h.in.Close()
		return nil, fmt.Errorf("start a child from thread %d: %w", n.tid, err)
	}
	return h, nil
}

// PID is the child's PID (the lab host's).
func (h *held) PID() int { return h.cmd.Process.Pid }

// report reads the child's one-line report.
func (h *held) report() (seen, error) {
	line, err := h.out.ReadBytes('\n')
	if err != nil {
		h.in.Close()
		h.wait()
		if step, ok := learnerStep[h.mode]; ok && h.cmd.ProcessState.ExitCode() == 3 && strings.Contains(h.errs.String(), "is not written yet") {
			return seen{}, lab.TODO("time", step) // the starter's stub ran in the child
		}
		msg := h.errs.String()
		if first, _, _ := strings.Cut(msg, "\n"); strings.HasPrefix(first, "panic: ") {
			msg = first // a panic of the learner's code: its line, not the whole trace
			if where := lab.PanicSite(h.errs.String()); where != "" {
				msg = fmt.Sprintf("%s (at %s)", first, where)
			}
		}
		if msg == "" {
			msg = fmt.Sprintf("%v", h.cmd.ProcessState)
		}
		return seen{}, fmt.Errorf("child PID %d ended before it reported: %s", h.PID(), msg)
	}
	var s seen
	if err := json.Unmarshal(line, &s); err != nil {
		return s, fmt.Errorf("read the report of child PID %d %q: %w", h.PID(), strings.TrimSpace(string(line)), err)
	}
	if s.Err != "" {
		return s, errors.New(s.Err)
	}
	return s, nil
}

// learnerStep is the step whose function a child in that mode calls.
var learnerStep = map[string]string{modeClocks: "04", modeUptime: "05"}

// stop ends the child's input, so that it exits, and reaps it; a child that
// does not exit within a few seconds is killed.
func (h *held) stop() {
	h.in.Close()
	h.wait()
}

func (h *held) wait() {
	done := make(chan struct{})
	go func() { h.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		h.cmd.Process.Kill()
		<-done
	}
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
