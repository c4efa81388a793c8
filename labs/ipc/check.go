//go:build linux

package ipc

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/nslab/nslab/pkg/lab"
	"github.com/nslab/nslab/pkg/ns"
	"golang.org/x/sys/unix"
)

// The check halves of the steps: in the harness, they verify the reports
// of run.go against the kernel where it still holds the facts (the lab
// host's own IPC namespace, and the holders' while they are kept alive),
// narrate, and return what the kernel was expected to do and did not.

func checkNewNamespace(c *lab.Check, r newNamespaceReport) error {
	return c.NewKindsOnly(r.PID, "child", ns.IPC)
}

func checkInvisible(c *lab.Check, r invisibleReport) error {
	table(c, holderColumn("A", r.A), holderColumn("B", r.B), holderColumn("C", r.C))
	if err := labHostClean(c, ""); err != nil {
		return err
	}
	if r.CreateErr != "" {
		return c.Failf("CreateObjects(%#x) in a new IPC namespace: %s; want three new objects", r.Key, r.CreateErr)
	}
	c.Say("in A: the lab made %v with key %#x first; then CreateObjects(%#x) = %v", r.Decoy, r.DecoyKey, r.Key, r.Objects)
	if err := checkCreated(c, r); err != nil {
		return err
	}
	if err := checkInvisibleInB(c, r); err != nil {
		return err
	}
	if err := checkAgain(c, r); err != nil {
		return err
	}
	return checkTaken(c, "C", "CreateObjects", "EEXIST", r.Taken)
}

// checkCreated checks what A lists after CreateObjects: the lab's objects,
// then the three new ones, each mode 0600, a segment of one page and a set
// of one semaphore.
func checkCreated(c *lab.Check, r invisibleReport) error {
	var want, wantLong []string
	for _, e := range createdIn(r) {
		want, wantLong = append(want, e.word()), append(wantLong, e.long())
	}
	c.Say("in A: /proc/sysvipc lists %v", r.ListA)
	if !slices.Equal(r.ListA, want) {
		return c.Failf("/proc/sysvipc in namespace A lists %v after CreateObjects returned %v; want %v (one object of each kind with key %#x, beside the lab's with key %#x)", r.ListA, r.Objects, want, r.Key, r.DecoyKey)
	}
	if err := confirmList(c, "A", r.A.PID, want); err != nil {
		return err
	}
	c.Say("in A: with permissions and sizes (KIND:KEY:ID:PERMS:SIZE): %v", r.LongA)
	if !slices.Equal(r.LongA, wantLong) {
		return c.Failf("/proc/sysvipc in namespace A lists %v (KIND:KEY:ID:PERMS:SIZE); want %v: mode 0600 (the low nine bits of the flag), a shared memory segment of one page (%d bytes) and a set of one semaphore", r.LongA, wantLong, r.PageSize)
	}
	c.Check(true, "A has the three objects CreateObjects returned, mode 0600, a page of memory and one semaphore")
	return nil
}

// createdIn is what A should list in step 02, in the order of
// /proc/sysvipc/{msg,shm,sem}: per kind, the lab's object then the new one.
func createdIn(r invisibleReport) []sysvEntry {
	return []sysvEntry{
		{"msg", r.DecoyKey, r.Decoy.Msg, 0o600, 0}, {"msg", r.Key, r.Objects.Msg, 0o600, 0},
		{"shm", r.DecoyKey, r.Decoy.Shm, 0o600, r.PageSize}, {"shm", r.Key, r.Objects.Shm, 0o600, r.PageSize},
		{"sem", r.DecoyKey, r.Decoy.Sem, 0o600, 1}, {"sem", r.Key, r.Objects.Sem, 0o600, 1},
	}
}

func checkInvisibleInB(c *lab.Check, r invisibleReport) error {
	c.Say("in B: /proc/sysvipc lists %v", r.ListB)
	if len(r.ListB) != 0 {
		return c.Failf("/proc/sysvipc in namespace B lists %v; want nothing (A's objects must be invisible there)", r.ListB)
	}
	if err := confirmList(c, "B", r.B.PID, nil); err != nil {
		return err
	}
	wantProbe := []string{"msg=ENOENT", "shm=ENOENT", "sem=ENOENT"}
	c.Say("in B: the get calls with key %#x and no IPC_CREAT give %v", r.Key, r.ProbeB)
	if !slices.Equal(r.ProbeB, wantProbe) {
		return c.Failf("in namespace B, msgget/shmget/semget(%#x, 0) gave %v; want %v", r.Key, r.ProbeB, wantProbe)
	}
	c.Check(true, "the three objects of A are invisible from B")
	return nil
}

