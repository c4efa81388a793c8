//go:build linux

package timens

import (
	"errors"
	"fmt"
	"os"
	"runtime"
	"runtime/debug"
	"strings"

	"github.com/nslab/nslab/pkg/lab"
	"golang.org/x/sys/unix"
)

// A nursery is a locked OS thread of the runner that is not its main
// thread: the thread whose time_for_children a step changes with
// unshare(2), and from which it starts the children that must be born in
// the new time namespace (a child gets the namespaces of the thread that
// clones it). Its goroutine stays locked to it, so that no other goroutine
// ever forks from it; once used, it is never handed back to the scheduler:
// close ends the goroutine locked, and the Go runtime then ends the thread.
// It must outlive the children it started: their Pdeathsig fires when the
// thread that created them ends.
type nursery struct {
	tid  int
	work chan func()
	quit chan struct{}
	done chan struct{}
}

// newNursery starts a nursery on a thread other than the main one, whose
// /proc/PID is the process's: a check reads the process there, and must
// see it unchanged.
func newNursery() (*nursery, error) {
	var spare []*nursery // locked on the main thread: they keep it busy
	defer func() {
		for _, n := range spare {
			n.close()
		}
	}()
	for range 4 {
		n := startNursery()
		if n.tid != os.Getpid() {
			return n, nil
		}
		spare = append(spare, n)
	}
	return nil, errors.New("could not lock a thread other than the main one")
}

func startNursery() *nursery {
	n := &nursery{work: make(chan func()), quit: make(chan struct{}), done: make(chan struct{})}
	ready := make(chan int)
	go func() {
		defer close(n.done)
		runtime.LockOSThread()
		ready <- unix.Gettid()
		used := false
		for {
			select {
			case fn := <-n.work:
				used = true
				fn()
			case <-n.quit:
				if !used {
					runtime.UnlockOSThread() // untouched: the scheduler may have it back
				}
				return // used: the goroutine ends locked, and the runtime ends the thread
			}
		}
	}()
	n.tid = <-ready
	return n
}

// do runs fn on the nursery's thread and waits for it.
func (n *nursery) do(fn func()) {
	done := make(chan struct{})
	n.work <- func() { defer close(done); fn() }
	<-done
}

// call runs the learner's fn on the nursery's thread. An unwritten step's
// panic goes on in the caller's goroutine, where the runner reports it; any
// other panic becomes an error naming the line of the learner's code.
func (n *nursery) call(what string, fn func() error) (err error) {
	var todo any
	n.do(func() {
		defer func() {
			r := recover()
			if r == nil {
				return
			}
			var ni *lab.NotImplemented
			if e, ok := r.(error); ok && errors.As(e, &ni) {
				todo = r
				return
			}
			err = fmt.Errorf("%s panicked: %v", what, r)
			if where := panicSite(string(debug.Stack())); where != "" {
				err = fmt.Errorf("%s panicked at %s: %v", what, where, r)
			}
		}()
		err = fn()
	})
	if todo != nil {
		panic(todo)
	}
	return err
}

// panicSite is the first line of a labs/ file below the panic in a stack
// trace taken by a deferred recover (whose own frame is above it).
func panicSite(stack string) string {
	if i := strings.Index(stack, "\npanic("); i >= 0 {
		stack = stack[i:]
	}
	return lab.PanicSite(stack)
}

// close ends the nursery; call it after its children are reaped.
func (n *nursery) close() {
	close(n.quit)
	<-n.done
}

// unshareTime is the lab's own unshare(2) of CLONE_NEWTIME on the nursery.
func (n *nursery) unshareTime() (err error) {
	n.do(func() { err = unix.Unshare(unix.CLONE_NEWTIME) })
	if err != nil {
		return fmt.Errorf("unshare(CLONE_NEWTIME) on thread %d: %w", n.tid, err)
	}
	return nil
}

// links reads the time and time_for_children links of the nursery's thread.
func (n *nursery) links() (l timeLinks, err error) {
	dir := fmt.Sprintf("/proc/%d/task/%d/ns/", os.Getpid(), n.tid)
	if l.Time, err = os.Readlink(dir + "time"); err != nil {
		return l, err
	}
	l.ForChildren, err = os.Readlink(dir + "time_for_children")
	return l, err
}

// timeLinks are the two time links of a thread, as readlink(2) shows them.
type timeLinks struct {
	Time        string // time:[4026531834]
	ForChildren string // time_for_children: the namespace of the thread's next children
}
