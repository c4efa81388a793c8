//go:build linux

package ipc

import (
	"context"
	"encoding/binary"
	"fmt"
	"strings"
	"unsafe"

	"github.com/nslab/nslab/pkg/ns"
	"github.com/nslab/nslab/pkg/spawn"
	"golang.org/x/sys/unix"
)

// MaxText is the longest message text Send and Receive carry.
const MaxText = 256

// StartInNewIPC is step 01: start args as a child in a new IPC namespace and
// nothing else new, held before it runs (the caller releases it).
func StartInNewIPC(ctx context.Context, args []string) (*spawn.Child, error) {
	// BEGIN SOLUTION
	return spawn.Start(ctx, spawn.Config{New: []ns.Kind{ns.IPC}, Args: args})
	// END SOLUTION
}

// CreateObjects is step 02: in the caller's IPC namespace, create a message
// queue, a shared memory segment (one page) and a set of one semaphore, all
// with key, readable and writable by their owner only. Fail with an error
// wrapping EEXIST if any of them exists already (IPC_EXCL): the step must
// make new objects, not find old ones.
func CreateObjects(key int) (Objects, error) {
	// BEGIN SOLUTION
	const flag = unix.IPC_CREAT | unix.IPC_EXCL | 0o600
	var o Objects
	var err error
	if o.Msg, err = MsgGet(key, flag); err != nil {
		return o, err
	}
	if o.Shm, err = ShmGet(key, unix.Getpagesize(), flag); err != nil {
		return o, err
	}
	o.Sem, err = SemGet(key, 1, flag)
	return o, err
	// END SOLUTION
}

// Send is step 03: put text on the message queue with key in the caller's
// IPC namespace, creating the queue if there is none yet, without blocking
// (msgsnd(2) with IPC_NOWAIT).
func Send(key int, text string) error {
	// BEGIN SOLUTION
	if len(text) > MaxText {
		return fmt.Errorf("send %d bytes: longer than %d", len(text), MaxText)
	}
	id, err := MsgGet(key, unix.IPC_CREAT|0o600)
	if err != nil {
		return err
	}
	// struct msgbuf { long mtype; char mtext[]; }: mtype must be positive.
	buf := make([]byte, 8+len(text))
	binary.NativeEndian.PutUint64(buf, 1)
	copy(buf[8:], text)
	_, _, errno := unix.Syscall6(unix.SYS_MSGSND, uintptr(id), uintptr(unsafe.Pointer(&buf[0])), uintptr(len(text)), unix.IPC_NOWAIT, 0, 0)
	if errno != 0 {
		return fmt.Errorf("msgsnd to queue %d (key %#x): %w", id, key, errno)
	}
	return nil
	// END SOLUTION
}

// Receive is step 03: take the first message off the queue with key in the
// caller's IPC namespace, creating the queue if there is none yet, without
// blocking: an empty queue gives an error wrapping ENOMSG (msgrcv(2) with IPC_NOWAIT).
func Receive(key int) (string, error) {
	// BEGIN SOLUTION
	id, err := MsgGet(key, unix.IPC_CREAT|0o600)
	if err != nil {
		return "", err
	}
	buf := make([]byte, 8+MaxText)
	n, _, errno := unix.Syscall6(unix.SYS_MSGRCV, uintptr(id), uintptr(unsafe.Pointer(&buf[0])), MaxText, 0, unix.IPC_NOWAIT, 0)
	if errno != 0 {
		return "", fmt.Errorf("msgrcv from queue %d (key %#x): %w", id, key, errno)
	}
	return string(buf[8 : 8+n]), nil
	// END SOLUTION
}

// JoinIPC is step 04: run fn with the calling thread in the IPC namespace of
// process pid (setns(2) on a locked OS thread), then put the thread back in
// its own IPC namespace. The rest of the process stays where it was.
func JoinIPC(pid int, fn func() error) error {
	// BEGIN SOLUTION
	return ns.Do(pid, []ns.Kind{ns.IPC}, fn)
	// END SOLUTION
}

// MountMqueue is step 05: mount a new instance of the mqueue file system on
// dir. It shows the POSIX message queues of the IPC namespace of the process
// that mounts it. Call it only in a new mount namespace, never on the host.
func MountMqueue(dir string) error {
	// BEGIN SOLUTION
	if err := unix.Mount("mqueue", dir, "mqueue", unix.MS_NOSUID|unix.MS_NODEV|unix.MS_NOEXEC, ""); err != nil {
		return fmt.Errorf("mount mqueue on %s: %w", dir, err)
	}
	return nil
	// END SOLUTION
}

// CreateQueue is step 05: create the POSIX message queue name ("/nslab-1")
// in the caller's IPC namespace with mq_open(2) (O_CREAT|O_EXCL|O_RDWR, mode
// 0600, default attributes), and return its descriptor. The queue outlives
// the descriptor: it stays until mq_unlink(2) or the end of its namespace.
func CreateQueue(name string) (int, error) {
	// BEGIN SOLUTION
	// mq_open(3) wants "/name"; the system call itself takes "name".
	p, err := unix.BytePtrFromString(strings.TrimPrefix(name, "/"))
	if err != nil {
		return -1, fmt.Errorf("mq_open %q: %w", name, err)
	}
	flag := unix.O_CREAT | unix.O_EXCL | unix.O_RDWR | unix.O_CLOEXEC
	fd, _, errno := unix.Syscall6(unix.SYS_MQ_OPEN, uintptr(unsafe.Pointer(p)), uintptr(flag), 0o600, 0, 0, 0)
	if errno != 0 {
		return -1, fmt.Errorf("mq_open %q: %w", name, errno)
	}
	return int(fd), nil
	// END SOLUTION
}

// Lookup is step 06: find the message queue, the shared memory segment and
// the semaphore set with key in the caller's IPC namespace, creating
// nothing. A missing object gives an error wrapping ENOENT.
func Lookup(key int) (Objects, error) {
	// BEGIN SOLUTION
	var o Objects
	var err error
	if o.Msg, err = MsgGet(key, 0); err != nil {
		return o, err
	}
	if o.Shm, err = ShmGet(key, 0, 0); err != nil {
		return o, err
	}
	o.Sem, err = SemGet(key, 0, 0)
	return o, err
	// END SOLUTION
}