func checkAgain(c *lab.Check, r invisibleReport) error {
	if r.AgainErr == "" {
		c.Say("in A: CreateObjects(%#x) again = %v, no error", r.Key, r.Again)
		return c.Failf("CreateObjects(%#x) a second time in namespace A returned IDs %v and no error; want an error wrapping EEXIST: with IPC_CREAT|IPC_EXCL the get calls refuse a key that exists, so the step never passes off old objects as new", r.Key, r.Again)
	}
	c.Say("in A: CreateObjects(%#x) again: %s", r.Key, r.AgainErr)
	if r.AgainErrno != "EEXIST" {
		return c.Failf("CreateObjects(%#x) a second time in namespace A: %s; want an error wrapping EEXIST (IPC_CREAT|IPC_EXCL on a key that exists)", r.Key, r.AgainErr)
	}
	c.Check(true, "a second CreateObjects with the same key fails with EEXIST: the objects are new ones")
	return nil
}

// checkTaken checks the calls of fn (CreateObjects or Lookup) in namespace
// who, where only some kinds with the key exist: each must fail with
// an error wrapping errno, from the get call of the first kind that does
// (EEXIST) or does not (ENOENT) exist.
func checkTaken(c *lab.Check, who, fn, errno string, ts []taken) error {
	for _, t := range ts {
		where := fmt.Sprintf("in namespace %s, where the lab had made only a %s with key %#x", who, strings.Join(t.Exist, " and a "), t.Key)
		c.Say("%s: %s(%#x) = %v, %s", where, fn, t.Key, t.Words, lab.Or(t.Err, "nil"))
		switch {
		case t.Err == "":
			return c.Failf("%s, %s(%#x) returned IDs %v and no error; want an error wrapping %s: each of the three get calls can fail, and its error must be returned", where, fn, t.Key, t.Words, errno)
		case t.Errno != errno:
			return c.Failf("%s, %s(%#x): %s; want an error wrapping %s (return the get call's error, wrapped with %%w)", where, fn, t.Key, t.Err, errno)
		}
	}
	c.Check(true, "%s returns the %s of each of the three get calls", fn, errno)
	return nil
}

func checkSameKey(c *lab.Check, r sameKeyReport) error {
	table(c, holderColumn("A", r.A), holderColumn("B", r.B), holderColumn("C", r.C))
	if err := labHostClean(c, ""); err != nil {
		return err
	}
	if r.SendErr != "" {
		return c.Failf("Send(%#x, %q) in namespace A: %s; want the message queued", r.Key, r.Text, r.SendErr)
	}
	c.Say("in A: the lab made a queue with another key (msqid %d); then Send(%#x, %q)", r.Decoy, r.Key, r.Text)
	c.Say("in B: Receive(%#x) = %q, %s", r.Key, r.RecvB, lab.Or(r.RecvBErr, "nil"))
	if r.RecvBErrno != "ENOMSG" {
		return c.Failf("Receive(%#x) in namespace B = %q, %s; want an error wrapping ENOMSG (B's queue with that key is another, empty queue)", r.Key, r.RecvB, lab.Or(r.RecvBErr, "nil"))
	}
	c.Check(true, "B has its own, empty queue with the same key")
	c.Say("in A: Receive(%#x) = %q, %s", r.Key, r.RecvA, lab.Or(r.RecvAErr, "nil"))
	if r.RecvAErr != "" || r.RecvA != r.Text {
		return c.Failf("Receive(%#x) in namespace A = %q, %s; want %q, the message sent there", r.Key, r.RecvA, lab.Or(r.RecvAErr, "nil"), r.Text)
	}
	c.Check(true, "the message stayed in A's queue")
	for _, q := range []struct {
		who, fn string
		long    []string
	}{{"A", "Send", r.LongA}, {"B", "Receive", r.LongB}} {
		if err := checkQueueMode(c, q.who, q.fn, r.Key, q.long); err != nil {
			return err
		}
	}
	return checkEdges(c, r.Edges)
}

