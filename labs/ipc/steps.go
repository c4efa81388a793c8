//go:build linux

package ipc

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"strconv"

	"github.com/nslab/nslab/pkg/holder"
	"github.com/nslab/nslab/pkg/lab"
	"github.com/nslab/nslab/pkg/ns"
	"golang.org/x/sys/unix"
)

// Lab is the IPC lab, registered with pkg/lab.
var Lab = &lab.Lab{
	Name:    "ipc",
	Title:   "IPC namespaces: message queues, shared memory and semaphores of one's own",
	Summary: "   An IPC namespace holds System V message queues, shared memory segments and semaphore sets, and POSIX message queues; a key means something only inside one namespace.",
	Steps: []*lab.Step{
		{
			ID: "01", Slug: "new_namespace", Title: "A child in a new IPC namespace", Points: 10,
			Explain: "clone(2) with CLONE_NEWIPC gives the child a new ipc namespace and shares every other kind with its parent.",
			Hints: []string{
				"Use spawn.Start with a Config whose New lists the kinds to create.",
				"spawn.Config{New: []ns.Kind{ns.IPC}, Args: args}",
			},
			Run: runNewNamespace,
		},
		{
			ID: "02", Slug: "invisible", Title: "Objects of one namespace are invisible from another", Points: 20,
			Explain: "A message queue, a shared memory segment and a semaphore set made with key K in namespace A do not exist in namespace B.",
			Hints: []string{
				"msgget(2), shmget(2) and semget(2) create an object when flag has IPC_CREAT; IPC_EXCL makes an existing one an error.",
				"MsgGet, ShmGet and SemGet in sysv_linux.go wrap the three calls; the permission bits go in the low bits of flag.",
				"MsgGet(key, unix.IPC_CREAT|unix.IPC_EXCL|0o600), ShmGet(key, unix.Getpagesize(), ...), SemGet(key, 1, ...)",
			},
			Run: runInvisible,
		},
		{
			ID: "03", Slug: "same_key", Title: "One key, two independent queues", Points: 15,
			Explain: "The same key names a different message queue in each namespace: a message sent in A never arrives in B.",
			Hints: []string{
				"msgsnd(2) and msgrcv(2) take a buffer that starts with a long message type (positive), then the text.",
				"Call them with unix.Syscall6(unix.SYS_MSGSND, ...) and unix.SYS_MSGRCV, passing unix.IPC_NOWAIT so nothing blocks.",
				"msgrcv(id, &buf[0], MaxText, 0 /* any type */, IPC_NOWAIT) returns the text length; an empty queue gives ENOMSG.",
			},
			Run: runSameKey,
		},
		{
			ID: "04", Slug: "join", Title: "Joining a namespace shows its objects", Points: 15,
			Explain: "setns(2) moves one thread into another IPC namespace; from there the other namespace's objects are found by key.",
			Hints: []string{
				"A thread that calls setns(2) must stay locked to its goroutine (runtime.LockOSThread) and be put back afterwards.",
				"ns.Do(pid, kinds, fn) does the locking, the setns and the return for you.",
				"return ns.Do(pid, []ns.Kind{ns.IPC}, fn)",
			},
			Run: runJoin,
		},
		{
			ID: "05", Slug: "posix_mqueue", Title: "POSIX message queues are per namespace too", Points: 20,
			Explain: "An mqueue file system shows the POSIX queues of the IPC namespace of whoever mounted it; a queue made in A is absent from B.",
			Hints: []string{
				"mount(2) with fstype \"mqueue\" and any source name; the child is in a new, private mount namespace, so the host sees nothing.",
				"x/sys has no mq_open: call unix.Syscall6(unix.SYS_MQ_OPEN, name, flags, mode, 0, 0, 0) with the name made by unix.BytePtrFromString.",
				"The system call takes the name without its leading slash; flags O_CREAT|O_EXCL|O_RDWR, mode 0600, attr 0 (the defaults).",
			},
			Run: runPosixMqueue,
		},
		{
			ID: "06", Slug: "gone_with_namespace", Title: "Objects end with their namespace", Points: 20,
			Explain: "System V objects outlive the process that made them, but not their namespace: once its last process exits, they are gone.",
			Hints: []string{
				"The same three get calls as in step 02 look an object up when flag has no IPC_CREAT.",
				"A missing key gives ENOENT; return that error (wrapped) rather than creating anything.",
				"MsgGet(key, 0), ShmGet(key, 0, 0), SemGet(key, 0, 0)",
			},
			Run: runGone,
		},
	},
}

