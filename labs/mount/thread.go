//go:build linux

package mount

import (
	"errors"
	"runtime"

	"github.com/nslab/nslab/pkg/lab"
	"golang.org/x/sys/unix"
)

// An nsThread is a goroutine locked for good to an OS thread that is not
// its process's main thread, moved to a mount namespace of its own, where
// it runs the functions sent to it. /proc/PID/mountinfo keeps showing the
// process's namespace (the main thread's); the thread's own table is at
// /proc/PID/task/TID/mountinfo. The thread ends when stopped: its goroutine
// returns still locked, so the runtime ends the thread rather than reuse it.
type nsThread struct {
	tid int
	fns chan func()
}

var errLeader = errors.New("locked to the main thread")

// startThread starts an nsThread that calls enter first (it moves the thread).
func startThread(enter func() error) (*nsThread, error) {
	for range 3 {
		t := &nsThread{fns: make(chan func())}
		ready := make(chan error)
		go t.run(enter, ready)
		err := <-ready
		if errors.Is(err, errLeader) {
			continue
		}
		if err != nil {
			return nil, err
		}
		return t, nil
	}
	return nil, errors.New("could not get a thread other than the main one")
}

func (t *nsThread) run(enter func() error, ready chan<- error) {
	runtime.LockOSThread()
	if unix.Gettid() == unix.Getpid() {
		ready <- errLeader
		select {} // keep the main thread locked, and out of the way, for good
	}
	t.tid = unix.Gettid()
	err := lab.Recover(enter)
	ready <- err
	if err != nil {
		return // the thread ends with the goroutine: it is locked
	}
	for fn := range t.fns {
		fn()
	}
}

// do runs fn on the thread; an unwritten step's panic becomes its error.
func (t *nsThread) do(fn func() error) error {
	done := make(chan error, 1)
	t.fns <- func() { done <- lab.Recover(fn) }
	return <-done
}

// stop ends the thread.
func (t *nsThread) stop() { close(t.fns) }