// checkQueueMode checks, in the sysvlong listing of a namespace, that the
// queue with key that fn created there has mode 0600.
func checkQueueMode(c *lab.Check, who, fn string, key int, long []string) error {
	var mode []string
	for _, w := range long {
		if strings.HasPrefix(w, fmt.Sprintf("msg:%d:", key)) {
			mode = append(mode, w)
		}
	}
	c.Say("in %s: the queue with key %#x (KIND:KEY:ID:PERMS:SIZE): %v", who, key, mode)
	if len(mode) != 1 || !strings.HasSuffix(mode[0], ":600:0") {
		return c.Failf("in namespace %s, /proc/sysvipc lists %v for key %#x, the queue %s made; want one empty queue with mode 0600 (IPC_CREAT|0600: the low nine bits of the flag are its permissions)", who, mode, key, fn)
	}
	return nil
}

// checkEdges checks what Send and Receive did in holder C (edgesReport).
func checkEdges(c *lab.Check, e edgesReport) error {
	full := strings.Repeat("x", MaxText)
	c.Say("in C: Send of %d bytes (longer than MaxText) = %s; then Receive = %q, %s", MaxText+1, lab.Or(e.Long.Err, "nil"), e.LongRecv.Text, lab.Or(e.LongRecv.Err, "nil"))
	if e.NoLimits != "" {
		c.Say("(this kernel lets no one but the machine's root set msgmnb and msgmni, even in an IPC namespace of the lab's own: %s; the calls that need them are left out)", e.NoLimits)
	}
	c.Say("in C, with msgmnb %d: Send of %d bytes = %s; Send of 1 more = %s", MaxText, MaxText, lab.Or(e.Full.Err, "nil"), lab.Or(e.Over.Err, "nil"))
	c.Say("in C: Receive = %d bytes, %s; again = %q, %s; after a message of type 7: %q, %s", len(e.RecvFull.Text), lab.Or(e.RecvFull.Err, "nil"), e.RecvEmpty.Text, lab.Or(e.RecvEmpty.Err, "nil"), e.RecvTyped.Text, lab.Or(e.RecvTyped.Err, "nil"))
	c.Say("in C, with msgmni 0: Send to a new key = %s; Receive = %s", lab.Or(e.SendRoom.Err, "nil"), lab.Or(e.RecvRoom.Err, "nil"))
	switch {
	case e.Long.Err == "":
		return c.Failf("Send(%#x, %d bytes) returned no error; want an error: a text longer than MaxText (%d) cannot be received by Receive", e.LongKey, MaxText+1, MaxText)
	case e.LongRecv.Errno != "ENOMSG":
		return c.Failf("after Send(%#x, %d bytes) failed, Receive(%#x) = %d bytes, %s; want an error wrapping ENOMSG: Send must queue nothing longer than MaxText (%d)", e.LongKey, MaxText+1, e.LongKey, len(e.LongRecv.Text), lab.Or(e.LongRecv.Err, "nil"), MaxText)
	case e.Full.Err != "":
		return c.Failf("Send(%#x, %d bytes) = %s; want no error: MaxText (%d) bytes is not too long, and the queue holds that much (msgmnb)", e.Key, MaxText, e.Full.Err, MaxText)
	case e.NoLimits == "" && e.Over.Errno != "EAGAIN":
		return c.Failf("Send(%#x, \"x\") on a queue full of its %d bytes (msgmnb) = %s; want an error wrapping EAGAIN: with IPC_NOWAIT, msgsnd(2) refuses to wait for room", e.Key, MaxText, lab.Or(e.Over.Err, "nil"))
	case e.RecvFull.Err != "" || e.RecvFull.Text != full:
		return c.Failf("Receive(%#x) of a message of %d bytes = %d bytes %.20q…, %s; want the %d bytes sent (a buffer of 8 + MaxText bytes, the text is buf[8:8+n])", e.Key, MaxText, len(e.RecvFull.Text), e.RecvFull.Text, lab.Or(e.RecvFull.Err, "nil"), MaxText)
	case e.RecvEmpty.Errno != "ENOMSG":
		return c.Failf("Receive(%#x) of a queue emptied by the previous Receive = %q, %s; want an error wrapping ENOMSG (the message of 1 byte refused on the full queue must not be there)", e.Key, e.RecvEmpty.Text, lab.Or(e.RecvEmpty.Err, "nil"))
	case e.TypedErr != "":
		return c.Failf("the lab's own msgsnd(2) of a message of type 7 on the queue with key %#x, emptied by Receive: %s; want it queued (did Receive take the message off the queue with key %#x?)", e.Key, e.TypedErr, e.Key)
	case e.RecvTyped.Err != "" || e.RecvTyped.Text != e.Typed:
		return c.Failf("Receive(%#x) of a queue holding one message of type 7 = %q, %s; want %q: Receive takes the first message of any type (msgtyp 0)", e.Key, e.RecvTyped.Text, lab.Or(e.RecvTyped.Err, "nil"), e.Typed)
	case e.NoLimits == "" && (e.SendRoom.Errno != "ENOSPC" || e.RecvRoom.Errno != "ENOSPC"):
		return c.Failf("in a namespace whose msgmni is 0 (no new queue), Send(%#x, \"x\") = %s and Receive(%#x) = %s; want both an error wrapping ENOSPC, msgget(2)'s: return the error of the get call", e.NoRoomKey, lab.Or(e.SendRoom.Err, "nil"), e.NoRoomKey, lab.Or(e.RecvRoom.Err, "nil"))
	}
	if err := checkQueueMode(c, "C", "Send", e.Key, e.LongC); err != nil {
		return err
	}
	c.Check(true, "Send and Receive keep MaxText, IPC_NOWAIT and any message type, and return the kernel's errors")
	return nil
}

