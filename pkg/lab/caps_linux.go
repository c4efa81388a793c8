package lab

import (
	"errors"
	"fmt"
	"runtime"
	"runtime/debug"
	"strings"

	"golang.org/x/sys/unix"
)

// WithoutCap runs fn on a thread of its own whose effective capabilities
// lack cp: there the kernel refuses what needs it (CAP_NET_ADMIN to change
// a link, CAP_SYS_ADMIN to enter a namespace, CAP_IPC_OWNER to pass the
// permission bits of a System V object) as it does to an unprivileged
// user: a run half uses it to make the kernel refuse the learner's code. Capabilities belong to a thread, so
// the rest of the process keeps them. The thread gets its capabilities back
// before it is handed back to the Go scheduler; should that fail, its
// goroutine ends locked and the runtime ends the thread. (Ending it always
// would not do: a child's Pdeathsig fires when the thread that started it
// ends, and any thread of the runner may have started the step's holders.)
// An unwritten step's panic goes on in the caller's goroutine; any other
// panic of fn becomes an error naming the line of the learner's code.
func WithoutCap(cp uint, fn func() error) error {
	done := make(chan capResult, 1)
	go func() {
		runtime.LockOSThread()
		restore, err := DropEffective(cp)
		if err != nil {
			done <- capResult{err: err}
			return // locked: the thread ends with the goroutine
		}
		r := callNoCap(fn)
		if restore() == nil {
			runtime.UnlockOSThread()
		}
		done <- r
	}()
	r := <-done
	if r.todo != nil {
		panic(r.todo)
	}
	return r.err
}

// callNoCap calls fn and recovers its panic.
func callNoCap(fn func() error) (r capResult) {
	defer func() {
		if p := recover(); p != nil {
			r = panicked(p)
		}
	}()
	return capResult{err: fn()}
}

// capResult is what fn of WithoutCap returned, or the unwritten step's
// panic to go on with.
type capResult struct {
	err  error
	todo any
}

// panicked turns a panic of the learner's code on a thread of WithoutCap
// into its result: an unwritten step's goes on, any other is an error.
func panicked(p any) (r capResult) {
	var ni *NotImplemented
	if e, ok := p.(error); ok && errors.As(e, &ni) {
		r.todo = p
		return r
	}
	r.err = fmt.Errorf("panic: %v", p)
	stack := string(debug.Stack())
	if i := strings.Index(stack, "\npanic("); i >= 0 {
		stack = stack[i:] // below the recovering frames: the panicking code
	}
	if where := PanicSite(stack); where != "" {
		r.err = fmt.Errorf("panic at %s: %v", where, p)
	}
	return r
}

// DropEffective removes capability cp from the effective set of the
// calling thread (it stays permitted), and returns what puts it back.
// Capabilities belong to a thread: call it on a locked one.
func DropEffective(cp uint) (restore func() error, err error) {
	hdr := unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3}
	var data [2]unix.CapUserData
	if err := unix.Capget(&hdr, &data[0]); err != nil {
		return nil, fmt.Errorf("capget: %w", err)
	}
	before := data
	data[cp/32].Effective &^= 1 << (cp % 32)
	if err := unix.Capset(&hdr, &data[0]); err != nil {
		return nil, fmt.Errorf("capset without capability %d: %w", cp, err)
	}
	return func() error { return unix.Capset(&hdr, &before[0]) }, nil
}
