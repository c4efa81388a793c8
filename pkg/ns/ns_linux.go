package ns

import (
	"errors"
	"os"
	"strconv"

	"golang.org/x/sys/unix"
)

// ProcDir returns the /proc directory of pid: /proc/self for Self.
func ProcDir(pid int) string {
	if pid == Self {
		return "/proc/self"
	}
	return "/proc/" + strconv.Itoa(pid)
}

// Path returns the nsfs link of kind k for pid: /proc/PID/ns/KIND.
func Path(pid int, k Kind) string { return ProcDir(pid) + "/ns/" + string(k) }

// Supported reports whether the running kernel has namespaces of kind k.
func Supported(k Kind) bool {
	_, err := os.Lstat(Path(Self, k))
	return err == nil
}

// Get returns the namespace of kind k that process pid is in.
func Get(pid int, k Kind) (ID, error) {
	if err := checkProcess(pid); err != nil {
		return ID{}, err
	}
	return stat(pid, k)
}

// GetPath returns the identity of the namespace file at path (a /proc/PID/ns
// link or a bind mount of one), taking its kind from the file itself.
func GetPath(path string) (ID, error) {
	h, err := OpenPath(path)
	if err != nil {
		return ID{}, err
	}
	defer h.Close()
	return h.ID(), nil
}

// Of returns every namespace of process pid (or Self). Kinds the kernel lacks
// are listed in Set.Absent, not reported as errors.
func Of(pid int) (Set, error) {
	if err := checkProcess(pid); err != nil {
		return Set{}, err
	}
	return ofDir(pid, ProcDir(pid))
}

// OfDir is Of for the process whose /proc directory is dir, such as
// /proc/4242/root/proc/7: process 7 as the procfs that process 4242 sees
// shows it (another PID namespace's numbering). Set.PID is 0 (unknown here).
func OfDir(dir string) (Set, error) {
	var st unix.Stat_t
	if err := unix.Stat(dir, &st); err != nil {
		return Set{}, classify("read", 0, dir, err, ErrNoProcess)
	}
	return ofDir(0, dir)
}

func ofDir(pid int, dir string) (Set, error) {
	s := Set{PID: pid, IDs: make(map[Kind]ID, len(kinds))}
	for _, k := range kinds {
		id, err := statPath(pid, dir+"/ns/"+string(k), k)
		switch {
		case errors.Is(err, ErrAbsent):
			s.Absent = append(s.Absent, k)
		case err != nil:
			return Set{}, err
		default:
			s.IDs[k] = id
		}
	}
	return s, nil
}

// checkProcess tells a PID that names no process apart from one that cannot be read.
func checkProcess(pid int) error {
	if pid < 0 {
		return &Error{Op: "read", PID: pid, Path: ProcDir(pid), Err: ErrNoProcess}
	}
	var st unix.Stat_t
	if err := unix.Stat(ProcDir(pid), &st); err != nil {
		return classify("read", pid, ProcDir(pid), err, ErrNoProcess)
	}
	return nil
}

// stat reads one namespace of a process known to have existed a moment ago.
func stat(pid int, k Kind) (ID, error) { return statPath(pid, Path(pid, k), k) }

func statPath(pid int, path string, k Kind) (ID, error) {
	var st unix.Stat_t
	if err := unix.Stat(path, &st); err != nil {
		if errors.Is(err, unix.ENOENT) && !Supported(k) {
			return ID{}, &Error{Op: "read", PID: pid, Path: path, Err: ErrAbsent, Sys: err}
		}
		return ID{}, classify("read", pid, path, err, ErrExited)
	}
	return ID{Kind: k, Dev: uint64(st.Dev), Inode: st.Ino}, nil
}

// classify turns a system error on a /proc path into an Error; gone is the
// sentinel for a missing file (ErrNoProcess before the read, ErrExited during it).
func classify(op string, pid int, path string, err, gone error) error {
	switch {
	case errors.Is(err, unix.ENOENT), errors.Is(err, unix.ESRCH):
		return &Error{Op: op, PID: pid, Path: path, Err: gone, Sys: err}
	case errors.Is(err, unix.EACCES), errors.Is(err, unix.EPERM):
		return &Error{Op: op, PID: pid, Path: path, Err: ErrPermission, Sys: err}
	}
	return &Error{Op: op, PID: pid, Path: path, Err: err}
}

// TimeOffsets reads the clock offsets of the time namespace that process
// pid's children are born in (its time_for_children), from /proc/PID/timens_offsets.
func TimeOffsets(pid int) (Offsets, error) {
	path := ProcDir(pid) + "/timens_offsets"
	b, err := os.ReadFile(path)
	if err != nil {
		return Offsets{}, classify("read", pid, path, err, ErrExited)
	}
	return ParseOffsets(string(b))
}
