package ns

import (
	"bytes"
	"errors"
	"strconv"
	"strings"
	"unsafe"

	"golang.org/x/sys/unix"
)

// List returns every namespace that some process on the machine is in, like
// lsns(8): processes that cannot be read, or exit during the scan, are passed
// over, as lsns does. Namespaces held only by a bind mount or an open file are
// not found.
//
// It is a hot path (nslab ns --all, the lab host's snapshots), written to do
// little per process: one open of /proc/PID/ns and a readlinkat(2) per kind
// (half the time of an fstatat(2), which makes the kernel find the
// namespace's nsfs inode: every namespace is on the one nsfs, whose device
// is read once).
// Only the lowest PID of each namespace has its UID and command line read,
// and each namespace its owner asked for once (docs/performance.md).
func List() ([]Info, error) {
	pids, err := procPIDs()
	if err != nil {
		return nil, &Error{Op: "list", Path: "/proc", Err: err}
	}
	var st unix.Stat_t
	if err := unix.Stat("/proc/self/ns/user", &st); err != nil {
		return nil, &Error{Op: "list", Path: "/proc/self/ns/user", Err: err}
	}
	var members []Member
	for _, pid := range pids {
		members = appendMembers(members, pid, uint64(st.Dev))
	}
	rows := Aggregate(members)
	owners := map[int]processInfo{}
	out := rows[:0]
	for _, r := range rows {
		p, ok := owners[r.PID]
		if !ok {
			p = processInfo{uid: processOwner(r.PID), cmd: command(r.PID)}
			owners[r.PID] = p
		}
		if p.uid < 0 && p.cmd == "" {
			continue // the process ended since /proc was listed (even a zombie keeps its comm): its namespace may be gone too
		}
		r.UID, r.Command = p.uid, p.cmd
		r.OwnerUID, r.Owner, r.Parent = relations(r.PID, r.Kind)
		out = append(out, r)
	}
	return out, nil
}

type processInfo struct {
	uid int
	cmd string
}

// procPIDs lists the numeric entries of /proc with getdents(2).
func procPIDs() ([]int, error) {
	fd, err := unix.Open("/proc", unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, err
	}
	defer unix.Close(fd)
	var pids []int
	buf := make([]byte, 32<<10)
	for {
		n, err := unix.Getdents(fd, buf)
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if err != nil {
			return nil, err
		}
		if n <= 0 {
			return pids, nil
		}
		for b := buf[:n]; len(b) >= 19; {
			// struct linux_dirent64: ino 8, off 8, reclen 2, type 1, name.
			reclen := int(b[16]) | int(b[17])<<8
			if reclen < 19 || reclen > len(b) {
				break
			}
			name := b[19:reclen]
			if i := bytes.IndexByte(name, 0); i >= 0 {
				name = name[:i]
			}
			if pid, ok := atoiPID(name); ok {
				pids = append(pids, pid)
			}
			b = b[reclen:]
		}
	}
}

// atoiPID parses a /proc entry name made of digits only.
func atoiPID(b []byte) (int, bool) {
	if len(b) == 0 || len(b) > 10 {
		return 0, false
	}
	n := 0
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, n > 0
}

// appendMembers adds one process's namespaces, all on the nsfs of device
// dev; an unreadable process gives none.
func appendMembers(ms []Member, pid int, dev uint64) []Member {
	var path [32]byte
	dir, ok := rawOpenDir(append(strconv.AppendInt(append(path[:0], "/proc/"...), int64(pid), 10), "/ns\x00"...))
	if !ok {
		return ms
	}
	defer unix.RawSyscall(unix.SYS_CLOSE, uintptr(dir), 0, 0)
	var link [64]byte
	for i, k := range listKinds {
		ino, ok := linkInode(rawReadlinkat(dir, kindNames0[i], link[:]))
		if !ok {
			continue
		}
		ms = append(ms, Member{ID: ID{Kind: k, Dev: dev, Inode: ino}, PID: pid, UID: -1})
	}
	return ms
}

// linkInode is the inode number of a namespace link's text, "uts:[4026531838]".
func linkInode(text []byte) (uint64, bool) {
	i := bytes.IndexByte(text, '[')
	if i < 0 || len(text) < i+3 || text[len(text)-1] != ']' {
		return 0, false
	}
	n, err := strconv.ParseUint(string(text[i+1:len(text)-1]), 10, 64)
	if err != nil || n == 0 {
		return 0, false
	}
	return n, true
}

// kindNames0 are the names of ListKinds, NUL-terminated for the kernel.
var kindNames0 = func() [][]byte {
	names := make([][]byte, len(listKinds))
	for i, k := range listKinds {
		names[i] = append([]byte(k), 0)
	}
	return names
}()

