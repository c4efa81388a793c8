//go:build linux

package mount

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/nslab/nslab/pkg/holder"
	"github.com/nslab/nslab/pkg/lab"
	"github.com/nslab/nslab/pkg/ns"
	"github.com/nslab/nslab/pkg/spawn"
)

// A nsHolder is a child in a mount namespace of its own that runs one lab
// command per line written to its standard input (package holder; the
// commands are in entry.go). A command prefixed with "@NAME " runs on the
// holder's peer NAME: a thread of the holder that moved to a mount
// namespace of its own (command "peer"). The holder exits when its standard
// input is closed; its namespaces, and every mount in them, go with it.
type nsHolder struct {
	*holder.Holder
	peers map[string]int // peer name -> TID
}

// startHolder starts a holder in new namespaces of kinds (ns.Mnt among
// them) and lets it run. With ns.User among them, the holder is root in its
// user namespace, as an unprivileged container runtime is.
func startHolder(ctx context.Context, kinds ...ns.Kind) (*nsHolder, error) {
	h, err := holder.StartRunning(ctx, spawn.Config{New: kinds, MapRoot: slices.Contains(kinds, ns.User), Entrypoint: entryHolder})
	if err != nil {
		return nil, fmt.Errorf("start a holder in new %v namespaces: %w", kinds, err)
	}
	return &nsHolder{Holder: h, peers: map[string]int{}}, nil
}

// must runs commands of the lab's own in order, stopping at the first
// error: their failure is not the learner's code's.
func (h *nsHolder) must(cmds ...string) error {
	for _, c := range cmds {
		if _, err := h.Do("%s", c); err != nil {
			return fmt.Errorf("the lab's own set-up failed: %w", err)
		}
	}
	return nil
}

// peer makes a thread of the holder leave for a new mount namespace
// through a bare unshare(CLONE_NEWNS), which keeps every mount's propagation.
func (h *nsHolder) peer(name string) error {
	words, err := h.Do("peer %s", name)
	if err != nil {
		return err
	}
	tid, err := strconv.Atoi(strings.Join(words, ""))
	if err != nil {
		return fmt.Errorf("holder: peer %s: bad TID %q", name, words)
	}
	h.peers[name] = tid
	return nil
}

// call runs a command that calls the learner's code: when that code is an
// unwritten step, the error is the step's lab.NotImplemented.
func (h *nsHolder) call(format string, args ...any) ([]string, error) {
	words, err := h.Do(format, args...)
	if todo := unwritten(err); todo != nil {
		return nil, todo
	}
	return words, err
}

// try is call for a command whose failure the check judges: its error is
// only an unwritten step's.
func (h *nsHolder) try(format string, args ...any) (result, error) {
	words, err := h.call(format, args...)
	if todo := unwritten(err); todo != nil {
		return result{}, todo
	}
	return resultOf(words, err), nil
}

// tryAfter runs the lab's own set-up commands (see must), then a command
// that calls the learner's code (see try).
func (h *nsHolder) tryAfter(setup []string, format string, args ...any) (result, error) {
	if err := h.must(setup...); err != nil {
		return result{}, err
	}
	return h.try(format, args...)
}

// todoRE matches the message of lab.NotImplemented, as a holder's answer quotes it.
var todoRE = regexp.MustCompile(`(\S+) step (\d+) is not written yet`)

// unwritten returns the lab.NotImplemented that err reports, or nil.
func unwritten(err error) error {
	var ni *lab.NotImplemented
	switch {
	case err == nil:
		return nil
	case errors.As(err, &ni):
		return ni
	}
	if m := todoRE.FindStringSubmatch(err.Error()); m != nil {
		return lab.TODO(m[1], m[2])
	}
	return nil
}

// mounts reads the mount table of the holder, or of its peer, as the runner sees it.
func (h *nsHolder) mounts(peer string) ([]Mount, error) {
	if peer == "" {
		return ReadMountinfo(fmt.Sprintf("/proc/%d/mountinfo", h.PID()))
	}
	return ReadMountinfo(fmt.Sprintf("/proc/%d/task/%d/mountinfo", h.PID(), h.peers[peer]))
}
