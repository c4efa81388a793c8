package ns

import (
	"errors"
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// The nsfs ioctl requests of ioctl_ns(2), from <linux/nsfs.h>.
const (
	nsGetUserNS   = 0xb701 // _IO(0xb7, 0x1)
	nsGetParent   = 0xb702 // _IO(0xb7, 0x2)
	nsGetNSType   = 0xb703 // _IO(0xb7, 0x3)
	nsGetOwnerUID = 0xb704 // _IO(0xb7, 0x4), with a uid_t * argument
)

// Handle is an open namespace file: a /proc/PID/ns link, a bind mount of one,
// or a namespace returned by an nsfs ioctl. Holding it open keeps the
// namespace alive. Close it when done.
type Handle struct {
	f  *os.File
	id ID
}

// Open opens the namespace of kind k of process pid.
func Open(pid int, k Kind) (*Handle, error) {
	if err := checkProcess(pid); err != nil {
		return nil, err
	}
	path := Path(pid, k)
	f, err := os.Open(path)
	if err != nil {
		if errors.Is(err, unix.ENOENT) && !Supported(k) {
			return nil, &Error{Op: "open", PID: pid, Path: path, Err: ErrAbsent, Sys: err}
		}
		return nil, classify("open", pid, path, err, ErrExited)
	}
	return newHandle(f, k)
}

// OpenPath opens the namespace file at path; its kind comes from NS_GET_NSTYPE.
func OpenPath(path string) (*Handle, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, &Error{Op: "open", Path: path, Err: err}
	}
	return newHandle(f, "")
}

func newHandle(f *os.File, k Kind) (*Handle, error) {
	h := &Handle{f: f}
	var st unix.Stat_t
	if err := unix.Fstat(int(f.Fd()), &st); err != nil {
		f.Close()
		return nil, &Error{Op: "stat", Path: f.Name(), Err: err}
	}
	if k == "" {
		t, err := h.Type()
		if err != nil {
			f.Close()
			return nil, err
		}
		k = t
	}
	h.id = ID{Kind: k, Dev: uint64(st.Dev), Inode: st.Ino}
	return h, nil
}

// ID returns the identity of the namespace.
func (h *Handle) ID() ID { return h.id }

// Fd returns the file descriptor, for setns(2).
func (h *Handle) Fd() int { return int(h.f.Fd()) }

// Close closes the file; the namespace lives on while any process or file holds it.
func (h *Handle) Close() error { return h.f.Close() }

func (h *Handle) String() string { return h.id.String() }

// Type returns the kind of the namespace (NS_GET_NSTYPE).
func (h *Handle) Type() (Kind, error) {
	flag, err := unix.IoctlRetInt(int(h.f.Fd()), nsGetNSType)
	if err != nil {
		return "", h.ioctlError("NS_GET_NSTYPE", err)
	}
	k, ok := KindOfCloneFlag(uintptr(flag))
	if !ok {
		return "", &Error{Op: "ioctl NS_GET_NSTYPE", Path: h.f.Name(), Err: fmt.Errorf("unknown namespace type %#x", flag)}
	}
	return k, nil
}

// UserNS returns the user namespace that owns this namespace (NS_GET_USERNS).
// For a user namespace, that is its parent.
func (h *Handle) UserNS() (*Handle, error) { return h.related(nsGetUserNS, "NS_GET_USERNS", User) }

// Parent returns the parent of a PID or user namespace (NS_GET_PARENT).
// Other kinds give ErrNotHierarchical; the top of the caller's scope gives ErrOutsideScope.
func (h *Handle) Parent() (*Handle, error) {
	return h.related(nsGetParent, "NS_GET_PARENT", h.id.Kind.Base())
}

func (h *Handle) related(req uint, name string, k Kind) (*Handle, error) {
	fd, err := unix.IoctlRetInt(int(h.f.Fd()), req)
	if err != nil {
		return nil, h.ioctlError(name, err)
	}
	return newHandle(os.NewFile(uintptr(fd), fmt.Sprintf("%s of %s", name, h.id)), k)
}

// OwnerUID returns the UID, in the caller's user namespace, of the process
// that created this user namespace (NS_GET_OWNER_UID).
func (h *Handle) OwnerUID() (int, error) {
	var uid uint32
	err := ioctlPtr(int(h.f.Fd()), nsGetOwnerUID, &uid)
	if err != nil {
		return -1, h.ioctlError("NS_GET_OWNER_UID", err)
	}
	return int(uid), nil
}

func (h *Handle) ioctlError(name string, err error) error {
	e := &Error{Op: "ioctl " + name, Path: h.f.Name(), Err: err}
	switch {
	case errors.Is(err, unix.EPERM):
		e.Err, e.Sys = ErrOutsideScope, err
	case errors.Is(err, unix.EINVAL) && name == "NS_GET_PARENT":
		e.Err, e.Sys = ErrNotHierarchical, err
	case errors.Is(err, unix.EINVAL) && name == "NS_GET_OWNER_UID":
		e.Err, e.Sys = ErrNotUserNS, err
	}
	return e
}
