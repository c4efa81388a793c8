package spawn

import (
	"fmt"
	"os"
	"strings"
	"syscall"
)

// ExitError reports a child that did not exit with status 0.
type ExitError struct {
	What   string         // the command or entrypoint
	PID    int            // its PID in the caller's namespace
	Code   int            // exit status, or -1 when killed by a signal
	Signal syscall.Signal // the signal that killed it, or 0
}

func (e *ExitError) Error() string {
	if e.Signal != 0 {
		return fmt.Sprintf("%s (PID %d) killed by signal %d (%v)", e.What, e.PID, int(e.Signal), e.Signal)
	}
	return fmt.Sprintf("%s (PID %d) exited with status %d", e.What, e.PID, e.Code)
}

// ExitErrorOf is the *ExitError of a process that ended with a status
// other than 0, or nil (status 0, or not ended: st is nil).
func ExitErrorOf(what string, pid int, st *os.ProcessState) *ExitError {
	if st == nil {
		return nil
	}
	ws, _ := st.Sys().(syscall.WaitStatus)
	switch {
	case ws.Signaled():
		return &ExitError{What: what, PID: pid, Code: -1, Signal: ws.Signal()}
	case st.ExitCode() != 0:
		return &ExitError{What: what, PID: pid, Code: st.ExitCode()}
	}
	return nil
}

// ShellCode is the status a shell would report: the exit code, or 128+signal.
func (e *ExitError) ShellCode() int {
	if e.Signal != 0 {
		return 128 + int(e.Signal)
	}
	return e.Code
}

// SetupError reports a step of the child's setup that failed after the
// namespaces were created and before the command ran (sethostname, mount,
// setns, execve), as the child saw it.
type SetupError struct {
	What string // the command or entrypoint
	PID  int
	Msg  string // the child's report, such as "mount proc on /proc: operation not permitted"
}

func (e *SetupError) Error() string {
	return fmt.Sprintf("start %s (PID %d): %s", e.What, e.PID, strings.TrimSpace(e.Msg))
}

// PrivilegeError says that namespaces cannot be created with the caller's
// privileges, and what to do about it.
type PrivilegeError struct {
	Op     string // what was attempted: "create uts,ipc namespaces"
	Reason string // why it cannot be done here
	Fix    string // what to do
	Err    error  // the system error, if one was seen
}

func (e *PrivilegeError) Error() string {
	msg := e.Op + ": " + e.Reason
	if e.Err != nil {
		msg += " (" + e.Err.Error() + ")"
	}
	if e.Fix != "" {
		msg += "; " + e.Fix
	}
	return msg
}

func (e *PrivilegeError) Unwrap() error { return e.Err }
