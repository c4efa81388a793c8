package ns

import (
	"errors"
	"fmt"
)

// Sentinel errors; test with errors.Is. Each [Error] wraps one of them.
var (
	// ErrNoProcess: the PID names no process (it never existed or was reaped before the read began).
	ErrNoProcess = errors.New("no such process")
	// ErrExited: the process was there when the read began and was gone (or a zombie) before it ended.
	ErrExited = errors.New("process exited while its namespaces were being read")
	// ErrPermission: the kernel refused to show the process's namespaces to the caller.
	ErrPermission = errors.New("permission denied (reading another user's namespaces needs root or CAP_SYS_PTRACE; PID 1 may be hidden even from root inside a container)")
	// ErrAbsent: the running kernel has no namespaces of this kind.
	ErrAbsent = errors.New("kind not supported by the running kernel")
	// ErrNotHierarchical: NS_GET_PARENT asked of a kind that has no parent (only pid and user namespaces nest).
	ErrNotHierarchical = errors.New("namespaces of this kind have no parent (only pid and user namespaces nest)")
	// ErrOutsideScope: the parent or owner lies outside the caller's own user or PID namespace.
	ErrOutsideScope = errors.New("the parent is outside the caller's namespace scope")
	// ErrNotUserNS: NS_GET_OWNER_UID asked of a namespace that is not a user namespace.
	ErrNotUserNS = errors.New("not a user namespace (only user namespaces have an owner UID)")
	// ErrUnsupported: the operation does not exist on this operating system.
	ErrUnsupported = errors.New("namespaces exist only on Linux")
)

// Error records what was attempted on which process and path, and why it failed.
type Error struct {
	Op   string // what was attempted: "read", "open", "ioctl NS_GET_PARENT", "setns"
	PID  int    // the process, or Self (0)
	Path string // the file concerned, such as /proc/4242/ns/uts
	Err  error  // one of the sentinel errors above, or the system's error
	Sys  error  // the underlying system error, when Err is a sentinel
}

func (e *Error) Error() string {
	msg := fmt.Sprintf("%s %s: %v", e.Op, e.Path, e.Err)
	if errors.Is(e.Err, ErrNoProcess) {
		msg += fmt.Sprintf(" (PID %d does not exist)", e.PID)
	}
	return msg
}

// Unwrap returns the sentinel and the system error, so that errors.Is matches either.
func (e *Error) Unwrap() []error {
	if e.Sys == nil {
		return []error{e.Err}
	}
	return []error{e.Err, e.Sys}
}
