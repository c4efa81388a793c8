//go:build linux

package ipc

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
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
	pid, err := spawn.HeldPID("StartInNewIPC", child, err, cleanup.Add)
	return newNamespaceReport{PID: pid}, err
}

// invisibleReport is what step 02 saw.
type invisibleReport struct {
	Key          int
	A, B         ns.Set   // two holders, each in a new IPC namespace
	DecoyKey     int      // the lab made objects with this other key in A first,
	Decoy        Objects  // these, so that CreateObjects' are not the first IDs there
	Objects      Objects  // what CreateObjects(Key) returned in A
	CreateErr    string   // or its error
	ListA, ListB []string // /proc/sysvipc read by the lab in A and in B: KIND:KEY:ID
	LongA        []string // and in A with permissions and sizes: KIND:KEY:ID:PERMS:SIZE
	PageSize     int      // the size of the segment CreateObjects makes
	ProbeB       []string // msgget, shmget and semget(Key, 0) in B: "msg=ENOENT" or "msg=ID"
	AgainErr     string   // what a second CreateObjects(Key) in A returned: an error
	AgainErrno   string   // its error number ("EEXIST"), "-" for none
	Again        []string // or the IDs it returned
	C            ns.Set   // a third holder, in a new IPC namespace
	Taken        []taken  // CreateObjects in C where one kind with the key existed already
}

// taken is a call of the learner's code where some objects with Key exist
// already (made by the lab): Exist names their kinds, Words is the answer
// (IDs), or Err and Errno its error.
type taken struct {
	Key        int
	Exist      []string
	Words      []string
	Err, Errno string
}

