//go:build linux

package container

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"runtime/debug"
	"sync"
	"syscall"

	"github.com/nslab/nslab/pkg/holder"
	"github.com/nslab/nslab/pkg/lab"
	"github.com/nslab/nslab/pkg/ns"
	"github.com/nslab/nslab/pkg/spawn"
)

// Container is a running container, as Stop (step 10) gets it.
type Container struct {
	Cmd     *exec.Cmd // its init, started
	Link    Link      // its veth pair (Link.Name "" for none)
	Cgroups Cgroups   // its cgroups (empty fields for none)
}

// kinds are the namespaces a container gets: every kind but time.
var kinds = []ns.Kind{ns.Cgroup, ns.IPC, ns.Mnt, ns.Net, ns.PID, ns.User, ns.UTS}

// box is a container the lab starts for a step: this binary again, running
// one of the lab's entrypoints (entry.go) as the container's first process.
// It reports on its fd 3, one JSON value a line, and takes orders on its
// fd 4, one a line; the end of its orders (EOF) ends it.
type box struct {
	cmd    *exec.Cmd
	out    *bufio.Reader
	outR   *os.File
	outW   *os.File // the init's fd 3, closed here once it started
	ctl    *os.File // the init's fd 4, written here
	ctlR   *os.File
	stderr holder.SyncBuffer
	once   sync.Once
	waited chan struct{}
	err    error // cmd.Wait's, once waited
}

// newBox prepares (does not start) a container running entrypoint entry.
func newBox(entry string, args ...string) (*box, error) {
	cmd, err := spawn.EntrypointCommand(entry, args)
	if err != nil {
		return nil, err
	}
	b := &box{cmd: cmd, waited: make(chan struct{})}
	if b.outR, b.outW, err = os.Pipe(); err != nil {
		return nil, err
	}
	if b.ctlR, b.ctl, err = os.Pipe(); err != nil {
		b.outR.Close()
		b.outW.Close()
		return nil, err
	}
	b.out = bufio.NewReader(b.outR)
	cmd.ExtraFiles = []*os.File{b.outW, b.ctlR}
	cmd.Stdout, cmd.Stderr, cmd.Dir = &b.stderr, &b.stderr, "/"
	return b, nil
}

// isolate gives the box the lab's own namespaces, maps and death signal
// (what steps 01 and 02 ask of the learner).
func (b *box) isolate() {
	b.cmd.SysProcAttr = &syscall.SysProcAttr{
		Cloneflags:  ns.CloneFlags(kinds...),
		Pdeathsig:   syscall.SIGKILL,
		UidMappings: []syscall.SysProcIDMap{{ContainerID: 0, HostID: os.Geteuid(), Size: 1}},
		GidMappings: []syscall.SysProcIDMap{{ContainerID: 0, HostID: os.Getegid(), Size: 1}},
	}
}

// startIsolated starts, isolated, a container running entry with args;
// the caller stops it.
func startIsolated(entry string, args ...string) (*box, error) {
	b, err := newBox(entry, args...)
	if err != nil {
		return nil, err
	}
	b.isolate()
	if err := b.start(); err != nil {
		return nil, fmt.Errorf("start the container: %w", err)
	}
	return b, nil
}

// start starts the box; started is for a box the learner's code started.
func (b *box) start() error {
	err := b.cmd.Start()
	b.started()
	if err != nil {
		b.outR.Close()
		b.ctl.Close()
		return err
	}
	return nil
}

// started closes the child's ends of the pipes, once it has them.
// launch starts the container (set up for what), leaves it to cleanup, and
// reads its first report into v; it returns the container's PID, which is
// also there when the report could not be read.
func (b *box) launch(cleanup *lab.Cleanup, what string, v any) (int, error) {
	if err := b.start(); err != nil {
		return 0, fmt.Errorf("start the container with %s: %w", what, err)
	}
	cleanup.Add(b.stop)
	return b.PID(), b.read(v)
}

func (b *box) started() {
	b.outW.Close()
	b.ctlR.Close()
}

// PID is the init's PID, as the runner sees it.
func (b *box) PID() int { return b.cmd.Process.Pid }

// read decodes the next line the init reports into v. When the init ends
// first, the error says how, with what it printed.
func (b *box) read(v any) error {
	line, err := b.out.ReadBytes('\n')
	if err != nil {
		werr := b.wait()
		return fmt.Errorf("the container's init ended before it reported (%v): %s", werr, b.stderr.String())
	}
	if err := json.Unmarshal(line, v); err != nil {
		return fmt.Errorf("read the container's report %q: %w", line, err)
	}
	return nil
}

// order sends one line of orders.
func (b *box) order(line string) error {
	_, err := fmt.Fprintln(b.ctl, line)
	return err
}

// wait waits for the init (once) and returns cmd.Wait's error.
func (b *box) wait() error {
	b.once.Do(func() {
		b.err = b.cmd.Wait()
		close(b.waited)
	})
	<-b.waited
	return b.err
}

// stop ends the box: the end of its orders, SIGKILL, and the wait. The
// kernel kills every other process of its PID namespace with it.
func (b *box) stop() {
	b.ctl.Close()
	if b.cmd.Process != nil {
		b.cmd.Process.Kill()
		b.wait()
	}
	b.outR.Close()
}

// outcome is what a container's entrypoint reports when a piece of the
// learner's code it ran failed: an error, a panic, or a step not written.
type outcome struct {
	Err  string `json:"err,omitempty"`
	TODO string `json:"todo,omitempty"` // the step, when its code is lab.TODO
}

// failure turns an outcome into the run half's error: a step not written
// stays lab.TODO, so that the harness reports it as such.
func (o outcome) failure(what string) error {
	switch {
	case o.TODO != "":
		return lab.TODO("container", o.TODO)
	case o.Err != "":
		return fmt.Errorf("%s: %s", what, o.Err)
	}
	return nil
}

// text is the outcome as a report's error text: a step not written as
// lab.TODO's message, "" when the code succeeded.
func (o outcome) text() string {
	if o.TODO != "" {
		return lab.TODO("container", o.TODO).Error()
	}
	return o.Err
}

// call runs a piece of the learner's code in a container's entrypoint and
// turns its error, or panic, into an outcome.
func call(fn func() error) (o outcome) {
	defer func() {
		r := recover()
		if r == nil {
			return
		}
		var ni *lab.NotImplemented
		if e, ok := r.(error); ok && errors.As(e, &ni) {
			o.TODO = ni.Step
			return
		}
		o.Err = fmt.Sprintf("panic: %v", r)
		if where := lab.PanicSite(string(debug.Stack())); where != "" {
			o.Err = fmt.Sprintf("panic at %s: %v", where, r)
		}
	}()
	if err := fn(); err != nil {
		o.Err = err.Error()
	}
	return o
}