func checkJoin(c *lab.Check, r joinReport) error {
	c.Table(lab.Column{Title: fmt.Sprintf("lab host, the runner (PID %d)", r.Runner.PID), Set: r.Runner}, holderColumn("A", r.A))
	if err := labHostClean(c, ""); err != nil {
		return err
	}
	c.Say("in A (PID %d): a message queue with key %#x, msqid %d", r.A.PID, r.Key, r.Made)
	c.Say("in the runner's own IPC namespace: msgget(%#x, 0) gives %s", r.Key, r.Before)
	got := fmt.Sprintf("msqid %d", r.Got)
	if r.GotErr != "" {
		got = r.GotErr
	}
	c.Say("inside JoinIPC(%d, fn): fn ran %d time(s), msgget(%#x, 0) gave %s; JoinIPC returned %s", r.A.PID, r.Ran, r.Key, got, lab.Or(r.JoinErr, "nil"))
	switch {
	case r.JoinErr != "":
		return c.Failf("a process in another IPC namespace calling JoinIPC(%d, fn): %s; want fn run in A's namespace, where msgget(%#x, 0) finds msqid %d", r.A.PID, r.JoinErr, r.Key, r.Made)
	case r.Ran != 1:
		return c.Failf("JoinIPC(%d, fn) ran fn %d times and returned nil; want fn run once, in A's IPC namespace, and its error returned", r.A.PID, r.Ran)
	case r.Got != r.Made:
		return c.Failf("inside JoinIPC(%d, fn), msgget(%#x, 0) gave msqid %d (%s); want %d, A's queue (did fn run after setns(2) with CLONE_NEWIPC?)", r.A.PID, r.Key, r.Got, lab.Or(r.GotErr, "nil"), r.Made)
	}
	var seen int
	err := c.Do(r.A.PID, []ns.Kind{ns.IPC}, func() (err error) {
		seen, err = MsgGet(r.Key, 0)
		return err
	})
	switch {
	case errors.Is(err, lab.ErrNoVisit):
	case err != nil:
		return fmt.Errorf("look up key %#x in A's IPC namespace from the harness: %w", r.Key, err)
	case seen != r.Made:
		return c.Failf("from outside, A's IPC namespace has msqid %d with key %#x, not %d that JoinIPC's fn found", seen, r.Key, r.Made)
	}
	c.Check(true, "after setns(2) the thread saw A's queue, msqid %d", r.Made)
	return nil
}

