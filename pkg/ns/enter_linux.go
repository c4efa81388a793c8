package ns

import (
	"fmt"
	"runtime"

	"golang.org/x/sys/unix"
)

// Do runs fn on an OS thread that has joined the namespaces of kinds of
// process pid, as nsenter(1) does, then returns the thread to its own
// namespaces. Only kinds that a thread of a multi-threaded process may join
// are accepted: cgroup, ipc, net, uts (and pid, which changes only what
// the thread's children get). Mount and user namespaces need a single-threaded
// process; for those, start a child with nsenter(1) or in a new namespace.
//
// fn runs with its goroutine locked to the thread; it must not start
// goroutines that expect to be in the joined namespaces. If the thread cannot
// be returned to its namespaces, it is never handed back to the Go scheduler:
// the goroutine exits while locked and the runtime discards the thread.
func Do(pid int, kinds []Kind, fn func() error) error {
	return do(pid, ProcDir(pid), kinds, fn)
}

// DoDir is Do for the process whose /proc directory is dir (see OfDir).
func DoDir(dir string, kinds []Kind, fn func() error) error { return do(0, dir, kinds, fn) }

func do(pid int, dir string, kinds []Kind, fn func() error) error {
	for _, k := range kinds {
		if k.Base() == Mnt || k.Base() == User || k.Base() == Time {
			return fmt.Errorf("join %s namespace of %s: setns(2) of a %s namespace needs a single-threaded process; use nsenter(1) or a child process", k, dir, k)
		}
	}
	done := make(chan error, 1)
	go func() { done <- doLocked(pid, dir, kinds, fn) }()
	return <-done
}

func doLocked(pid int, dir string, kinds []Kind, fn func() error) error {
	runtime.LockOSThread()
	var saved []*Handle
	restore := func() error {
		for i := len(saved) - 1; i >= 0; i-- {
			if err := unix.Setns(saved[i].Fd(), 0); err != nil {
				return fmt.Errorf("return to own %s namespace: %w", saved[i].id.Kind, err)
			}
			saved[i].Close()
		}
		return nil
	}
	err := enterAll(pid, dir, kinds, &saved)
	if err == nil {
		err = fn()
	}
	if rerr := restore(); rerr != nil {
		return rerr // the thread stays locked and dies with this goroutine
	}
	runtime.UnlockOSThread()
	return err
}

func enterAll(pid int, dir string, kinds []Kind, saved *[]*Handle) error {
	for _, k := range kinds {
		own, err := OpenPath("/proc/thread-self/ns/" + string(threadKind(k)))
		if err != nil {
			return err
		}
		target, err := openIn(pid, dir, k)
		if err != nil {
			own.Close()
			return err
		}
		err = unix.Setns(target.Fd(), int(k.CloneFlag()))
		target.Close()
		if err != nil {
			own.Close()
			return &Error{Op: "setns", PID: pid, Path: dir + "/ns/" + string(k), Err: err}
		}
		*saved = append(*saved, own)
	}
	return nil
}

// threadKind: what to save before joining k, so that restoring puts back what changed.
func threadKind(k Kind) Kind {
	switch k {
	case PID:
		return PIDForChildren
	case Time:
		return TimeForChildren
	}
	return k
}

// openIn opens namespace k of pid, or of the process whose /proc directory is dir when pid is 0.
func openIn(pid int, dir string, k Kind) (*Handle, error) {
	if pid != 0 {
		return Open(pid, k)
	}
	return OpenPath(dir + "/ns/" + string(k))
}
