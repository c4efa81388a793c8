//go:build linux

package ipc

import (
	"context"
	"errors"
	"fmt"
	"os"
	"regexp"
	"strconv"
	"strings"

	"github.com/nslab/nslab/pkg/holder"
	"github.com/nslab/nslab/pkg/lab"
	"github.com/nslab/nslab/pkg/ns"
	"github.com/nslab/nslab/pkg/spawn"
	"golang.org/x/sys/unix"
)

// The run halves of the steps: each calls the learner's code in the lab
// host (directly, or in a holder the lab started there) and returns what it
// saw; check.go makes the verdicts. A failure of the learner's code goes
// into the report, for the check to explain; a failure of the lab's own
// machinery is the run's error.

// newNamespaceReport is what step 01 saw: a child StartInNewIPC returned, held.
type newNamespaceReport struct {
	PID int // the child, held for the harness to look at
}

func runNewNamespace(ctx context.Context, cleanup *lab.Cleanup) (newNamespaceReport, error) {
	child, err := StartInNewIPC(ctx, []string{"true"})
	if err != nil {
		return newNamespaceReport{}, fmt.Errorf("StartInNewIPC: %w", err)
	}
	if child == nil {
		return newNamespaceReport{}, errors.New("StartInNewIPC returned no child and no error; want the *spawn.Child of spawn.Start")
	}
	cleanup.Add(func() { child.Stop() })
	if child.Released() {
		return newNamespaceReport{}, fmt.Errorf("StartInNewIPC returned child PID %d already released; want it held, so that the caller can look at it before it runs (spawn.Start holds it; do not call Release, Run or Wait)", child.PID())
	}
	return newNamespaceReport{PID: child.PID()}, nil
}

// invisibleReport is what step 02 saw.
type invisibleReport struct {
	Key          int
	A, B         ns.Set   // two holders, each in a new IPC namespace
	Objects      Objects  // what CreateObjects(Key) returned in A
	CreateErr    string   // or its error
	ListA, ListB []string // /proc/sysvipc read by the lab in A and in B: KIND:KEY:ID
	ProbeB       []string // msgget, shmget and semget(Key, 0) in B: "msg=ENOENT" or "msg=ID"
	AgainErr     string   // what a second CreateObjects(Key) in A returned: an error
	AgainErrno   string   // its error number ("EEXIST"), "-" for none
	Again        []string // or the IDs it returned
}

func runInvisible(ctx context.Context, cleanup *lab.Cleanup) (r invisibleReport, err error) {
	a, b, err := twoHolders(ctx, cleanup, &r.A, &r.B, ns.IPC)
	if err != nil {
		return r, err
	}
	r.Key = newKey()
	words, err := a.Do("create %d", r.Key)
	if err != nil {
		r.CreateErr = err.Error()
		return r, unwritten(err)
	}
	if r.Objects, err = parseObjects(words); err != nil {
		return r, err
	}
	if r.ListA, err = a.Do("sysvipc"); err != nil {
		return r, err
	}
	if r.ListB, err = b.Do("sysvipc"); err != nil {
		return r, err
	}
	if r.ProbeB, err = b.Do("probe %d", r.Key); err != nil {
		return r, err
	}
	r.Again, err = a.Do("create %d", r.Key)
	r.AgainErr, r.AgainErrno = errText(err)
	return r, unwritten(err)
}

// sameKeyReport is what step 03 saw.
type sameKeyReport struct {
	Key        int
	Text       string
	A, B       ns.Set // two holders, each in a new IPC namespace
	SendErr    string // Send(Key, Text) in A
	RecvB      string // Receive(Key) in B: the text
	RecvBErr   string // and the error
	RecvBErrno string
	RecvA      string // Receive(Key) in A
	RecvAErr   string
	RecvAErrno string
}

func runSameKey(ctx context.Context, cleanup *lab.Cleanup) (r sameKeyReport, err error) {
	a, b, err := twoHolders(ctx, cleanup, &r.A, &r.B, ns.IPC)
	if err != nil {
		return r, err
	}
	r.Key = newKey()
	r.Text = "hello-" + strconv.Itoa(r.Key)
	if _, err := a.Do("send %d %s", r.Key, r.Text); err != nil {
		r.SendErr = err.Error()
		return r, unwritten(err)
	}
	words, err := b.Do("recv %d", r.Key)
	r.RecvB = strings.Join(words, " ")
	r.RecvBErr, r.RecvBErrno = errText(err)
	if err := unwritten(err); err != nil {
		return r, err
	}
	words, err = a.Do("recv %d", r.Key)
	r.RecvA = strings.Join(words, " ")
	r.RecvAErr, r.RecvAErrno = errText(err)
	return r, unwritten(err)
}