func checkPosixMqueue(c *lab.Check, r mqueueReport) error {
	table(c, holderColumn("A", r.A), holderColumn("B", r.B))
	if err := labHostClean(c, r.Name); err != nil {
		return err
	}
	for _, m := range []struct{ who, err string }{{"A", r.MountAErr}, {"B", r.MountBErr}} {
		if m.err != "" {
			return c.Failf("MountMqueue(%s) in %s, a process in new mount and IPC namespaces: %s; want an mqueue mount", r.Dir, m.who, m.err)
		}
	}
	c.Say("A and B each mounted mqueue on %s, in their own mount namespaces", r.Dir)
	if r.CreateErr != "" {
		return c.Failf("CreateQueue(%q) in namespace A: %s; want a new queue", r.Name, r.CreateErr)
	}
	if r.FD < 0 {
		return c.Failf("CreateQueue(%q) returned descriptor %d and no error; want the descriptor of the new queue, or the error of mq_open(2) when it fails", r.Name, r.FD)
	}
	if r.ProbeAErr != "" {
		return c.Failf("mq_open(%q) in namespace A after CreateQueue: %s; want the queue there", r.Name, r.ProbeAErr)
	}
	if err := checkQueue(c, r); err != nil {
		return err
	}
	c.Say("in A: CreateQueue(%q); ls %s shows %v", r.Name, r.Dir, r.ListA)
	if want := []string{strings.TrimPrefix(r.Name, "/")}; !slices.Equal(r.ListA, want) {
		return c.Failf("the mqueue mount on %s in namespace A lists %v; want %v (was it mounted by a process in A?)", r.Dir, r.ListA, want)
	}
	c.Say("in B: ls %s shows %v; mq_open(%q) gives %s", r.Dir, r.ListB, r.Name, lab.Or(r.ProbeBErr, "nil"))
	if len(r.ListB) != 0 {
		return c.Failf("the mqueue mount on %s in namespace B lists %v; want nothing", r.Dir, r.ListB)
	}
	if r.ProbeBErrno != "ENOENT" {
		return c.Failf("mq_open(%q) in namespace B: %s; want ENOENT", r.Name, lab.Or(r.ProbeBErr, "nil"))
	}
	c.Check(true, "A's POSIX queue does not exist in B")
	c.Say("in the lab host: ls %s shows %v", r.Dir, r.RunnerList)
	if len(r.RunnerList) != 0 {
		return c.Failf("%s seen from the lab host holds %v; want an empty directory: the mounts belong to the holders' mount namespaces", r.Dir, r.RunnerList)
	}
	if os.Geteuid() == 0 {
		entries, err := os.ReadDir(c.ProcDir(c.Runner) + "/root" + r.Dir)
		if err != nil {
			return fmt.Errorf("list %s of the lab host from the harness: %w", r.Dir, err)
		}
		if len(entries) != 0 {
			return c.Failf("%s of the lab host, read from the harness, holds %d entries; want an empty directory: the mounts belong to the holders' mount namespaces", r.Dir, len(entries))
		}
	}
	c.Check(true, "the lab host's %s stays empty: each mount belongs to its holder's mount namespace", r.Dir)
	return nil
}