func init() { lab.Register(Lab) }

func runNewNamespace(ctx context.Context, n *lab.Narrator) error {
	child, err := StartInNewIPC(ctx, []string{"true"})
	if err != nil {
		return err
	}
	defer child.Stop()
	if err := n.NewKindsOnly(child.PID(), "child", ns.IPC); err != nil {
		return err
	}
	return child.Release()
}

// twoHolders starts holders A and B, each in a new namespace of kinds, and shows them side by side.
func twoHolders(ctx context.Context, n *lab.Narrator, kinds ...ns.Kind) (a, b *Holder, err error) {
	if a, err = StartHolder(ctx, kinds...); err != nil {
		return nil, nil, err
	}
	if b, err = StartHolder(ctx, kinds...); err != nil {
		a.Stop()
		return nil, nil, err
	}
	sa, err1 := a.Namespaces()
	sb, err2 := b.Namespaces()
	if err := errors.Join(err1, err2); err != nil {
		a.Stop()
		b.Stop()
		return nil, nil, err
	}
	n.Table(lab.Column{Title: fmt.Sprintf("A (PID %d)", a.PID()), Set: sa}, lab.Column{Title: fmt.Sprintf("B (PID %d)", b.PID()), Set: sb})
	return a, b, nil
}

func runInvisible(ctx context.Context, n *lab.Narrator) error {
	a, b, err := twoHolders(ctx, n, ns.IPC)
	if err != nil {
		return err
	}
	defer a.Stop()
	defer b.Stop()
	key := NewKey()
	words, err := a.Do("create %d", key)
	if err != nil {
		return err
	}
	n.Say("in A: CreateObjects(%#x) made %v", key, words)
	listA, err := a.Do("sysvipc")
	if err != nil {
		return err
	}
	n.Say("in A: /proc/sysvipc lists %v", listA)
	listB, err := b.Do("sysvipc")
	if err != nil {
		return err
	}
	n.Say("in B: /proc/sysvipc lists %v", listB)
	probeB, err := b.Do("probe %d", key)
	if err != nil {
		return err
	}
	n.Say("in B: the get calls with key %#x and no IPC_CREAT give %v", key, probeB)
	if len(listA) != 3 || len(listB) != 0 || !slices.Equal(probeB, []string{"msg=ENOENT", "shm=ENOENT", "sem=ENOENT"}) {
		return n.Failf("the objects of A should be all of A's list and none of B's")
	}
	n.Check(true, "the three objects of A are invisible from B")
	return nil
}

func runSameKey(ctx context.Context, n *lab.Narrator) error {
	a, b, err := twoHolders(ctx, n, ns.IPC)
	if err != nil {
		return err
	}
	defer a.Stop()
	defer b.Stop()
	key := NewKey()
	text := "hello-from-A"
	if _, err := a.Do("send %d %s", key, text); err != nil {
		return err
	}
	n.Say("in A: Send(%#x, %q)", key, text)
	_, err = b.Do("recv %d", key)
	n.Say("in B: Receive(%#x): %v", key, err)
	if holder.Errno(err) != "ENOMSG" {
		return n.Failf("B's queue with key %#x should be empty (ENOMSG); got %v", key, err)
	}
	n.Check(true, "B has its own, empty queue with the same key")
	got, err := a.Do("recv %d", key)
	if err != nil {
		return err
	}
	n.Say("in A: Receive(%#x) = %q", key, got)
	if !slices.Equal(got, []string{text}) {
		return n.Failf("A should get back %q; got %q", text, got)
	}
	n.Check(true, "the message stayed in A's queue")
	return nil
}

