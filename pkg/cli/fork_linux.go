//go:build linux && (amd64 || arm64 || riscv64 || loong64 || ppc64le)

package cli

import (
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// The child of nslab run, between clone and execve, without a second Go
// start-up: a copy of nslab's memory running one function of raw system
// calls, as syscall.forkAndExecInChild does. It waits for the ID maps, makes
// its mounts private, mounts /proc, names the host, and then either executes
// the command (no init) or becomes the init of the new PID namespace: it
// forks the command and, until the command ends, passes signals on to it and
// reaps every child re-parented to it (docs/performance.md).
//
// Rules for the code of this file that runs in the child (forkChild and what
// it calls): //go:nosplit (no stack growth, no preemption check), no
// allocation, no pointer writes to the heap, no call but to nosplit
// functions, every address converted to a number there and not before (the
// parent's stack may move until the clone). Go's runtime is not running in
// the child: its other threads do not exist there, and its signal handlers
// are replaced by the default ones before anything is unblocked.

// forkSupported is true where the raw child is built; elsewhere nslab run uses pkg/spawn.
const forkSupported = true

// Stages of the child, reported to the parent with the error number.
const (
	stageSync = iota + 1
	stageDeathSig
	stagePrivate
	stageProc
	stageHostname
	stageDomainname
	stageStdio
	stageFork
	stageExec
)

// childArgs is everything the child needs, prepared by the parent. Go
// pointers, not numbers: the parent's stack may move until the clone.
type childArgs struct {
	clone      cloneArgs
	newPID     bool
	syncR      int // read end (fd 4 in the child): EOF once the parent wrote the ID maps; -1 without a user namespace
	syncW      int // the parent's end, closed in the child
	errR       int // the parent's end, closed in the child
	errW       int // write end, close-on-exec: a failed stage and its errno (fd 3 in the child)
	stdio      [3]int
	ppid       int
	private    bool
	mountProc  bool
	hostname   *byte
	hostLen    int
	domainname *byte
	domainLen  int
	path       *byte
	argv       **byte
	envp       **byte
	init       bool
	oldMask    uint64 // the parent thread's mask, restored before execve
	initMask   uint64 // the signals the init waits for (forwarded ones and SIGCHLD)
	none       *byte  // "none", "/", "proc", "/proc"
	slash      *byte
	proc       *byte
	procDir    *byte

	// scratch space of the child
	sa      [4]uint64
	siginfo [16]uint64
	status  uint32
	msg     [8]byte
	buf     [1]byte
	errFD   int
}

// cloneArgs is struct clone_args of clone3(2), the size of version 0.
type cloneArgs struct {
	flags, pidfd, childTID, parentTID, exitSignal, stack, stackSize, tls uint64
}

// forkChild clones the child. In the parent it returns the child's PID.
//
//go:nosplit
//go:norace
func forkChild(a *childArgs) (uintptr, syscall.Errno) {
	r1, _, e := syscall.RawSyscall6(unix.SYS_CLONE3, uintptr(unsafe.Pointer(&a.clone)), unsafe.Sizeof(a.clone), 0, 0, 0, 0)
	if e != 0 || r1 != 0 {
		return r1, e
	}
	childMain(a)
	return 0, 0
}

// childMain is the child's whole life after the clone, in stages. Unlike
// Go's forkAndExecInChild1, which stays one frame because its child may
// share the parent's memory and stack (CLONE_VM|CLONE_VFORK), this child is
// a copy (clone3 without CLONE_VM) and may call further functions, so long
// as they follow the rules above: the linker checks that the chain of
// nosplit frames fits in the stack's reserve.
//
//go:nosplit
//go:norace
func childMain(a *childArgs) {
	childFiles(a)
	childSync(a)
	childSetup(a)
	childDefaultSignals(a)
	if !a.init {
		childExec(a)
	}
	syscall.RawSyscall6(unix.SYS_RT_SIGPROCMASK, unix.SIG_SETMASK, uintptr(unsafe.Pointer(&a.initMask)), 0, 8, 0, 0)
	a.clone = cloneArgs{exitSignal: uint64(syscall.SIGCHLD)}
	cmd, _, e := syscall.RawSyscall6(unix.SYS_CLONE3, uintptr(unsafe.Pointer(&a.clone)), unsafe.Sizeof(a.clone), 0, 0, 0, 0)
	if e != 0 {
		childFail(a, stageFork, e)
	}
	if cmd == 0 {
		childExec(a)
	}
	rawClose(3) // the command holds it until its execve: then the parent reads EOF
	initLoop(a, cmd)
}

// childFiles closes the parent's ends of the pipes and moves the child's
// files into place.
//
//go:nosplit
//go:norace
func childFiles(a *childArgs) {
	a.errFD = a.errW
	if a.syncW >= 0 {
		rawClose(a.syncW)
	}
	rawClose(a.errR)
	// Standard files first (their sources are 3 or more), then the error
	// pipe to fd 3 and the sync pipe to fd 4 (both 5 or more before), and
	// nothing else of nslab's stays open, even while the child waits.
	for i := 0; i < 3; i++ {
		if a.stdio[i] != i {
			if _, _, e := syscall.RawSyscall6(unix.SYS_DUP3, uintptr(a.stdio[i]), uintptr(i), 0, 0, 0, 0); e != 0 {
				childFail(a, stageStdio, e)
			}
		}
	}
	if _, _, e := syscall.RawSyscall6(unix.SYS_DUP3, uintptr(a.errW), 3, unix.O_CLOEXEC, 0, 0, 0); e != 0 {
		childFail(a, stageStdio, e)
	}
	a.errFD = 3
	if a.syncR >= 0 {
		if _, _, e := syscall.RawSyscall6(unix.SYS_DUP3, uintptr(a.syncR), 4, unix.O_CLOEXEC, 0, 0, 0); e != 0 {
			childFail(a, stageStdio, e)
		}
	}
	syscall.RawSyscall6(unix.SYS_CLOSE_RANGE, 5, ^uintptr(0), 0, 0, 0, 0) // a kernel without it (before 5.9) leaves them open
}

// childSync waits for the ID maps (EOF on fd 4), asks for SIGKILL when nslab
// dies, and exits if nslab is gone already.
//
//go:nosplit
//go:norace
func childSync(a *childArgs) {
	if a.syncR >= 0 {
		for {
			_, _, e := syscall.RawSyscall6(unix.SYS_READ, 4, uintptr(unsafe.Pointer(&a.buf[0])), 1, 0, 0, 0)
			if e == syscall.EINTR {
				continue
			}
			if e != 0 {
				childFail(a, stageSync, e)
			}
			break
		}
		rawClose(4)
	}
	if _, _, e := syscall.RawSyscall6(unix.SYS_PRCTL, unix.PR_SET_PDEATHSIG, uintptr(syscall.SIGKILL), 0, 0, 0, 0); e != 0 {
		childFail(a, stageDeathSig, e)
	}
	if !a.newPID { // in a new PID namespace the parent is not visible: getppid says 0
		if ppid, _, _ := syscall.RawSyscall6(unix.SYS_GETPPID, 0, 0, 0, 0, 0, 0); int(ppid) != a.ppid {
			childExit(exitNotStarted) // nslab died before the child was ready
		}
	}
}

// childSetup makes the mounts private, mounts /proc and names the host.
//
//go:nosplit
//go:norace
func childSetup(a *childArgs) {
	if a.private {
		if _, _, e := syscall.RawSyscall6(unix.SYS_MOUNT, uintptr(unsafe.Pointer(a.none)), uintptr(unsafe.Pointer(a.slash)), 0, syscall.MS_REC|syscall.MS_PRIVATE, 0, 0); e != 0 {
			childFail(a, stagePrivate, e)
		}
	}
	if a.mountProc {
		if _, _, e := syscall.RawSyscall6(unix.SYS_MOUNT, uintptr(unsafe.Pointer(a.proc)), uintptr(unsafe.Pointer(a.procDir)), uintptr(unsafe.Pointer(a.proc)), syscall.MS_NOSUID|syscall.MS_NODEV|syscall.MS_NOEXEC, 0, 0); e != 0 {
			childFail(a, stageProc, e)
		}
	}
	if a.hostLen > 0 {
		if _, _, e := syscall.RawSyscall6(unix.SYS_SETHOSTNAME, uintptr(unsafe.Pointer(a.hostname)), uintptr(a.hostLen), 0, 0, 0, 0); e != 0 {
			childFail(a, stageHostname, e)
		}
	}
	if a.domainLen > 0 {
		if _, _, e := syscall.RawSyscall6(unix.SYS_SETDOMAINNAME, uintptr(unsafe.Pointer(a.domainname)), uintptr(a.domainLen), 0, 0, 0, 0); e != 0 {
			childFail(a, stageDomainname, e)
		}
	}
}

// childDefaultSignals puts every handler of nslab's runtime back to the
// default; what nslab inherited as ignored stays ignored, as across execve.
//
//go:nosplit
//go:norace
func childDefaultSignals(a *childArgs) {
	for sig := uintptr(1); sig < 65; sig++ {
		if sig == uintptr(syscall.SIGKILL) || sig == uintptr(syscall.SIGSTOP) {
			continue
		}
		a.sa = [4]uint64{}
		if _, _, e := syscall.RawSyscall6(unix.SYS_RT_SIGACTION, sig, 0, uintptr(unsafe.Pointer(&a.sa[0])), 8, 0, 0); e != 0 || a.sa[0] <= 1 {
			continue // SIG_DFL (0) or SIG_IGN (1) already
		}
		a.sa = [4]uint64{}
		syscall.RawSyscall6(unix.SYS_RT_SIGACTION, sig, uintptr(unsafe.Pointer(&a.sa[0])), 0, 8, 0, 0)
	}
}

// initLoop is the init's life: it waits for the forwarded signals and
// SIGCHLD (blocked, so that even as PID 1 it receives them), passes the
// first on to the command, reaps every child on the second, and exits with
// the command's status once the command has ended.
//
//go:nosplit
//go:norace
func initLoop(a *childArgs, cmd uintptr) {
	for {
		sig, _, e := syscall.RawSyscall6(unix.SYS_RT_SIGTIMEDWAIT, uintptr(unsafe.Pointer(&a.initMask)), uintptr(unsafe.Pointer(&a.siginfo[0])), 0, 8, 0, 0)
		if e != 0 {
			continue // EINTR
		}
		if sig != uintptr(syscall.SIGCHLD) {
			syscall.RawSyscall6(unix.SYS_KILL, cmd, sig, 0, 0, 0, 0) // gone already: nothing to pass on
			continue
		}
		for {
			pid, _, e := syscall.RawSyscall6(unix.SYS_WAIT4, ^uintptr(0), uintptr(unsafe.Pointer(&a.status)), unix.WNOHANG, 0, 0, 0)
			if e == syscall.EINTR {
				continue
			}
			if e != 0 || pid == 0 {
				break
			}
			if pid == cmd {
				if sig := a.status & 0x7f; sig != 0 {
					childExit(128 + int(sig))
				}
				childExit(int(a.status>>8) & 0xff)
			}
		}
	}
}

// childExec restores the signal mask nslab's thread had and executes the command.
//
//go:nosplit
//go:norace
func childExec(a *childArgs) {
	syscall.RawSyscall6(unix.SYS_RT_SIGPROCMASK, unix.SIG_SETMASK, uintptr(unsafe.Pointer(&a.oldMask)), 0, 8, 0, 0)
	_, _, e := syscall.RawSyscall6(unix.SYS_EXECVE, uintptr(unsafe.Pointer(a.path)), uintptr(unsafe.Pointer(a.argv)), uintptr(unsafe.Pointer(a.envp)), 0, 0, 0)
	childFail(a, stageExec, e)
}

// childFail reports the stage and errno to the parent and exits: 127 when
// the command was not found, 126 when it could not be executed, 125 when the
// setup failed.
//
//go:nosplit
//go:norace
func childFail(a *childArgs, stage int, e syscall.Errno) {
	a.msg[0] = byte(stage)
	a.msg[4], a.msg[5], a.msg[6], a.msg[7] = byte(e), byte(e>>8), byte(e>>16), byte(e>>24)
	syscall.RawSyscall6(unix.SYS_WRITE, uintptr(a.errFD), uintptr(unsafe.Pointer(&a.msg[0])), 8, 0, 0, 0)
	switch {
	case stage == stageExec && e == syscall.ENOENT:
		childExit(exitNotFound)
	case stage == stageExec:
		childExit(exitCannotExec)
	}
	childExit(exitNotStarted)
}

//go:nosplit
//go:norace
func childExit(code int) {
	for {
		syscall.RawSyscall6(unix.SYS_EXIT_GROUP, uintptr(code), 0, 0, 0, 0, 0)
	}
}

//go:nosplit
//go:norace
func rawClose(fd int) {
	syscall.RawSyscall6(unix.SYS_CLOSE, uintptr(fd), 0, 0, 0, 0, 0)
}