// rawReadlinkat is readlinkat(2) without the scheduler hand-off (see
// rawOpenDir): the link's text in buf, nil when it cannot be read. name
// ends with a NUL byte.
func rawReadlinkat(dir int, name, buf []byte) []byte {
	n, _, e := unix.RawSyscall6(unix.SYS_READLINKAT, uintptr(dir), uintptr(unsafe.Pointer(&name[0])), uintptr(unsafe.Pointer(&buf[0])), uintptr(len(buf)), 0, 0)
	if e != 0 || int(n) > len(buf) {
		return nil
	}
	return buf[:n]
}

// rawOpenDir is openat(2) without Go's scheduler hand-off around a
// blocking system call (unix.RawSyscall): these calls on /proc never
// block, and a listing makes over a thousand of them (with
// rawReadlinkat), each of which would otherwise wake another thread on a
// busy machine.
func rawOpenDir(path []byte) (int, bool) {
	atFDCWD := unix.AT_FDCWD // a variable: the constant -100 does not convert to uintptr
	fd, _, e := unix.RawSyscall6(unix.SYS_OPENAT, uintptr(atFDCWD), uintptr(unsafe.Pointer(&path[0])),
		unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0, 0, 0)
	return int(fd), e == 0
}

// relations returns, for pid's namespace of kind k, the UID that created
// the user namespace owning it (NS_GET_USERNS, then NS_GET_OWNER_UID; -1
// when unknown), that user namespace's inode, and for a PID or user
// namespace its parent's inode (NS_GET_PARENT); 0 for what cannot be seen.
func relations(pid int, k Kind) (ownerUID int, owner, parent uint64) {
	ownerUID = -1
	fd, err := unix.Open(Path(pid, k), unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return ownerUID, 0, 0
	}
	defer unix.Close(fd)
	if k == PID || k == User {
		parent = relatedInode(fd, nsGetParent)
	}
	userns := fd
	if o, err := unix.IoctlRetInt(fd, nsGetUserNS); err == nil {
		defer unix.Close(o)
		var st unix.Stat_t
		if unix.Fstat(o, &st) == nil {
			owner = st.Ino
		}
		if k != User {
			userns = o
		}
	} else if k != User {
		return ownerUID, 0, parent
	}
	var uid uint32
	if ioctlPtr(userns, nsGetOwnerUID, &uid) == nil {
		ownerUID = int(uid)
	}
	return ownerUID, owner, parent
}

// relatedInode is the inode of the namespace an nsfs ioctl returns, or 0.
func relatedInode(fd int, req uint) uint64 {
	o, err := unix.IoctlRetInt(fd, req)
	if err != nil {
		return 0
	}
	defer unix.Close(o)
	var st unix.Stat_t
	if unix.Fstat(o, &st) != nil {
		return 0
	}
	return st.Ino
}

// readProc reads a /proc file with raw system calls (no poller, no
// os.File), into buf first and a larger buffer when it is full; limit bounds
// what is read (0: all).
func readProc(path string, buf []byte, limit int) ([]byte, error) {
	fd, err := unix.Open(path, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, err
	}
	defer unix.Close(fd)
	n := 0
	for limit == 0 || n < limit {
		if n == len(buf) {
			buf = append(buf, make([]byte, len(buf))...)
		}
		m, err := unix.Read(fd, buf[n:])
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if err != nil {
			return nil, err
		}
		if m == 0 {
			break
		}
		n += m
	}
	return buf[:n], nil
}

// command returns a process's command line with spaces between arguments, or
// its comm name in brackets' stead for kernel threads, as ps and lsns do.
func command(pid int) string {
	var buf [512]byte
	b, err := readProc(ProcDir(pid)+"/cmdline", buf[:], 0)
	if err == nil && len(b) > 0 {
		return strings.TrimSpace(string(bytes.ReplaceAll(bytes.TrimRight(b, "\x00"), []byte{0}, []byte{' '})))
	}
	comm, _ := readProc(ProcDir(pid)+"/comm", buf[:], 0)
	return strings.TrimSpace(string(comm))
}

// processOwner returns the real UID from /proc/PID/status, or -1. The Uid
// line comes within the first kilobyte.
func processOwner(pid int) int {
	var buf [2048]byte
	b, err := readProc(ProcDir(pid)+"/status", buf[:], len(buf))
	if err != nil {
		return -1
	}
	uid, err := ParseStatusUID(bytes.NewReader(b))
	if err != nil {
		return -1
	}
	return uid
}
