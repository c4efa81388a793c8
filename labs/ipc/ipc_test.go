//go:build linux

package ipc_test

import (
	"errors"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/nslab/nslab/labs/ipc"
	"github.com/nslab/nslab/pkg/lab/labtest"
	"github.com/nslab/nslab/pkg/ns"
	"golang.org/x/sys/unix"
)

func TestMain(m *testing.M) { labtest.Main(m) }

func TestIPC(t *testing.T) {
	labtest.Need(t, ns.IPC)
	labtest.Steps(t, ipc.Lab, testNewNamespace, testInvisible, testSameKey, testJoin, testPosixMqueue, testGone)
}

// holder starts a holder in new namespaces of kinds, stopped when t ends.
func holder(t *testing.T, kinds ...ns.Kind) *ipc.Holder {
	t.Helper()
	h, err := ipc.StartHolder(t.Context(), kinds...)
	if err != nil {
		t.Fatalf("start a holder in new %v namespaces: %v", kinds, err)
	}
	t.Cleanup(h.Stop)
	return h
}

// do runs a command in h that the lab itself provides; its failure is not the learner's.
func do(t *testing.T, h *ipc.Holder, format string, args ...any) []string {
	t.Helper()
	words, err := h.Do(format, args...)
	if err != nil {
		t.Fatal(err)
	}
	return words
}

// notOnHost checks that the host's IPC namespace has no message queue with key.
func notOnHost(t *testing.T, id string, key int) {
	t.Helper()
	if _, err := ipc.MsgGet(key, 0); !errors.Is(err, unix.ENOENT) {
		labtest.Failf(t, ipc.Lab, id, "msgget(%#x, 0) in the host's namespace: %v; want ENOENT (objects belong in the lab's namespaces only)", key, err)
	}
}

func testNewNamespace(t *testing.T) {
	t.Parallel()
	child, err := ipc.StartInNewIPC(t.Context(), []string{"true"})
	if err != nil {
		labtest.Failf(t, ipc.Lab, "01", "start a child in a new IPC namespace: %v", err)
	}
	defer child.Stop()
	labtest.NewKindsOnly(t, ipc.Lab, "01", child.PID(), ns.IPC)
}

func testInvisible(t *testing.T) {
	t.Parallel()
	a, b := holder(t, ns.IPC), holder(t, ns.IPC)
	key := ipc.NewKey()
	words, err := a.Do("create %d", key)
	if err != nil {
		labtest.Failf(t, ipc.Lab, "02", "CreateObjects(%#x) in a new IPC namespace: %v; want three new objects", key, err)
	}
	objs, err := ipc.ParseObjects(words)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{fmt.Sprintf("msg:%d:%d", key, objs.Msg), fmt.Sprintf("shm:%d:%d", key, objs.Shm), fmt.Sprintf("sem:%d:%d", key, objs.Sem)}
	if got := do(t, a, "sysvipc"); !slices.Equal(got, want) {
		labtest.Failf(t, ipc.Lab, "02", "/proc/sysvipc in namespace A lists %v after CreateObjects returned %v; want %v (one object of each kind, key %#x)", got, objs, want, key)
	}
	if got := do(t, b, "sysvipc"); len(got) != 0 {
		labtest.Failf(t, ipc.Lab, "02", "/proc/sysvipc in namespace B lists %v; want nothing (A's objects must be invisible there)", got)
	}
	wantProbe := []string{"msg=ENOENT", "shm=ENOENT", "sem=ENOENT"}
	if got := do(t, b, "probe %d", key); !slices.Equal(got, wantProbe) {
		labtest.Failf(t, ipc.Lab, "02", "in namespace B, msgget/shmget/semget(%#x, 0) gave %v; want %v", key, got, wantProbe)
	}
	notOnHost(t, "02", key)
}

func testSameKey(t *testing.T) {
	t.Parallel()
	a, b := holder(t, ns.IPC), holder(t, ns.IPC)
	key := ipc.NewKey()
	text := "hello-" + strconv.Itoa(key)
	if _, err := a.Do("send %d %s", key, text); err != nil {
		labtest.Failf(t, ipc.Lab, "03", "Send(%#x, %q) in namespace A: %v; want the message queued", key, text, err)
	}
	got, err := b.Do("recv %d", key)
	if !errors.Is(err, unix.ENOMSG) {
		labtest.Failf(t, ipc.Lab, "03", "Receive(%#x) in namespace B = %q, %v; want an error wrapping ENOMSG (B's queue with that key is another, empty queue)", key, got, err)
	}
	got, err = a.Do("recv %d", key)
	if err != nil || !slices.Equal(got, []string{text}) {
		labtest.Failf(t, ipc.Lab, "03", "Receive(%#x) in namespace A = %q, %v; want %q, the message sent there", key, got, err, text)
	}
	notOnHost(t, "03", key)
}

func testJoin(t *testing.T) {
	t.Parallel()
	a := holder(t, ns.IPC)
	key := ipc.NewKey()
	made := do(t, a, "make %d", key)
	got, err := a.Do("joinfrom %d", key)
	if err != nil {
		labtest.Failf(t, ipc.Lab, "04", "a process in another IPC namespace calling JoinIPC(%d, …): %v; want it to enter A's namespace", a.PID(), err)
	}
	if len(got) != 2 || got[0] != "ENOENT" {
		t.Fatalf("before joining, msgget(%#x, 0) in the joiner's own namespace: %v; want ENOENT", key, got)
	}
	if got[1] != made[0] {
		labtest.Failf(t, ipc.Lab, "04", "inside JoinIPC(%d, fn), msgget(%#x, 0) gave msqid %s; want %s, A's queue (did fn run after setns(2) with CLONE_NEWIPC?)", a.PID(), key, got[1], made[0])
	}
	notOnHost(t, "04", key)
}