// joinReport is what step 04 saw: the runner, in the lab host's IPC
// namespace, called JoinIPC to look up a queue of holder A.
type joinReport struct {
	Key     int
	A       ns.Set // the holder, in a new IPC namespace
	Runner  ns.Set // the process that called JoinIPC
	Made    int    // the msqid of the queue the lab made in A with Key
	Before  string // msgget(Key, 0) in the runner's own namespace before: "ENOENT"
	Ran     int    // how many times JoinIPC ran fn
	Got     int    // the msqid that msgget(Key, 0) returned in fn
	GotErr  string // or its error
	JoinErr string // JoinIPC's error
}

func runJoin(ctx context.Context, cleanup *lab.Cleanup) (r joinReport, err error) {
	a, err := startHolder(ctx, ns.IPC)
	if err != nil {
		return r, fmt.Errorf("start a holder in a new IPC namespace: %w", err)
	}
	cleanup.Add(a.Stop)
	if r.A, err = a.Namespaces(); err != nil {
		return r, err
	}
	if r.Runner, err = ns.Of(ns.Self); err != nil {
		return r, err
	}
	r.Runner.PID = os.Getpid()
	r.Key = newKey()
	made, err := a.Do("make %d", r.Key)
	if err != nil {
		return r, err
	}
	o, err := parseObjects(made)
	if err != nil {
		return r, err
	}
	r.Made = o.Msg
	if id, err := MsgGet(r.Key, 0); !errors.Is(err, unix.ENOENT) {
		return r, fmt.Errorf("before JoinIPC, msgget(%#x, 0) in the lab host's own IPC namespace = %d, %v; want ENOENT (the queue is A's)", r.Key, id, err)
	}
	r.Before = "ENOENT"
	r.Got = -1
	err = JoinIPC(a.PID(), func() error {
		r.Ran++
		id, err := MsgGet(r.Key, 0)
		r.Got = id
		r.GotErr, _ = errText(err)
		return err
	})
	r.JoinErr, _ = errText(err)
	return r, nil
}

// mqueueReport is what step 05 saw.
type mqueueReport struct {
	Dir         string // the mount point, in the lab host's /tmp
	Name        string // the queue, "/nslab-KEY"
	A, B        ns.Set // two holders, each in new IPC and mount namespaces
	MountAErr   string // MountMqueue(Dir) in A
	MountBErr   string // and in B
	CreateErr   string // CreateQueue(Name) in A
	FD          int    // or the descriptor it returned
	ProbeAErr   string // mq_open(Name) by the lab in A, after CreateQueue
	ListA       []string
	ListB       []string // the mqueue mount on Dir, listed in A and in B
	ProbeBErr   string   // mq_open(Name) by the lab in B
	ProbeBErrno string
	RunnerList  []string // Dir as the runner sees it, in the lab host's mount namespace
}

func runPosixMqueue(ctx context.Context, cleanup *lab.Cleanup) (r mqueueReport, err error) {
	// The lab host's /tmp is a tmpfs of its own: nothing here reaches the machine.
	if r.Dir, err = os.MkdirTemp("", "nslab-mqueue-"); err != nil {
		return r, fmt.Errorf("make a mount point: %w", err)
	}
	dir := r.Dir
	cleanup.Add(func() { os.Remove(dir) }) // after the holders, which go first
	a, b, err := twoHolders(ctx, cleanup, &r.A, &r.B, ns.IPC, ns.Mnt)
	if err != nil {
		return r, err
	}
	r.Name = "/nslab-" + strconv.Itoa(newKey())
	if _, err := a.Do("mqmount %s", r.Dir); err != nil {
		r.MountAErr = err.Error()
		return r, unwritten(err)
	}
	if _, err := b.Do("mqmount %s", r.Dir); err != nil {
		r.MountBErr = err.Error()
		return r, unwritten(err)
	}
	words, err := a.Do("mqopen %s", r.Name)
	if err != nil {
		r.CreateErr = err.Error()
		return r, unwritten(err)
	}
	if len(words) != 1 {
		return r, fmt.Errorf("mqopen %s: answer %q, want one descriptor", r.Name, words)
	}
	if r.FD, err = strconv.Atoi(words[0]); err != nil {
		return r, fmt.Errorf("mqopen %s: answer %q: %w", r.Name, words, err)
	}
	_, err = a.Do("mqprobe %s", r.Name)
	r.ProbeAErr, _ = errText(err)
	if r.ListA, err = a.Do("mqls %s", r.Dir); err != nil {
		return r, err
	}
	if r.ListB, err = b.Do("mqls %s", r.Dir); err != nil {
		return r, err
	}
	_, err = b.Do("mqprobe %s", r.Name)
	r.ProbeBErr, r.ProbeBErrno = errText(err)
	entries, err := os.ReadDir(r.Dir)
	if err != nil {
		return r, fmt.Errorf("list %s in the lab host: %w", r.Dir, err)
	}
	for _, e := range entries {
		r.RunnerList = append(r.RunnerList, e.Name())
	}
	return r, nil
}