func runJoin(ctx context.Context, n *lab.Narrator) error {
	a, err := StartHolder(ctx, ns.IPC)
	if err != nil {
		return err
	}
	defer a.Stop()
	key := NewKey()
	made, err := a.Do("make %d", key)
	if err != nil {
		return err
	}
	n.Say("in A (PID %d): a message queue with key %#x, msqid %s", a.PID(), key, made[0])
	got, err := a.Do("joinfrom %d", key)
	if err != nil {
		return err
	}
	n.Say("a child of A in a new IPC namespace of its own: msgget(%#x, 0) gives %s", key, got[0])
	n.Say("the same child after JoinIPC(%d): msgget(%#x, 0) = %s", a.PID(), key, got[1])
	if got[0] != "ENOENT" || got[1] != made[0] {
		return n.Failf("the joined thread should find msqid %s (and nothing before joining); got %v", made[0], got)
	}
	n.Check(true, "after setns(2) the thread sees A's queue")
	return nil
}

func runPosixMqueue(ctx context.Context, n *lab.Narrator) error {
	dir, err := os.MkdirTemp("", "nslab-mqueue-")
	if err != nil {
		return fmt.Errorf("make a mount point: %w", err)
	}
	defer os.Remove(dir)
	a, b, err := twoHolders(ctx, n, ns.IPC, ns.Mnt)
	if err != nil {
		return err
	}
	defer a.Stop()
	defer b.Stop()
	name := "/nslab-" + strconv.Itoa(NewKey())
	for _, h := range []*Holder{a, b} {
		if _, err := h.Do("mqmount %s", dir); err != nil {
			return err
		}
	}
	n.Say("A and B each mounted mqueue on %s, in their own mount namespaces", dir)
	if _, err := a.Do("mqopen %s", name); err != nil {
		return err
	}
	lsA, _ := a.Do("mqls %s", dir)
	lsB, _ := b.Do("mqls %s", dir)
	_, errB := b.Do("mqprobe %s", name)
	n.Say("in A: CreateQueue(%q); ls %s shows %v", name, dir, lsA)
	n.Say("in B: ls %s shows %v; mq_open(%q) gives %s", dir, lsB, name, holder.Errno(errB))
	if !slices.Contains(lsA, name[1:]) || slices.Contains(lsB, name[1:]) || holder.Errno(errB) != "ENOENT" {
		return n.Failf("queue %s should be in A's mqueue mount only", name)
	}
	n.Check(true, "A's POSIX queue does not exist in B")
	return nil
}

func runGone(ctx context.Context, n *lab.Narrator) error {
	h, err := StartHolder(ctx, ns.IPC)
	if err != nil {
		return err
	}
	defer h.Stop()
	key := NewKey()
	made, err := h.Do("spawnmake %d", key)
	if err != nil {
		return err
	}
	n.Say("a child in H's namespace made %v with key %#x and exited", made, key)
	found, err := h.Do("lookup %d", key)
	if err != nil {
		return err
	}
	n.Say("in H (PID %d): Lookup(%#x) = %v: the objects outlived their maker", h.PID(), key, found)
	old, err := ns.Get(h.PID(), ns.IPC)
	if err != nil {
		return err
	}
	pid := h.PID()
	if err := h.Close(); err != nil {
		return err
	}
	_, err = ns.Get(pid, ns.IPC)
	n.Say("H exited; %s: %v", ns.Path(pid, ns.IPC), err)
	return lookFresh(ctx, n, key, old)
}

// lookFresh shows that a new IPC namespace has nothing with key.
func lookFresh(ctx context.Context, n *lab.Narrator, key int, old ns.ID) error {
	f, err := StartHolder(ctx, ns.IPC)
	if err != nil {
		return err
	}
	defer f.Stop()
	id, err := ns.Get(f.PID(), ns.IPC)
	if err != nil {
		return err
	}
	n.Say("a fresh namespace %s (the old one was %s; the kernel may reuse a freed number)", id, old)
	_, err = f.Do("lookup %d", key)
	n.Say("in it: Lookup(%#x): %v", key, err)
	if !errors.Is(err, unix.ENOENT) {
		return n.Failf("a fresh namespace should have nothing with key %#x; got %v", key, err)
	}
	n.Check(true, "no process can reach the old objects: they ended with their namespace")
	return nil
}