func testPosixMqueue(t *testing.T) {
	labtest.Need(t, ns.IPC, ns.Mnt)
	t.Parallel()
	dir := t.TempDir()
	a, b := holder(t, ns.IPC, ns.Mnt), holder(t, ns.IPC, ns.Mnt)
	for _, h := range []*ipc.Holder{a, b} {
		if _, err := h.Do("mqmount %s", dir); err != nil {
			labtest.Failf(t, ipc.Lab, "05", "MountMqueue(%s) in a new mount and IPC namespace: %v; want an mqueue mount", dir, err)
		}
	}
	name := "/nslab-" + strconv.Itoa(ipc.NewKey())
	if _, err := a.Do("mqopen %s", name); err != nil {
		labtest.Failf(t, ipc.Lab, "05", "CreateQueue(%q) in namespace A: %v; want a new queue", name, err)
	}
	if _, err := a.Do("mqprobe %s", name); err != nil {
		labtest.Failf(t, ipc.Lab, "05", "mq_open(%q) in namespace A after CreateQueue: %v; want the queue there", name, err)
	}
	if got := do(t, a, "mqls %s", dir); !slices.Equal(got, []string{name[1:]}) {
		labtest.Failf(t, ipc.Lab, "05", "the mqueue mount on %s in namespace A lists %v; want [%s] (was it mounted by a process in A?)", dir, got, name[1:])
	}
	if got := do(t, b, "mqls %s", dir); len(got) != 0 {
		labtest.Failf(t, ipc.Lab, "05", "the mqueue mount on %s in namespace B lists %v; want nothing", dir, got)
	}
	if _, err := b.Do("mqprobe %s", name); !errors.Is(err, unix.ENOENT) {
		labtest.Failf(t, ipc.Lab, "05", "mq_open(%q) in namespace B: %v; want ENOENT", name, err)
	}
	if entries, err := os.ReadDir(dir); err != nil || len(entries) != 0 {
		labtest.Failf(t, ipc.Lab, "05", "%s seen from the host holds %d entries (%v); want an empty directory: the mounts belong to the children's mount namespaces", dir, len(entries), err)
	}
}

func testGone(t *testing.T) {
	t.Parallel()
	h := holder(t, ns.IPC)
	key := ipc.NewKey()
	made, err := ipc.ParseObjects(do(t, h, "spawnmake %d", key))
	if err != nil {
		t.Fatal(err)
	}
	words, err := h.Do("lookup %d", key)
	if err != nil {
		labtest.Failf(t, ipc.Lab, "06", "Lookup(%#x) in the namespace whose objects were made by an exited child: %v; want %v (objects outlive their maker)", key, err, made)
	}
	if found, _ := ipc.ParseObjects(words); found != made {
		labtest.Failf(t, ipc.Lab, "06", "Lookup(%#x) = %v; want %v, the objects made there", key, found, made)
	}
	pid := h.PID()
	if err := h.Close(); err != nil {
		t.Fatalf("stop the holder: %v", err)
	}
	if _, err := ns.Get(pid, ns.IPC); !errors.Is(err, ns.ErrNoProcess) && !errors.Is(err, ns.ErrExited) {
		t.Fatalf("read %s after the holder exited: %v; want it gone", ns.Path(pid, ns.IPC), err)
	}
	f := holder(t, ns.IPC)
	if got, err := f.Do("lookup %d", key); !errors.Is(err, unix.ENOENT) {
		labtest.Failf(t, ipc.Lab, "06", "Lookup(%#x) in a fresh IPC namespace = %v, %v; want an error wrapping ENOENT", key, got, err)
	}
	if got := do(t, f, "sysvipc"); len(got) != 0 {
		labtest.Failf(t, ipc.Lab, "06", "/proc/sysvipc in a fresh IPC namespace lists %v; want nothing", got)
	}
}

func TestParseSysVIPC(t *testing.T) {
	const head = "       key      msqid perms      cbytes       qnum lspid lrpid   uid   gid  cuid  cgid      stime      rtime      ctime\n"
	tests := []struct {
		name, text string
		want       []ipc.Entry
		bad        bool
	}{
		{name: "empty", text: head},
		{name: "nothing", text: ""},
		{name: "two", text: head + "    305419896          0   600           0          0     0     0     0     0     0     0          0          0 1700000000\n" +
			"   -559038737          1   600           0          0     0     0     0     0     0     0          0          0 1700000000\n",
			want: []ipc.Entry{{Kind: "msg", Key: 0x12345678, ID: 0}, {Kind: "msg", Key: -559038737, ID: 1}}},
		{name: "short", text: head + "12\n", bad: true},
		{name: "not a number", text: head + "key id\n", bad: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ipc.ParseSysVIPC("msg", strings.NewReader(tt.text))
			if (err != nil) != tt.bad || !slices.Equal(got, tt.want) {
				t.Errorf("ParseSysVIPC(%q) = %v, %v; want %v, error %v", tt.text, got, err, tt.want, tt.bad)
			}
		})
	}
}
