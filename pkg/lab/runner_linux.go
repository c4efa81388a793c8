//go:build linux

package lab

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime/debug"
	"strings"

	"github.com/nslab/nslab/pkg/ns"
	"github.com/nslab/nslab/pkg/spawn"
	"golang.org/x/sys/unix"
)

// entryStep is the runner: the process of a lab host that runs one step's
// learner code. On fd 3 it says it is ready, and later sends its envelope;
// fd 4 brings one byte when the harness says go (EOF before it: abandoned),
// then stays open until the harness has checked the report.
const entryStep = "lab.step"

func init() { spawn.Register(entryStep, runnerMain) }

func runnerMain(args []string) int {
	unix.CloseOnExec(3) // nothing the step starts may inherit the harness's pipes
	unix.CloseOnExec(4)
	report, done := os.NewFile(3, "report"), os.NewFile(4, "done")
	if _, err := report.Write([]byte(readyLine)); err != nil || !awaitGo(done) {
		return 0
	}
	env := envelope{PID: os.Getpid()}
	cleanup := &Cleanup{}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if len(args) != 2 {
		env.Error = "usage: lab.step LAB STEP"
	} else {
		runStepHere(ctx, args[0], args[1], cleanup, &env)
	}
	err := json.NewEncoder(report).Encode(env)
	report.Close()
	if err != nil {
		fmt.Fprintf(os.Stderr, "lab step: send the report: %v\n", err)
		return 1
	}
	io.Copy(io.Discard, done) // the harness closes it once it has checked
	cancel()
	cleanup.Run()
	return 0
}

// readyLine tells the harness that the lab host is set up and the runner
// waits for its go: the moment of the lab host's baseline.
const readyLine = "ready\n"

// awaitGo blocks until the harness says go (one byte) or gives up (EOF).
func awaitGo(f *os.File) bool {
	var b [1]byte
	n, _ := f.Read(b[:])
	return n == 1
}

// runStepHere runs the run half of step id of lab name and fills env.
func runStepHere(ctx context.Context, name, id string, cleanup *Cleanup, env *envelope) {
	l, err := Get(name)
	if err != nil {
		env.Error = err.Error()
		return
	}
	s, err := l.Step(id)
	if err != nil {
		env.Error = err.Error()
		return
	}
	before, err := threadNamespaces()
	if err != nil {
		env.Error = err.Error()
		return
	}
	env.Report, env.Where, err = protect(func() (json.RawMessage, error) { return runHalf(ctx, s, cleanup) })
	if err == nil {
		err = threadsHome(before)
	}
	if err != nil {
		var ni *NotImplemented
		env.Error, env.TODO = err.Error(), errors.As(err, &ni)
	}
}

// runHalf runs a step's run half; a step still in the old shape narrates
// to stdout and has no report.
func runHalf(ctx context.Context, s *Step, cleanup *Cleanup) (json.RawMessage, error) {
	if s.Do != nil {
		return s.Do.run(ctx, cleanup)
	}
	return nil, s.Run(ctx, NewNarrator(os.Stdout))
}

// protect runs fn and turns a panic into an error: an unwritten step
// (TODO) says so, any other panic says where in the lab's code it came from.
func protect(fn func() (json.RawMessage, error)) (raw json.RawMessage, where string, err error) {
	defer func() {
		r := recover()
		if r == nil {
			return
		}
		var ni *NotImplemented
		if e, ok := r.(error); ok && errors.As(e, &ni) {
			err = ni
			return
		}
		where = PanicSite(string(debug.Stack()))
		err = fmt.Errorf("the step's code panicked: %v", r)
		if where != "" {
			err = fmt.Errorf("the step's code panicked at %s: %v", where, r)
		}
	}()
	raw, err = fn()
	return raw, "", err
}

// threadKinds are the namespaces one thread can change with setns.
var threadKinds = []ns.Kind{ns.Cgroup, ns.IPC, ns.Net, ns.UTS}

// threadNamespaces reads the namespaces of the process (its main thread).
func threadNamespaces() (map[ns.Kind]ns.ID, error) {
	out := map[ns.Kind]ns.ID{}
	for _, k := range threadKinds {
		id, err := ns.GetPath("/proc/self/ns/" + string(k))
		if err != nil {
			return nil, err
		}
		out[k] = id
	}
	return out, nil
}

// threadsHome returns an error naming a thread left in another namespace
// than the process's: code that joined one with setns and did not come back.
func threadsHome(want map[ns.Kind]ns.ID) error {
	tasks, err := os.ReadDir("/proc/self/task")
	if err != nil {
		return err
	}
	var lost []string
	for _, t := range tasks {
		for _, k := range threadKinds {
			id, err := ns.GetPath("/proc/self/task/" + t.Name() + "/ns/" + string(k))
			if err == nil && !id.Equal(want[k]) {
				lost = append(lost, fmt.Sprintf("thread %s is in %s namespace %s, not its process's %s", t.Name(), k, id, want[k]))
			}
		}
	}
	if len(lost) > 0 {
		return fmt.Errorf("the step left a thread in another namespace (%s): a thread that joins a namespace with setns(2) must come back before the function returns (ns.Do does it, and never hands a thread that could not come back to the scheduler)", strings.Join(lost, "; "))
	}
	return nil
}
