//go:build linux

package uts

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/nslab/nslab/pkg/ns"
	"github.com/nslab/nslab/pkg/spawn"
)

// Steps 04 and 05 make one process enter the UTS namespace of another with
// setns(2). The kernel allows it only to a caller with CAP_SYS_ADMIN both in
// the user namespace that owns the target namespace and in its own user
// namespace. Root has both. An unprivileged user has neither: the UTS
// namespace it made belongs to a user namespace spawn added, and it has no
// capability in its own. So without root, a scenario runs inside a user
// namespace of its own (a sandbox, where it is root), and every namespace it
// makes belongs to that user namespace. The sandbox has a UTS namespace of
// its own too: a thread that visited another one must be able to come back,
// and setns(2) back into the host's would need CAP_SYS_ADMIN on the host.
// See user_namespaces(7) and setns(2).

// scenarios are what the sandbox entrypoint can run, by name.
var scenarios = map[string]func(context.Context, Names, io.Writer) error{
	"join":  encoded(joinHere),
	"share": encoded(shareHere),
}

func encoded[R any](fn func(context.Context, Names) (R, error)) func(context.Context, Names, io.Writer) error {
	return func(ctx context.Context, want Names, w io.Writer) error {
		r, err := fn(ctx, want)
		if err != nil {
			return err
		}
		return json.NewEncoder(w).Encode(r)
	}
}

// sandboxed runs here directly as root; otherwise it runs the scenario of
// that name in new user and UTS namespaces where the caller is root, and
// decodes its report.
func sandboxed[R any](ctx context.Context, name string, here func(context.Context, Names) (R, error), want Names) (R, error) {
	if os.Geteuid() == 0 {
		return here(ctx, want)
	}
	var r R
	var stdout, stderr bytes.Buffer
	err := spawn.Run(ctx, spawn.Config{
		New: []ns.Kind{ns.User, ns.UTS}, MapRoot: true, Entrypoint: entrySandbox,
		Args: []string{name, want.Hostname, want.Domainname}, Stdout: &stdout, Stderr: &stderr,
	})
	if err != nil {
		return r, fmt.Errorf("%s (%s scenario run in a sandbox: %v)", strings.TrimSpace(stderr.String()), name, err)
	}
	if err := json.Unmarshal(stdout.Bytes(), &r); err != nil {
		return r, fmt.Errorf("read the report of the %s scenario: %w", name, err)
	}
	return r, nil
}

// JoinReport is what step 04 saw.
type JoinReport struct {
	Want      Names  // the holder's names
	Got       Names  // what NamesIn read in the holder's namespace
	Holder    ns.Set // the holder's namespaces
	Joiner    ns.Set // the joining process's (its main thread's) namespaces
	OwnBefore Names  // the joiner's own names before the visit
	OwnAfter  Names  // and after it
}

// Join starts a holder in a new UTS namespace named want and reads its names
// through NamesIn from another process: this one as root, a sandbox otherwise.
func Join(ctx context.Context, want Names) (JoinReport, error) {
	return sandboxed(ctx, "join", joinHere, want)
}

func joinHere(ctx context.Context, want Names) (r JoinReport, err error) {
	r.Want = want
	holder, err := launch(ctx, spawn.Start, spawn.Config{New: []ns.Kind{ns.UTS}, Hostname: want.Hostname, Domainname: want.Domainname})
	if err != nil {
		return r, fmt.Errorf("start a holder in a new uts namespace: %w", err)
	}
	defer holder.stop()
	if r.Holder, err = ns.Of(holder.PID()); err != nil {
		return r, err
	}
	if r.Joiner, err = ns.Of(ns.Self); err != nil {
		return r, err
	}
	r.Joiner.PID = os.Getpid() // a PID the narration can print, rather than Self
	if r.OwnBefore, err = uname(); err != nil {
		return r, err
	}
	if r.Got, err = NamesIn(holder.PID()); err != nil {
		return r, fmt.Errorf("NamesIn(%d): %w", holder.PID(), err)
	}
	r.OwnAfter, err = uname()
	return r, err
}

// ShareReport is what step 05 saw: two processes, one UTS namespace, each
// renaming it in turn while the other reads.
type ShareReport struct {
	First, Second ns.Set // the namespaces of the two processes
	Asked         ns.Set // the namespaces of the process cfg.Join named for UTS, which StartJoined must override
	Name1, Name2  string // the names the second, then the first, set
	SecondSet     Names  // the second's names after it set Name1
	FirstSaw      Names  // what the first read next
	FirstSet      Names  // the first's names after it set Name2
	SecondSaw     Names  // what the second read next
}

// Share starts a first process in a new UTS namespace named want, a second
// in the same one through StartJoined, and has them rename it in turn: this
// process as root, a sandbox otherwise.
func Share(ctx context.Context, want Names) (ShareReport, error) {
	return sandboxed(ctx, "share", shareHere, want)
}

func shareHere(ctx context.Context, want Names) (r ShareReport, err error) {
	first, err := launch(ctx, spawn.Start, spawn.Config{New: []ns.Kind{ns.UTS, ns.IPC}, Hostname: want.Hostname, Domainname: want.Domainname})
	if err != nil {
		return r, fmt.Errorf("start the first process in new uts and ipc namespaces: %w", err)
	}
	defer first.stop()
	// cfg asks for another UTS namespace, this process's, which StartJoined
	// must replace with first's, and for first's IPC namespace, which it must keep.
	asked := spawn.Config{Join: map[ns.Kind]int{ns.UTS: os.Getpid(), ns.IPC: first.PID()}}
	if r.Asked, err = ns.Of(ns.Self); err != nil {
		return r, err
	}
	second, err := launch(ctx, func(ctx context.Context, cfg spawn.Config) (*spawn.Child, error) {
		return StartJoined(ctx, first.PID(), cfg)
	}, asked)
	if err != nil {
		return r, fmt.Errorf("StartJoined(%d): %w", first.PID(), err)
	}
	defer second.stop()
	if r.First, err = ns.Of(first.PID()); err != nil {
		return r, err
	}
	if r.Second, err = ns.Of(second.PID()); err != nil {
		return r, err
	}
	f, _ := r.First.Get(ns.UTS)
	if s, _ := r.Second.Get(ns.UTS); !f.Equal(s) {
		return r, nil // not one namespace: nothing to exchange, the check says why
	}
	return r, exchange(&r, first, second, want.Hostname)
}

// exchange has the second rename the namespace and the first read it, then
// the other way round. Each answer is the synchronisation.
func exchange(r *ShareReport, first, second *peer, base string) (err error) {
	r.Name1, r.Name2 = base+"-2nd", base+"-1st"
	if r.SecondSet, err = second.ask("set " + r.Name1); err != nil {
		return err
	}
	if r.FirstSaw, err = first.ask("get"); err != nil {
		return err
	}
	if r.FirstSet, err = first.ask("set " + r.Name2); err != nil {
		return err
	}
	r.SecondSaw, err = second.ask("get")
	return err
}
