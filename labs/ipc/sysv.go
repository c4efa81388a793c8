//go:build linux

package ipc

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"strings"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Objects are the IDs of the three System V objects that share one key.
type Objects struct {
	Msg, Shm, Sem int // msqid, shmid, semid
}

func (o Objects) String() string {
	return fmt.Sprintf("msqid %d, shmid %d, semid %d", o.Msg, o.Shm, o.Sem)
}

// newKey returns a random System V key for one run of a step. Each step
// runs in a lab host of its own, so the key only has to be unlikely to be
// confused with another number in a message.
func newKey() int { return 0x10000 + rand.IntN(0x7fff0000) }

// MsgGet is msgget(2): the message queue with key, created when flag has
// IPC_CREAT. x/sys/unix has no wrapper for it.
func MsgGet(key, flag int) (int, error) {
	id, _, errno := unix.Syscall(unix.SYS_MSGGET, uintptr(key), uintptr(flag), 0)
	if errno != 0 {
		return -1, fmt.Errorf("msgget key %#x: %w", key, errno)
	}
	return int(id), nil
}

// SemGet is semget(2): the set of nsems semaphores with key.
func SemGet(key, nsems, flag int) (int, error) {
	id, _, errno := unix.Syscall(unix.SYS_SEMGET, uintptr(key), uintptr(nsems), uintptr(flag))
	if errno != 0 {
		return -1, fmt.Errorf("semget key %#x: %w", key, errno)
	}
	return int(id), nil
}

// ShmGet is shmget(2): the shared memory segment of size bytes with key.
func ShmGet(key, size, flag int) (int, error) {
	id, err := unix.SysvShmGet(key, size, flag)
	if err != nil {
		return -1, fmt.Errorf("shmget key %#x: %w", key, err)
	}
	return id, nil
}

// mqOpen is mq_open(2) as the kernel takes it: the name without the leading
// slash that mq_open(3) wants, and no attributes (the defaults).
func mqOpen(name string, flag int, mode uint32) (int, error) {
	p, err := unix.BytePtrFromString(strings.TrimPrefix(name, "/"))
	if err != nil {
		return -1, fmt.Errorf("mq_open %q: %w", name, err)
	}
	fd, _, errno := unix.Syscall6(unix.SYS_MQ_OPEN, uintptr(unsafe.Pointer(p)), uintptr(flag), uintptr(mode), 0, 0, 0)
	if errno != 0 {
		return -1, fmt.Errorf("mq_open %q: %w", name, errno)
	}
	return int(fd), nil
}

// sysvEntry is one line of /proc/sysvipc/{msg,shm,sem}: an object of the
// reader's IPC namespace.
type sysvEntry struct {
	Kind  string // msg, shm or sem
	Key   int
	ID    int
	Perms int // the permission bits (the perms column, in octal there)
	Size  int // the fourth column: bytes queued (msg), bytes (shm), semaphores (sem)
}

// String names the object as a failure message does: "msg key 0x1234 id 0".
func (e sysvEntry) String() string { return fmt.Sprintf("%s key %#x id %d", e.Kind, e.Key, e.ID) }

// word is the entry as the holder's sysvipc command answers it: "msg:KEY:ID".
func (e sysvEntry) word() string { return fmt.Sprintf("%s:%d:%d", e.Kind, e.Key, e.ID) }

// long is the entry with its permissions and size, as the holder's sysvlong
// command answers it: "shm:KEY:ID:600:4096".
func (e sysvEntry) long() string {
	return fmt.Sprintf("%s:%d:%d:%o:%d", e.Kind, e.Key, e.ID, e.Perms, e.Size)
}

// readSysVIPC lists the System V objects of the calling thread's IPC
// namespace, as ipcs(1) does: /proc/sysvipc shows the reader's namespace.
func readSysVIPC() ([]sysvEntry, error) {
	var all []sysvEntry
	for _, kind := range []string{"msg", "shm", "sem"} {
		path := "/proc/sysvipc/" + kind
		f, err := os.Open(path)
		if err != nil {
			return nil, err
		}
		entries, err := parseSysVIPC(kind, f)
		f.Close()
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", path, err)
		}
		all = append(all, entries...)
	}
	return all, nil
}

// parseSysVIPC parses one /proc/sysvipc file: a heading line, then one line
// per object whose first four columns are the key and the ID in decimal, the
// permissions in octal, and a size in decimal (see sysvEntry).
func parseSysVIPC(kind string, r io.Reader) ([]sysvEntry, error) {
	var out []sysvEntry
	sc := bufio.NewScanner(r)
	for first := true; sc.Scan(); first = false {
		f := strings.Fields(sc.Text())
		if first || len(f) == 0 {
			continue
		}
		if len(f) < 4 {
			return nil, fmt.Errorf("line %q: want key, id, perms and size", sc.Text())
		}
		key, err1 := strconv.ParseInt(f[0], 10, 32)
		id, err2 := strconv.Atoi(f[1])
		perms, err3 := strconv.ParseUint(f[2], 8, 32)
		size, err4 := strconv.Atoi(f[3])
		if err1 != nil || err2 != nil || err3 != nil || err4 != nil {
			return nil, fmt.Errorf("line %q: key, id, perms and size are not numbers", sc.Text())
		}
		out = append(out, sysvEntry{Kind: kind, Key: int(key), ID: id, Perms: int(perms), Size: size})
	}
	return out, sc.Err()
}

// makeOne is the lab's own creation of one object of kind ("msg", "shm" or
// "sem") with key, IPC_CREAT|more, mode 0600: a segment of one page, a set
// of one semaphore. With more IPC_EXCL the object must be new.
func makeOne(kind string, key, more int) (int, error) {
	flag := unix.IPC_CREAT | more | 0o600
	switch kind {
	case "msg":
		return MsgGet(key, flag)
	case "shm":
		return ShmGet(key, unix.Getpagesize(), flag)
	case "sem":
		return SemGet(key, 1, flag)
	}
	return -1, fmt.Errorf("no kind of System V object %q: want msg, shm or sem", kind)
}

// msgSend is the lab's own msgsnd(2) of text with message type mtype on the
// existing queue with key, without blocking.
func msgSend(key, mtype int, text string) error {
	id, err := MsgGet(key, 0)
	if err != nil {
		return err
	}
	buf := make([]byte, 8+len(text))
	binary.NativeEndian.PutUint64(buf, uint64(mtype))
	copy(buf[8:], text)
	_, _, errno := unix.Syscall6(unix.SYS_MSGSND, uintptr(id), uintptr(unsafe.Pointer(&buf[0])), uintptr(len(text)), unix.IPC_NOWAIT, 0, 0)
	if errno != 0 {
		return fmt.Errorf("msgsnd to queue %d (key %#x): %w", id, key, errno)
	}
	return nil
}

// ipcLimits are the settings of /proc/sys/kernel that the lab changes in
// an IPC namespace of its own: each is per IPC namespace, and the file
// shows the namespace of the process that opens it.
var ipcLimits = []string{"msgmnb", "msgmni"}

// setLimit writes value to /proc/sys/kernel/name, one of ipcLimits, in the
// caller's IPC namespace.
func setLimit(name string, value int) error {
	if !slices.Contains(ipcLimits, name) {
		return fmt.Errorf("limit %q: want one of %v", name, ipcLimits)
	}
	return os.WriteFile("/proc/sys/kernel/"+name, []byte(strconv.Itoa(value)+"\n"), 0)
}
