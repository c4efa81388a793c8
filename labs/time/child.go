//go:build linux

package timens

import (
	"errors"
	"fmt"
	"os/exec"
	"strings"

	"github.com/nslab/nslab/pkg/holder"
	"github.com/nslab/nslab/pkg/lab"
	"github.com/nslab/nslab/pkg/spawn"
)

// The lab's child (the time-child entrypoint) from the runner's side: a
// holder that reports what it saw and then waits, alive, for the end of
// its input, so that the harness looks at its namespaces and its
// timens_offsets meanwhile.

// startIn starts a time-child in mode from the nursery's thread, so that it
// is born in that thread's time_for_children.
func startIn(n *nursery, mode string) (*holder.Holder, error) {
	cmd, err := spawn.EntrypointCommand(entryChild, []string{mode})
	if err != nil {
		return nil, err
	}
	h, err := holder.StartCommand(cmd, func(cmd *exec.Cmd) (err error) {
		n.do(func() { err = cmd.Start() })
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("start a child from thread %d: %w", n.tid, err)
	}
	return h, nil
}

// readSeen reads the report of a time-child in mode.
func readSeen(h *holder.Holder, mode string) (seen, error) {
	var s seen
	err := h.Report(&s)
	var ee *spawn.ExitError
	switch {
	case errors.As(err, &ee):
		return seen{}, ended(h, mode, ee)
	case err != nil:
		return seen{}, err
	case s.Err != "":
		return s, errors.New(s.Err)
	}
	return s, nil
}

// ended says why a time-child ended before it reported: the stub of an
// unwritten step (lab.TODO, as if it had run in the runner), a panic of the
// learner's code (its first line, and where), or what it wrote on stderr.
func ended(h *holder.Holder, mode string, ee *spawn.ExitError) error {
	msg := h.Stderr()
	if step, ok := learnerStep[mode]; ok && ee.Code == 3 && strings.Contains(msg, "is not written yet") {
		return lab.TODO("time", step) // the starter's stub ran in the child
	}
	if first, _, _ := strings.Cut(msg, "\n"); strings.HasPrefix(first, "panic: ") {
		msg = first // a panic of the learner's code: its line, not the whole trace
		if where := lab.PanicSite(h.Stderr()); where != "" {
			msg = fmt.Sprintf("%s (at %s)", first, where)
		}
	}
	if msg == "" {
		msg = ee.Error()
	}
	return fmt.Errorf("child PID %d ended before it reported: %s", h.PID(), msg)
}

// learnerStep is the step whose function a child in that mode calls.
var learnerStep = map[string]string{modeClocks: "04", modeUptime: "05"}
