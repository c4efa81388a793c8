//go:build linux

package ipc

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
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
	table(c, holderColumn("A", r.A), holderColumn("B", r.B))
	if err := labHostClean(c, ""); err != nil {
		return err
	}
	if r.CreateErr != "" {
		return c.Failf("CreateObjects(%#x) in a new IPC namespace: %s; want three new objects", r.Key, r.CreateErr)
	}
	c.Say("in A: CreateObjects(%#x) = %v", r.Key, r.Objects)
	want := []string{
		sysvEntry{"msg", r.Key, r.Objects.Msg}.word(),
		sysvEntry{"shm", r.Key, r.Objects.Shm}.word(),
		sysvEntry{"sem", r.Key, r.Objects.Sem}.word(),
	}
	c.Say("in A: /proc/sysvipc lists %v", r.ListA)
	if !slices.Equal(r.ListA, want) {
		return c.Failf("/proc/sysvipc in namespace A lists %v after CreateObjects returned %v; want %v (one object of each kind, key %#x)", r.ListA, r.Objects, want, r.Key)
	}
	if err := confirmList(c, "A", r.A.PID, want); err != nil {
		return err
	}
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

func checkSameKey(c *lab.Check, r sameKeyReport) error {
	table(c, holderColumn("A", r.A), holderColumn("B", r.B))
	if err := labHostClean(c, ""); err != nil {
		return err
	}
	if r.SendErr != "" {
		return c.Failf("Send(%#x, %q) in namespace A: %s; want the message queued", r.Key, r.Text, r.SendErr)
	}
	c.Say("in A: Send(%#x, %q)", r.Key, r.Text)
	c.Say("in B: Receive(%#x) = %q, %s", r.Key, r.RecvB, orNil(r.RecvBErr))
	if r.RecvBErrno != "ENOMSG" {
		return c.Failf("Receive(%#x) in namespace B = %q, %s; want an error wrapping ENOMSG (B's queue with that key is another, empty queue)", r.Key, r.RecvB, orNil(r.RecvBErr))
	}
	c.Check(true, "B has its own, empty queue with the same key")
	c.Say("in A: Receive(%#x) = %q, %s", r.Key, r.RecvA, orNil(r.RecvAErr))
	if r.RecvAErr != "" || r.RecvA != r.Text {
		return c.Failf("Receive(%#x) in namespace A = %q, %s; want %q, the message sent there", r.Key, r.RecvA, orNil(r.RecvAErr), r.Text)
	}
	c.Check(true, "the message stayed in A's queue")
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
	c.Say("inside JoinIPC(%d, fn): fn ran %d time(s), msgget(%#x, 0) gave %s; JoinIPC returned %s", r.A.PID, r.Ran, r.Key, got, orNil(r.JoinErr))
	switch {
	case r.JoinErr != "":
		return c.Failf("a process in another IPC namespace calling JoinIPC(%d, fn): %s; want fn run in A's namespace, where msgget(%#x, 0) finds msqid %d", r.A.PID, r.JoinErr, r.Key, r.Made)
	case r.Ran != 1:
		return c.Failf("JoinIPC(%d, fn) ran fn %d times and returned nil; want fn run once, in A's IPC namespace, and its error returned", r.A.PID, r.Ran)
	case r.Got != r.Made:
		return c.Failf("inside JoinIPC(%d, fn), msgget(%#x, 0) gave msqid %d (%s); want %d, A's queue (did fn run after setns(2) with CLONE_NEWIPC?)", r.A.PID, r.Key, r.Got, orNil(r.GotErr), r.Made)
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
	c.Say("in A: CreateQueue(%q); ls %s shows %v", r.Name, r.Dir, r.ListA)
	if want := []string{strings.TrimPrefix(r.Name, "/")}; !slices.Equal(r.ListA, want) {
		return c.Failf("the mqueue mount on %s in namespace A lists %v; want %v (was it mounted by a process in A?)", r.Dir, r.ListA, want)
	}
	c.Say("in B: ls %s shows %v; mq_open(%q) gives %s", r.Dir, r.ListB, r.Name, orNil(r.ProbeBErr))
	if len(r.ListB) != 0 {
		return c.Failf("the mqueue mount on %s in namespace B lists %v; want nothing", r.Dir, r.ListB)
	}
	if r.ProbeBErrno != "ENOENT" {
		return c.Failf("mq_open(%q) in namespace B: %s; want ENOENT", r.Name, orNil(r.ProbeBErr))
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

func checkGone(c *lab.Check, r goneReport) error {
	table(c, holderColumn("H", r.H), holderColumn("F", r.Fresh))
	if err := labHostClean(c, ""); err != nil {
		return err
	}
	c.Say("a child in H's namespace made %v with key %#x and exited", r.Made, r.Key)
	if r.LookupErr != "" {
		return c.Failf("Lookup(%#x) in the namespace whose objects were made by an exited child: %s; want %v (objects outlive their maker)", r.Key, r.LookupErr, r.Made)
	}
	found, _ := parseObjects(r.Found)
	c.Say("in H (PID %d): Lookup(%#x) = %v: the objects outlived their maker", r.H.PID, r.Key, found)
	if found != r.Made {
		return c.Failf("Lookup(%#x) = %v; want %v, the objects made there", r.Key, r.Found, r.Made)
	}
	old, _ := r.H.Get(ns.IPC)
	fresh, _ := r.Fresh.Get(ns.IPC)
	c.Say("H exited, the last process of %s; %s", old, r.Gone)
	c.Say("a fresh namespace %s (the old one was %s; the kernel may reuse a freed number)", fresh, old)
	c.Say("in it: Lookup(%#x) = %v, %s; /proc/sysvipc lists %v", r.Key, r.FreshFound, orNil(r.FreshErr), r.FreshList)
	if len(r.FreshList) != 0 {
		return c.Failf("Lookup(%#x) in a fresh IPC namespace left %v behind there (%s); want it to create nothing: a lookup passes no IPC_CREAT", r.Key, r.FreshList, orNil(r.FreshErr))
	}
	if r.FreshErrno != "ENOENT" {
		return c.Failf("Lookup(%#x) in a fresh IPC namespace = %v, %s; want an error wrapping ENOENT", r.Key, r.FreshFound, orNil(r.FreshErr))
	}
	if err := confirmList(c, "F", r.Fresh.PID, nil); err != nil {
		return err
	}
	c.Check(true, "no process can reach the old objects: they ended with their namespace")
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

func orNil(err string) string {
	if err == "" {
		return "nil"
	}
	return err
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