func runInvisible(ctx context.Context, cleanup *lab.Cleanup) (r invisibleReport, err error) {
	a, b, err := twoHolders(ctx, cleanup, &r.A, &r.B, ns.IPC)
	if err != nil {
		return r, err
	}
	r.Key, r.DecoyKey, r.PageSize = newKey(), newKey(), os.Getpagesize()
	if r.Decoy, err = makeIn(a, r.DecoyKey); err != nil {
		return r, err
	}
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
	if r.LongA, err = a.Do("sysvlong"); err != nil {
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
	if err := unwritten(err); err != nil {
		return r, err
	}
	r.Taken, err = takenCases(ctx, cleanup, &r.C, "create", []string{"shm"}, []string{"sem"})
	return r, err
}

// makeIn makes the three objects with key in holder h with the lab's own code.
func makeIn(h *holder.Holder, key int) (Objects, error) {
	words, err := h.Do("make %d", key)
	if err != nil {
		return Objects{}, err
	}
	return parseObjects(words)
}

// takenCases starts a holder in a new IPC namespace (its namespaces into
// set) and, for each list of kinds in exists, makes objects of those kinds
// with a new key there, then runs cmd (a learner's function) with that key.
func takenCases(ctx context.Context, cleanup *lab.Cleanup, set *ns.Set, cmd string, exists ...[]string) ([]taken, error) {
	h, err := ipcHolder(ctx, cleanup, "a holder", set)
	if err != nil {
		return nil, err
	}
	var out []taken
	for _, kinds := range exists {
		t := taken{Key: newKey(), Exist: kinds}
		if t.Words, t.Err, t.Errno, err = callWith(h, cmd, t.Key, kinds); err != nil {
			return out, err
		}
		out = append(out, t)
	}
	return out, nil
}

// callWith makes one object of each of kinds with key in holder h (the
// lab's own code), then runs cmd (a learner's function) with key there,
// and returns its answer: the words, or the error's text and number. err
// is the lab's own failure, or the learner's unwritten step.
func callWith(h *holder.Holder, cmd string, key int, kinds []string) (words []string, msg, errno string, err error) {
	for _, k := range kinds {
		if _, err := h.Do("makeone %s %d", k, key); err != nil {
			return nil, "", "", err
		}
	}
	words, err = h.Do("%s %d", cmd, key)
	msg, errno = errText(err)
	return words, msg, errno, unwritten(err)
}

// sameKeyReport is what step 03 saw.
type sameKeyReport struct {
	Key          int
	Text         string
	A, B         ns.Set // two holders, each in a new IPC namespace
	Decoy        int    // a queue the lab made in A first (msqid), so that Send's is not the first one there
	SendErr      string // Send(Key, Text) in A
	RecvB        string // Receive(Key) in B: the text
	RecvBErr     string // and the error
	RecvBErrno   string
	RecvA        string // Receive(Key) in A
	RecvAErr     string
	RecvAErrno   string
	LongA, LongB []string // /proc/sysvipc in A and in B at the end: KIND:KEY:ID:PERMS:SIZE
	C            ns.Set   // a third holder, in a new IPC namespace
	Edges        edgesReport
}

// answer is what a call of the learner's Send or Receive returned.
type answer struct {
	Text, Err, Errno string
}

// edgesReport is what step 03 saw in holder C: Send and Receive at their
// edges, with the namespace's limits (/proc/sys/kernel/msgmnb, msgmni) set
// low by the lab.
type edgesReport struct {
	LongKey   int
	Long      answer   // Send(LongKey, MaxText+1 bytes): an error
	LongRecv  answer   // Receive(LongKey) after it: ENOMSG, nothing was queued
	Key       int      // a queue made once msgmnb was MaxText: it holds MaxText bytes
	Full      answer   // Send(Key, MaxText bytes): no error
	Over      answer   // Send(Key, "x") on the full queue: EAGAIN
	RecvFull  answer   // Receive(Key): the MaxText bytes
	RecvEmpty answer   // Receive(Key) again: ENOMSG
	Typed     string   // a message the lab sent on Key with message type 7
	TypedErr  string   // or the error of the lab's msgsnd(2)
	RecvTyped answer   // Receive(Key): Typed
	NoRoomKey int      // a key with no queue, once msgmni was 0
	SendRoom  answer   // Send(NoRoomKey, "x"): ENOSPC
	RecvRoom  answer   // Receive(NoRoomKey): ENOSPC
	LongC     []string // /proc/sysvipc in C at the end
	NoLimits  string   // why the lab could not set the limits (then the calls that need them are not made)
}

func runSameKey(ctx context.Context, cleanup *lab.Cleanup) (r sameKeyReport, err error) {
	a, b, err := twoHolders(ctx, cleanup, &r.A, &r.B, ns.IPC)
	if err != nil {
		return r, err
	}
	r.Key = newKey()
	r.Text = "hello-" + strconv.Itoa(r.Key)
	decoy, err := makeIn(a, newKey())
	if err != nil {
		return r, err
	}
	r.Decoy = decoy.Msg
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
	if err := unwritten(err); err != nil {
		return r, err
	}
	if r.LongA, err = a.Do("sysvlong"); err != nil {
		return r, err
	}
	if r.LongB, err = b.Do("sysvlong"); err != nil {
		return r, err
	}
	return r, runEdges(ctx, cleanup, &r)
}

// runEdges calls Send and Receive in holder C at their edges (edgesReport).
func runEdges(ctx context.Context, cleanup *lab.Cleanup, r *sameKeyReport) error {
	c, err := ipcHolder(ctx, cleanup, "holder C", &r.C)
	if err != nil {
		return err
	}
	e := &r.Edges
	e.LongKey, e.Key, e.NoRoomKey = newKey(), newKey(), newKey()
	e.Typed = "typed-" + strconv.Itoa(e.Key)
	full := strings.Repeat("x", MaxText)
	var typed answer // the lab's own msgsnd: it fails where Receive left the queue full
	steps := []struct {
		cmd     string
		got     *answer // nil: the lab's own command
		limited bool    // needs the limits the lab sets
	}{
		{fmt.Sprintf("send %d %sy", e.LongKey, full), &e.Long, false},
		{fmt.Sprintf("recv %d", e.LongKey), &e.LongRecv, false},
		{fmt.Sprintf("limit msgmnb %d", MaxText), nil, true},
		{fmt.Sprintf("send %d %s", e.Key, full), &e.Full, false},
		{fmt.Sprintf("send %d x", e.Key), &e.Over, true},
		{fmt.Sprintf("recv %d", e.Key), &e.RecvFull, false},
		{fmt.Sprintf("recv %d", e.Key), &e.RecvEmpty, false},
		{fmt.Sprintf("tsend %d 7 %s", e.Key, e.Typed), &typed, false},
		{fmt.Sprintf("recv %d", e.Key), &e.RecvTyped, false},
		{"limit msgmni 0", nil, true},
		{fmt.Sprintf("send %d x", e.NoRoomKey), &e.SendRoom, true},
		{fmt.Sprintf("recv %d", e.NoRoomKey), &e.RecvRoom, true},
	}
	for _, s := range steps {
		if s.limited && e.NoLimits != "" {
			continue
		}
		words, err := c.Do("%s", s.cmd)
		if s.got == nil {
			if msg, errno := errText(err); slices.Contains([]string{"EACCES", "EPERM", "EROFS"}, errno) {
				e.NoLimits = msg // a kernel that keeps the IPC settings to the machine's root
			} else if err != nil {
				return err
			}
			continue
		}
		s.got.Text = strings.Join(words, " ")
		s.got.Err, s.got.Errno = errText(err)
		if err := unwritten(err); err != nil {
			return err
		}
	}
	e.TypedErr = typed.Err
	e.LongC, err = c.Do("sysvlong")
	return err
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
	a, err := ipcHolder(ctx, cleanup, "a holder", &r.A)
	if err != nil {
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
	Dir          string // the mount point, in the lab host's /tmp
	Name         string // the queue, "/nslab-KEY"
	A, B         ns.Set // two holders, each in new IPC and mount namespaces
	MountAErr    string // MountMqueue(Dir) in A
	MountBErr    string // and in B
	CreateErr    string // CreateQueue(Name) in A
	FD           int    // or the descriptor it returned
	Link         string // what /proc/self/fd/FD of A linked to ("-": no such descriptor)
	Access       string // and its access mode, "O_RDWR"
	Mode         string // the permission bits of the queue in A's mount, in octal
	AgainErr     string // CreateQueue(Name) in A a second time
	AgainErrno   string
	NulErr       string // CreateQueue of Name with a NUL byte after it
	NulErrno     string
	MissingErr   string // MountMqueue(Dir/missing) in A
	MissingErrno string
	ProbeAErr    string // mq_open(Name) by the lab in A, after CreateQueue
	ListA        []string
	ListB        []string // the mqueue mount on Dir, listed in A and in B
	ProbeBErr    string   // mq_open(Name) by the lab in B
	ProbeBErrno  string
	RunnerList   []string // Dir as the runner sees it, in the lab host's mount namespace
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
	if err := createQueueIn(a, &r); err != nil {
		return r, err
	}
	if err := mqueueEdges(a, &r); err != nil {
		return r, err
	}
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

// createQueueIn runs CreateQueue(r.Name) in holder a, then looks at the
// queue with the lab's own code.
func createQueueIn(a *holder.Holder, r *mqueueReport) error {
	words, err := a.Do("mqopen %s", r.Name)
	if err != nil {
		r.CreateErr = err.Error()
		return unwritten(err)
	}
	if len(words) != 3 {
		return fmt.Errorf("mqopen %s: answer %q, want a descriptor, its link and its access mode", r.Name, words)
	}
	if r.FD, err = strconv.Atoi(words[0]); err != nil {
		return fmt.Errorf("mqopen %s: answer %q: %w", r.Name, words, err)
	}
	r.Link, r.Access = words[1], words[2]
	_, err = a.Do("mqprobe %s", r.Name)
	r.ProbeAErr, _ = errText(err)
	if words, err = a.Do("mqmode %s", filepath.Join(r.Dir, r.Name)); err == nil {
		r.Mode = strings.Join(words, " ")
	} else {
		r.Mode = "(" + err.Error() + ")"
	}
	return nil
}

// mqueueEdges calls CreateQueue and MountMqueue in holder a where the
// kernel refuses them.
func mqueueEdges(a *holder.Holder, r *mqueueReport) error {
	_, err := a.Do("mqopen %s", r.Name)
	r.AgainErr, r.AgainErrno = errText(err)
	if err := unwritten(err); err != nil {
		return err
	}
	_, err = a.Do("mqnul %s", r.Name)
	r.NulErr, r.NulErrno = errText(err)
	if err := unwritten(err); err != nil {
		return err
	}
	_, err = a.Do("mqmount %s", filepath.Join(r.Dir, "missing"))
	r.MissingErr, r.MissingErrno = errText(err)
	return unwritten(err)
}

// goneReport is what step 06 saw.
type goneReport struct {
	Key        int
	H          ns.Set   // the holder whose namespace ends
	DecoyKey   int      // H made objects with this other key first,
	Decoy      Objects  // these, so that the child's are not the first IDs there
	Made       Objects  // what a child of H made there before it exited
	Found      []string // Lookup(Key) in H: the IDs
	LookupErr  string   // or its error
	NoCap      []string // Lookup(Key) in H on a thread without CAP_IPC_OWNER: the IDs
	NoCapErr   string   // or its error
	Missing    []taken  // Lookup in H of keys with only some kinds made
	Gone       string   // reading /proc/H/ns/ipc once H had exited
	Fresh      ns.Set   // a holder F in a fresh IPC namespace
	FreshFound []string // Lookup(Key) in F: the IDs
	FreshErr   string   // or its error
	FreshErrno string
	FreshList  []string // /proc/sysvipc read by the lab in F, after the Lookup
}

func runGone(ctx context.Context, cleanup *lab.Cleanup) (r goneReport, err error) {
	h, err := ipcHolder(ctx, cleanup, "holder H", &r.H)
	if err != nil {
		return r, err
	}
	if err := lookupInH(h, &r); err != nil {
		return r, err
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
	f, err := ipcHolder(ctx, cleanup, "holder F", &r.Fresh)
	if err != nil {
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

// lookupInH makes objects in holder H's namespace and looks them up there
// with the learner's Lookup: those a child made with r.Key, as root and as
// their owner without CAP_IPC_OWNER, and keys with only some kinds made.
func lookupInH(h *holder.Holder, r *goneReport) (err error) {
	r.Key, r.DecoyKey = newKey(), newKey()
	if r.Decoy, err = makeIn(h, r.DecoyKey); err != nil {
		return err
	}
	made, err := h.Do("spawnmake %d", r.Key)
	if err != nil {
		return err
	}
	if r.Made, err = parseObjects(made); err != nil {
		return err
	}
	if r.Found, err = h.Do("lookup %d", r.Key); err != nil {
		r.LookupErr = err.Error()
		return unwritten(err)
	}
	r.NoCap, err = h.Do("lookupnocap %d", r.Key)
	r.NoCapErr, _ = errText(err)
	if err := unwritten(err); err != nil {
		return err
	}
	for _, kinds := range [][]string{{"msg"}, {"msg", "shm"}} {
		t := taken{Key: newKey(), Exist: kinds}
		if t.Words, t.Err, t.Errno, err = callWith(h, "lookup", t.Key, kinds); err != nil {
			return err
		}
		r.Missing = append(r.Missing, t)
	}
	return nil
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

// errText is err for a report: its message (the learner's function's own,
// without the holder command, when a holder answered it) and its error
// number ("ENOENT", "-" when it has none); both empty for nil.
func errText(err error) (msg, errno string) {
	if err == nil {
		return "", ""
	}
	var cmd *holder.CommandError
	if errors.As(err, &cmd) && cmd.Msg != "" {
		return cmd.Msg, holder.Errno(err)
	}
	return err.Error(), holder.Errno(err)
}