// checkQueue checks the descriptor and the queue CreateQueue made, and
// CreateQueue and MountMqueue where the kernel refuses them.
func checkQueue(c *lab.Check, r mqueueReport) error {
	c.Say("in A: CreateQueue(%q) = descriptor %d (%s), a link to %q; the queue's mode is %s", r.Name, r.FD, r.Access, r.Link, r.Mode)
	c.Say("in A: CreateQueue(%q) again: %s; with a NUL byte in the name: %s; MountMqueue on a missing directory: %s", r.Name, lab.Or(r.AgainErr, "nil"), lab.Or(r.NulErr, "nil"), lab.Or(r.MissingErr, "nil"))
	switch {
	case r.Link != r.Name:
		return c.Failf("CreateQueue(%q) returned descriptor %d, which links to %q in the process; want the descriptor mq_open(2) returned, a link to the queue %q", r.Name, r.FD, r.Link, r.Name)
	case r.Access != "O_RDWR":
		return c.Failf("CreateQueue(%q) returned descriptor %d, open %s; want O_RDWR, so that the caller can both send and receive", r.Name, r.FD, r.Access)
	case r.Mode != "600":
		return c.Failf("the queue CreateQueue(%q) made has mode %s in the mqueue mount; want 600 (the mode argument of mq_open(2))", r.Name, r.Mode)
	case r.AgainErrno != "EEXIST":
		return c.Failf("CreateQueue(%q) of a queue that exists = %s; want an error wrapping EEXIST (O_CREAT|O_EXCL: the queue must be a new one)", r.Name, lab.Or(r.AgainErr, "nil"))
	case r.NulErr == "":
		return c.Failf("CreateQueue of a name with a NUL byte in it returned no error; want the error of unix.BytePtrFromString (EINVAL): no system call can take that name")
	case r.NulErrno != "EINVAL":
		return c.Failf("CreateQueue of a name with a NUL byte in it: %s; want an error wrapping EINVAL, the error of unix.BytePtrFromString (wrap it with %%w)", r.NulErr)
	case r.MissingErrno != "ENOENT":
		return c.Failf("MountMqueue(%s) of a directory that does not exist = %s; want an error wrapping ENOENT, mount(2)'s", filepath.Join(r.Dir, "missing"), lab.Or(r.MissingErr, "nil"))
	}
	c.Check(true, "CreateQueue returns the queue's descriptor, mode 0600, and the kernel's errors; MountMqueue returns mount(2)'s")
	return nil
}

func checkGone(c *lab.Check, r goneReport) error {
	table(c, holderColumn("H", r.H), holderColumn("F", r.Fresh))
	if err := labHostClean(c, ""); err != nil {
		return err
	}
	c.Say("H made %v with key %#x; then a child in H's namespace made %v with key %#x and exited", r.Decoy, r.DecoyKey, r.Made, r.Key)
	if r.LookupErr != "" {
		return c.Failf("Lookup(%#x) in the namespace whose objects were made by an exited child: %s; want %v (objects outlive their maker)", r.Key, r.LookupErr, r.Made)
	}
	found, _ := parseObjects(r.Found)
	c.Say("in H (PID %d): Lookup(%#x) = %v: the objects outlived their maker", r.H.PID, r.Key, found)
	if found != r.Made {
		return c.Failf("Lookup(%#x) = %v; want %v, the objects made there", r.Key, r.Found, r.Made)
	}
	if err := checkNoCap(c, r); err != nil {
		return err
	}
	old, _ := r.H.Get(ns.IPC)
	fresh, _ := r.Fresh.Get(ns.IPC)
	c.Say("H exited, the last process of %s; %s", old, r.Gone)
	c.Say("a fresh namespace %s (the old one was %s; the kernel may reuse a freed number)", fresh, old)
	c.Say("in it: Lookup(%#x) = %v, %s; /proc/sysvipc lists %v", r.Key, r.FreshFound, lab.Or(r.FreshErr, "nil"), r.FreshList)
	if len(r.FreshList) != 0 {
		return c.Failf("Lookup(%#x) in a fresh IPC namespace left %v behind there (%s); want it to create nothing: a lookup passes no IPC_CREAT", r.Key, r.FreshList, lab.Or(r.FreshErr, "nil"))
	}
	if r.FreshErrno != "ENOENT" {
		return c.Failf("Lookup(%#x) in a fresh IPC namespace = %v, %s; want an error wrapping ENOENT", r.Key, r.FreshFound, lab.Or(r.FreshErr, "nil"))
	}
	if err := confirmList(c, "F", r.Fresh.PID, nil); err != nil {
		return err
	}
	c.Check(true, "no process can reach the old objects: they ended with their namespace")
	return checkTaken(c, "H", "Lookup", "ENOENT", r.Missing)
}

// checkNoCap checks Lookup by the objects' owner without CAP_IPC_OWNER.
func checkNoCap(c *lab.Check, r goneReport) error {
	found, _ := parseObjects(r.NoCap)
	c.Say("in H, on a thread without CAP_IPC_OWNER (the objects' owner, not all-powerful root): Lookup(%#x) = %v, %s", r.Key, r.NoCap, lab.Or(r.NoCapErr, "nil"))
	switch {
	case r.NoCapErr != "":
		return c.Failf("Lookup(%#x) by the objects' owner without CAP_IPC_OWNER: %s; want %v: a lookup asks for no permission (flag 0; the low nine bits of a get call's flag are the access asked for, checked against the object's mode 0600)", r.Key, r.NoCapErr, r.Made)
	case found != r.Made:
		return c.Failf("Lookup(%#x) by the objects' owner without CAP_IPC_OWNER = %v; want %v, the objects made there", r.Key, r.NoCap, r.Made)
	}
	c.Check(true, "Lookup finds them as their owner too, without CAP_IPC_OWNER")
	return nil
}