// goneReport is what step 06 saw.
type goneReport struct {
	Key        int
	H          ns.Set   // the holder whose namespace ends
	Made       Objects  // what a child of H made there before it exited
	Found      []string // Lookup(Key) in H: the IDs
	LookupErr  string   // or its error
	Gone       string   // reading /proc/H/ns/ipc once H had exited
	Fresh      ns.Set   // a holder F in a fresh IPC namespace
	FreshFound []string // Lookup(Key) in F: the IDs
	FreshErr   string   // or its error
	FreshErrno string
	FreshList  []string // /proc/sysvipc read by the lab in F, after the Lookup
}

func runGone(ctx context.Context, cleanup *lab.Cleanup) (r goneReport, err error) {
	h, err := startHolder(ctx, ns.IPC)
	if err != nil {
		return r, fmt.Errorf("start holder H in a new IPC namespace: %w", err)
	}
	cleanup.Add(h.Stop)
	if r.H, err = h.Namespaces(); err != nil {
		return r, err
	}
	r.Key = newKey()
	made, err := h.Do("spawnmake %d", r.Key)
	if err != nil {
		return r, err
	}
	if r.Made, err = parseObjects(made); err != nil {
		return r, err
	}
	if r.Found, err = h.Do("lookup %d", r.Key); err != nil {
		r.LookupErr = err.Error()
		return r, unwritten(err)
	}
	pid := h.PID()
	if err := h.Close(); err != nil {
		return r, fmt.Errorf("stop holder H: %w", err)
	}
	_, err = ns.Get(pid, ns.IPC)
	if !errors.Is(err, ns.ErrNoProcess) && !errors.Is(err, ns.ErrExited) {
		return r, fmt.Errorf("read %s after holder H exited: %v; want it gone", ns.Path(pid, ns.IPC), err)
	}
	r.Gone = err.Error()
	f, err := startHolder(ctx, ns.IPC)
	if err != nil {
		return r, fmt.Errorf("start holder F in a new IPC namespace: %w", err)
	}
	cleanup.Add(f.Stop)
	if r.Fresh, err = f.Namespaces(); err != nil {
		return r, err
	}
	r.FreshFound, err = f.Do("lookup %d", r.Key)
	r.FreshErr, r.FreshErrno = errText(err)
	if err := unwritten(err); err != nil {
		return r, err
	}
	if r.FreshList, err = f.Do("sysvipc"); err != nil {
		return r, err
	}
	return r, nil
}

// twoHolders starts holders A and B, each in new namespaces of kinds,
// stopped through cleanup after the check, and reads their namespaces.
func twoHolders(ctx context.Context, cleanup *lab.Cleanup, sa, sb *ns.Set, kinds ...ns.Kind) (a, b *holder.Holder, err error) {
	if a, err = startHolder(ctx, kinds...); err != nil {
		return nil, nil, fmt.Errorf("start holder A in new %v namespaces: %w", kinds, err)
	}
	cleanup.Add(a.Stop)
	if b, err = startHolder(ctx, kinds...); err != nil {
		return nil, nil, fmt.Errorf("start holder B in new %v namespaces: %w", kinds, err)
	}
	cleanup.Add(b.Stop)
	if *sa, err = a.Namespaces(); err != nil {
		return nil, nil, err
	}
	if *sb, err = b.Namespaces(); err != nil {
		return nil, nil, err
	}
	return a, b, nil
}

// notWritten is the line a holder leaves on stderr when the learner's code
// it ran panicked with lab.TODO (the spawn shim exits with status 3).
var notWritten = regexp.MustCompile(`ipc step (\d\d) is not written yet`)

// unwritten returns the unwritten step (lab.TODO) that killed the holder
// whose answer was err, so that the step says "not written yet" and nothing
// more; nil for any other error.
func unwritten(err error) error {
	var exit *spawn.ExitError
	if !errors.As(err, &exit) || exit.Code != 3 {
		return nil
	}
	if m := notWritten.FindStringSubmatch(err.Error()); m != nil {
		return lab.TODO("ipc", m[1])
	}
	return nil
}

// errText is err for a report: its message and its error number ("ENOENT",
// "-" when it has none); both empty for nil.
func errText(err error) (msg, errno string) {
	if err == nil {
		return "", ""
	}
	return err.Error(), holder.Errno(err)
}
