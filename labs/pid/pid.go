//go:build linux

package pid

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"

	"github.com/nslab/nslab/pkg/ns"
	"github.com/nslab/nslab/pkg/spawn"
	"golang.org/x/sys/unix"
)

// StartInNewPID is step 01: start the child that cfg describes in a new PID
// namespace, besides the new namespaces cfg.New already lists, held before it
// runs (the caller releases it).
func StartInNewPID(ctx context.Context, cfg spawn.Config) (*spawn.Child, error) {
	// BEGIN SOLUTION
	cfg.New = append(slices.Clone(cfg.New), ns.PID)
	return spawn.Start(ctx, cfg)
	// END SOLUTION
}

// ParseNSpid is step 01: return the PIDs of the "NSpid:" line of
// /proc/PID/status text, in the order the kernel writes them: first the PID in
// the namespace of the proc mount that was read, last the PID in the
// process's own namespace. A missing line, or a field that is not a positive
// number, is an error.
func ParseNSpid(status string) ([]int, error) {
	// BEGIN SOLUTION
	for line := range strings.Lines(status) {
		rest, ok := strings.CutPrefix(line, "NSpid:")
		if !ok {
			continue
		}
		words := strings.Fields(rest)
		if len(words) == 0 {
			return nil, errors.New("parse NSpid: empty line")
		}
		pids := make([]int, len(words))
		for i, w := range words {
			n, err := strconv.Atoi(w)
			if err != nil || n <= 0 {
				return nil, fmt.Errorf("parse NSpid: %q is not a PID", w)
			}
			pids[i] = n
		}
		return pids, nil
	}
	return nil, errors.New("parse NSpid: no NSpid line")
	// END SOLUTION
}

// MountProc is step 02: mount a new proc file system on /proc, with
// MS_NOSUID, MS_NODEV and MS_NOEXEC, as unshare --mount-proc mounts it. It
// shows the processes of the PID namespace of the process that mounts it.
// The lab calls it only in a child that has a new mount namespace.
func MountProc() error {
	// BEGIN SOLUTION
	if err := unix.Mount("proc", "/proc", "proc", unix.MS_NOSUID|unix.MS_NODEV|unix.MS_NOEXEC, ""); err != nil {
		return fmt.Errorf("mount proc on /proc: %w", err)
	}
	return nil
	// END SOLUTION
}

// Catches is step 03: report whether process pid has installed a handler
// for sig, from the SigCgt mask of /proc/PID/status (bit N-1 for signal N).
// Use the lab's StatusField and SigMask to read it.
func Catches(pid int, sig unix.Signal) (bool, error) {
	// BEGIN SOLUTION
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return false, err
	}
	v, ok := StatusField(string(b), "SigCgt")
	if !ok {
		return false, fmt.Errorf("read /proc/%d/status: no SigCgt line", pid)
	}
	mask, err := SigMask(v)
	if err != nil {
		return false, fmt.Errorf("read /proc/%d/status: %w", pid, err)
	}
	return mask&(1<<(uint(sig)-1)) != 0, nil
	// END SOLUTION
}

// ReapOne is step 04: as a namespace's init, wait for any child to end, an
// orphan that the kernel re-parented to you included, and reap it. Return
// its PID and wait status (wait4(2) with PID -1).
func ReapOne() (int, unix.WaitStatus, error) {
	// BEGIN SOLUTION
	var ws unix.WaitStatus
	pid, err := unix.Wait4(-1, &ws, 0, nil)
	if err != nil {
		return 0, ws, fmt.Errorf("wait4(-1): %w", err)
	}
	return pid, ws, nil
	// END SOLUTION
}

// Members is step 05: return, sorted, the PIDs (as the caller sees them) of
// every process in the PID namespace id, found as lsns(8) does: by comparing
// /proc/PID/ns/pid of every process in /proc with id. Processes that end
// while you look, or that you may not inspect, are left out.
func Members(id ns.ID) ([]int, error) {
	// BEGIN SOLUTION
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil, err
	}
	var pids []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		got, err := ns.Get(pid, ns.PID)
		if err == nil && got.Equal(id) {
			pids = append(pids, pid)
		}
	}
	slices.Sort(pids)
	return pids, nil
	// END SOLUTION
}

// Reach is step 06: find out whether the caller may signal process pid
// without sending anything: kill(2) with signal 0. Return its error as is,
// so that the caller can tell ESRCH (no such process here) from EPERM.
func Reach(pid int) error {
	// BEGIN SOLUTION
	return unix.Kill(pid, 0)
	// END SOLUTION
}

// UnshareForChildren is step 07: move the calling thread's future children
// into a new PID namespace (unshare(2) with CLONE_NEWPID). The caller has
// locked its goroutine to its thread and never unlocks it; the thread itself
// stays in its own PID namespace.
func UnshareForChildren() error {
	// BEGIN SOLUTION
	if err := unix.Unshare(unix.CLONE_NEWPID); err != nil {
		return fmt.Errorf("unshare(CLONE_NEWPID): %w", err)
	}
	return nil
	// END SOLUTION
}

// Ancestry is step 08: return the PID namespace of process pid and each of
// its ancestors (NS_GET_PARENT, ns.Handle.Parent), up to the caller's own
// PID namespace, whose parent is out of the caller's sight
// (ns.ErrOutsideScope): that ends the walk without an error.
func Ancestry(pid int) ([]ns.ID, error) {
	// BEGIN SOLUTION
	h, err := ns.Open(pid, ns.PID)
	if err != nil {
		return nil, err
	}
	var ids []ns.ID
	for {
		ids = append(ids, h.ID())
		parent, err := h.Parent()
		h.Close()
		switch {
		case errors.Is(err, ns.ErrOutsideScope):
			return ids, nil
		case err != nil:
			return ids, err
		}
		h = parent
	}
	// END SOLUTION
}