// table shows the lab host (the runner, read from outside) beside cols.
func table(c *lab.Check, cols ...lab.Column) {
	if host, err := c.Host(); err == nil {
		cols = append([]lab.Column{{Title: fmt.Sprintf("lab host (PID %d)", host.PID), Set: host}}, cols...)
	}
	c.Table(cols...)
}

func holderColumn(name string, s ns.Set) lab.Column {
	return lab.Column{Title: fmt.Sprintf("%s (PID %d)", name, s.PID), Set: s}
}

// sysvIn lists the System V objects of the IPC namespace of process pid of
// the lab host, read by a thread of the harness that visits it (lab.ErrNoVisit
// without root).
func sysvIn(c *lab.Check, pid int) (out []sysvEntry, err error) {
	err = c.Do(pid, []ns.Kind{ns.IPC}, func() (err error) {
		out, err = readSysVIPC()
		return err
	})
	return out, err
}

// confirmList reads, from the harness, the System V objects of holder
// name's IPC namespace and wants the words of want (nil: nothing); without
// root there is only the holder's own listing.
func confirmList(c *lab.Check, name string, pid int, want []string) error {
	got, err := sysvIn(c, pid)
	switch {
	case errors.Is(err, lab.ErrNoVisit):
		return nil
	case err != nil:
		return fmt.Errorf("read the System V objects of %s (PID %d) from the harness: %w", name, pid, err)
	}
	words := make([]string, len(got))
	for i, e := range got {
		words[i] = e.word()
	}
	if !slices.Equal(words, want) {
		return c.Failf("from outside, /proc/sysvipc in namespace %s lists %v; want %v", name, words, want)
	}
	return nil
}

// labHostClean checks, from the harness, that the lab host's own IPC
// namespace (the runner's) holds no System V object, and not the POSIX
// queue mq when mq is not empty. The lab makes every object in a namespace
// of its own, so an object there was made by code that acted in its parent's
// IPC namespace; on a machine without the lab host, that object would have
// stayed behind on the machine.
func labHostClean(c *lab.Check, mq string) error {
	var left []string
	err := c.Do(c.Runner, []ns.Kind{ns.IPC}, func() error {
		objs, err := readSysVIPC()
		if err != nil {
			return err
		}
		for _, o := range objs {
			left = append(left, o.String())
		}
		if mq == "" {
			return nil
		}
		fd, err := mqOpen(mq, unix.O_RDONLY|unix.O_CLOEXEC, 0)
		switch {
		case err == nil:
			unix.Close(fd)
			left = append(left, "POSIX message queue "+mq)
		case !errors.Is(err, unix.ENOENT):
			return err
		}
		return nil
	})
	switch {
	case errors.Is(err, lab.ErrNoVisit):
		c.Say("(the lab host's own IPC namespace is read from outside only when the harness is root)")
		return nil // without root, the holders' reports are all there is
	case err != nil:
		return fmt.Errorf("read the IPC objects of the lab host: %w", err)
	}
	// The lab host's own mqueue mount, where the machine has a /dev/mqueue.
	queues, err := os.ReadDir(c.ProcDir(c.Runner) + "/root/dev/mqueue")
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("list the lab host's /dev/mqueue: %w", err)
	}
	for _, q := range queues {
		if name := "POSIX message queue /" + q.Name(); !slices.Contains(left, name) {
			left = append(left, name)
		}
	}
	if len(left) > 0 {
		return c.Failf("the lab host's own IPC namespace (the step's runner, PID %d) holds %s: the step's code made this in its parent's IPC namespace, not in the one it was called in (the lab calls it in a namespace of its own; it must act there and never join another)", c.Runner, strings.Join(left, ", "))
	}
	c.Check(true, "the lab host's own IPC namespace holds no object of the step")
	return nil
}
