//go:build linux && (amd64 || arm64 || riscv64 || loong64 || ppc64le)

package cli

import (
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/nslab/nslab/pkg/ns"
	"github.com/nslab/nslab/pkg/spawn"
	"golang.org/x/sys/unix"
)

// forked is a child started by startForked: its PID, and how to wait for it.
type forked struct {
	pid     int
	copies  sync.WaitGroup // the goroutines copying to and from stdio that are not files
	readEnd []*os.File     // their read ends, closed if the copies outlive the child
}

// startForked starts cfg's command (found at path) through the raw child of fork_linux.go,
// under an init of its own when init is set. It returns errNoClone3 when the
// kernel has no clone3(2) (before Linux 5.3): then execute uses pkg/spawn.
func startForked(cfg spawn.Config, path string, init bool) (*forked, error) {
	kinds, mapRoot, err := forkKinds(cfg)
	if err != nil {
		return nil, err
	}
	env := cfg.Env
	if env == nil {
		env = os.Environ()
	}
	argv, err := syscall.SlicePtrFromStrings(cfg.Args)
	if err != nil {
		return nil, usageErrorf("run: %v", err)
	}
	envp, err := syscall.SlicePtrFromStrings(env)
	if err != nil {
		return nil, usageErrorf("run: the environment: %v", err)
	}
	a := newChildArgs(cfg, kinds, path, init, argv, envp)

	f := &forked{}
	var toClose []int // the child's ends, closed in the parent once it is cloned
	defer func() {
		for _, fd := range toClose {
			unix.Close(fd)
		}
	}()
	defer a.closeParentEnds()
	if err := a.pipes(slices.Contains(kinds, ns.User), &toClose); err != nil {
		return nil, err
	}
	if err := f.stdio(a, cfg, &toClose); err != nil {
		return nil, err
	}

	pid, errno := cloneChild(a)
	runtime.KeepAlive(argv)
	runtime.KeepAlive(envp)
	if errno != 0 {
		f.abandon()
		if errno == syscall.ENOSYS {
			return nil, errNoClone3
		}
		return nil, cloneError(kinds, cfg.Args[0], errno)
	}
	f.pid = pid
	for _, fd := range toClose {
		unix.Close(fd)
	}
	toClose = nil
	if err := f.release(a, mapRoot, cfg); err != nil {
		return nil, err
	}
	return f, nil
}

// newChildArgs prepares what the child of cfg needs, but for its files.
func newChildArgs(cfg spawn.Config, kinds []ns.Kind, path string, init bool, argv, envp []*byte) *childArgs {
	a := &childArgs{
		newPID: slices.Contains(kinds, ns.PID), errR: -1, errW: -1, syncR: -1, syncW: -1, ppid: os.Getpid(),
		private: slices.Contains(kinds, ns.Mnt), mountProc: cfg.MountProc, init: init,
		path: bytePtr(path), argv: &argv[0], envp: &envp[0],
		none: bytePtr("none"), slash: bytePtr("/"), proc: bytePtr("proc"), procDir: bytePtr("/proc"),
	}
	a.clone = cloneArgs{flags: uint64(ns.CloneFlags(kinds...)), exitSignal: uint64(syscall.SIGCHLD)}
	if cfg.Hostname != "" {
		a.hostname, a.hostLen = bytePtr(cfg.Hostname), len(cfg.Hostname)
	}
	if cfg.Domainname != "" {
		a.domainname, a.domainLen = bytePtr(cfg.Domainname), len(cfg.Domainname)
	}
	for _, s := range forwarded {
		a.initMask |= 1 << (uint(s.(syscall.Signal)) - 1)
	}
	a.initMask |= 1 << (uint(syscall.SIGCHLD) - 1)
	return a
}

// pipes makes the error pipe and, with a user namespace, the sync pipe. The
// child's ends are added to toClose; the parent's are closed by
// closeParentEnds.
func (a *childArgs) pipes(user bool, toClose *[]int) error {
	var err error
	if a.errR, a.errW, err = pipe(); err != nil {
		return err
	}
	a.errW = above4(a.errW)
	*toClose = append(*toClose, a.errW)
	if user {
		if a.syncR, a.syncW, err = pipe(); err != nil {
			return err
		}
		a.syncR = above4(a.syncR)
		*toClose = append(*toClose, a.syncR)
	}
	return nil
}

// closeParentEnds closes the parent's ends of the pipes that are still open.
func (a *childArgs) closeParentEnds() {
	if a.syncW >= 0 {
		unix.Close(a.syncW)
	}
	if a.errR >= 0 {
		unix.Close(a.errR)
	}
}

// release lets the cloned child go on: it writes the ID maps (with a user
// namespace), then reads the child's report, which is empty (EOF) once the
// command is executed, or the stage that failed and its errno.
func (f *forked) release(a *childArgs, mapRoot bool, cfg spawn.Config) error {
	if a.syncW >= 0 {
		if err := writeMaps(f.pid, mapRoot); err != nil {
			unix.Kill(f.pid, syscall.SIGKILL)
			f.wait()
			return fmt.Errorf("run: %w", err)
		}
		unix.Close(a.syncW)
		a.syncW = -1
	}
	if msg := readAll(a.errR); len(msg) == 8 {
		code := f.wait()
		return &exitError{Code: code, Err: childError(int(msg[0]), syscall.Errno(uint32(msg[4])|uint32(msg[5])<<8|uint32(msg[6])<<16|uint32(msg[7])<<24), cfg)}
	}
	return nil
}

var errNoClone3 = errors.New("no clone3")

// cloneChild clones the child with every signal blocked on this thread, so
// that none reaches the child before it has put back the default handlers.
func cloneChild(a *childArgs) (int, syscall.Errno) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	// No syscall.ForkLock: every descriptor here is close-on-exec, and the
	// child closes all but its own before it waits for anything, so
	// clones from several goroutines may run at once.
	var all, old unix.Sigset_t
	for i := range all.Val {
		all.Val[i] = ^uint64(0)
	}
	if err := unix.PthreadSigmask(unix.SIG_SETMASK, &all, &old); err != nil {
		return 0, err.(syscall.Errno)
	}
	a.oldMask = old.Val[0]
	pid, errno := forkChild(a)
	unix.PthreadSigmask(unix.SIG_SETMASK, &old, nil)
	return int(pid), errno
}

// forkKinds returns the kinds to create, adding a user namespace that maps
// the caller to root when the caller is not root (as spawn.Start does), and
// whether to map the caller to root.
func forkKinds(cfg spawn.Config) ([]ns.Kind, bool, error) {
	var kinds []ns.Kind
	for _, k := range ns.Kinds() {
		if k == k.Base() && slices.ContainsFunc(cfg.New, func(x ns.Kind) bool { return x.Base() == k }) {
			kinds = append(kinds, k)
		}
	}
	if len(kinds) > 0 && !slices.Contains(kinds, ns.User) && os.Geteuid() != 0 && !cfg.NoAutoUser {
		if err := spawn.CheckUserNS(); err != nil {
			pe := err.(*spawn.PrivilegeError)
			pe.Op = fmt.Sprintf("create %s namespaces as UID %d without root", kindNames(kinds), os.Geteuid())
			return nil, false, pe
		}
		return append(kinds, ns.User), true, nil
	}
	return kinds, cfg.MapRoot, nil
}

// writeMaps writes the child's ID maps, as the syscall package does for
// SysProcAttr.UidMappings: uid_map, then setgroups (deny, unless root whose
// own namespace allows it), then gid_map. Without mapRoot (--map-root, or
// a user namespace added for a caller without root) it stays unmapped.
func writeMaps(pid int, mapRoot bool) error {
	if !mapRoot {
		return nil
	}
	dir := "/proc/" + strconv.Itoa(pid) + "/"
	if err := writeProc(dir+"uid_map", "0 "+strconv.Itoa(os.Geteuid())+" 1\n"); err != nil {
		return err
	}
	var b [16]byte
	n := 0
	if fd, err := unix.Open("/proc/self/setgroups", unix.O_RDONLY|unix.O_CLOEXEC, 0); err == nil {
		n, _ = unix.Read(fd, b[:])
		unix.Close(fd)
	}
	if os.Geteuid() != 0 || strings.TrimSpace(string(b[:max(n, 0)])) == "deny" {
		if err := writeProc(dir+"setgroups", "deny"); err != nil {
			return err
		}
	}
	return writeProc(dir+"gid_map", "0 "+strconv.Itoa(os.Getegid())+" 1\n")
}

// writeProc writes a /proc file in one write(2), without os.File and its poller.
func writeProc(path, text string) error {
	fd, err := unix.Open(path, unix.O_WRONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return &os.PathError{Op: "open", Path: path, Err: err}
	}
	defer unix.Close(fd)
	if _, err := unix.Write(fd, []byte(text)); err != nil {
		return &os.PathError{Op: "write", Path: path, Err: err}
	}
	return nil
}

// stdio gives the child cfg's standard files: a file as it is, nil as
// /dev/null, anything else through a pipe and a goroutine copying.
func (f *forked) stdio(a *childArgs, cfg spawn.Config, toClose *[]int) error {
	streams := []any{cfg.Stdin, cfg.Stdout, cfg.Stderr}
	for i, s := range streams {
		if i == 2 && cfg.Stderr != nil && sameWriter(cfg.Stderr, cfg.Stdout) {
			a.stdio[2] = a.stdio[1]
			continue
		}
		fd, err := f.stream(i, s, toClose)
		if err != nil {
			return fmt.Errorf("run: %w", err)
		}
		if fd != i && fd < 3 { // keep it clear of the slots it is moved to
			hi, err := unix.FcntlInt(uintptr(fd), unix.F_DUPFD_CLOEXEC, 3)
			if err != nil {
				return fmt.Errorf("run: %w", err)
			}
			*toClose = append(*toClose, hi)
			fd = hi
		}
		a.stdio[i] = fd
	}
	return nil
}

// sameWriter reports whether stdout and stderr are one writer, which then
// gets one pipe, as os/exec does (two copies would race on it).
func sameWriter(a, b io.Writer) (same bool) {
	defer func() { recover() }() // a writer whose type is not comparable
	return a == b
}

func (f *forked) stream(i int, s any, toClose *[]int) (int, error) {
	if file, ok := s.(*os.File); ok && file != nil {
		return int(file.Fd()), nil
	}
	if s == nil {
		flag := unix.O_WRONLY
		if i == 0 {
			flag = unix.O_RDONLY
		}
		fd, err := unix.Open(os.DevNull, flag|unix.O_CLOEXEC, 0)
		if err == nil {
			*toClose = append(*toClose, fd)
		}
		return fd, err
	}
	r, w, err := os.Pipe()
	if err != nil {
		return 0, err
	}
	if i == 0 {
		fd := dupClose(r)
		*toClose = append(*toClose, fd)
		go func() { io.Copy(w, s.(io.Reader)); w.Close() }()
		return fd, nil
	}
	fd := dupClose(w)
	*toClose = append(*toClose, fd)
	f.readEnd = append(f.readEnd, r)
	f.copies.Add(1)
	go func() { defer f.copies.Done(); io.Copy(s.(io.Writer), r) }()
	return fd, nil
}

// dupClose returns a plain descriptor for the child's end of a pipe, which
// the parent closes itself after the clone (os.File would close it again).
func dupClose(f *os.File) int {
	fd, err := unix.FcntlInt(f.Fd(), unix.F_DUPFD_CLOEXEC, 3)
	f.Close()
	if err != nil {
		return -1
	}
	return fd
}

// abandon ends the copies of a child that was never started.
func (f *forked) abandon() {
	for _, r := range f.readEnd {
		r.Close()
	}
}

// wait reaps the child and returns the status a shell would report. The
// copies of its output get a second to finish after it (a background
// process may hold the pipe; the init's death ends those with --pid).
func (f *forked) wait() int {
	var ws unix.WaitStatus
	for {
		_, err := unix.Wait4(f.pid, &ws, 0, nil)
		if !errors.Is(err, unix.EINTR) {
			break
		}
	}
	if len(f.readEnd) > 0 {
		done := make(chan struct{})
		go func() { f.copies.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(time.Second):
			f.abandon()
			<-done
		}
	}
	if ws.Signaled() {
		return 128 + int(ws.Signal())
	}
	return ws.ExitStatus()
}

// above4 moves fd to 5 or more, where the child's moves of fds to 0…4 do not reach it.
func above4(fd int) int {
	if fd > 4 {
		return fd
	}
	hi, err := unix.FcntlInt(uintptr(fd), unix.F_DUPFD_CLOEXEC, 5)
	if err != nil {
		return fd
	}
	unix.Close(fd)
	return hi
}

func pipe() (r, w int, err error) {
	var p [2]int
	if err := unix.Pipe2(p[:], unix.O_CLOEXEC); err != nil {
		return -1, -1, fmt.Errorf("run: make pipe: %w", err)
	}
	return p[0], p[1], nil
}

func bytePtr(s string) *byte {
	p, err := syscall.BytePtrFromString(s)
	if err != nil { // a NUL byte: the kernel would read a shorter string
		p, _ = syscall.BytePtrFromString(s[:strings.IndexByte(s, 0)])
	}
	return p
}

// readAll reads fd until EOF: the child's error report, at most 8 bytes.
func readAll(fd int) []byte {
	var b [8]byte
	n := 0
	for n < len(b) {
		m, err := unix.Read(fd, b[n:])
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if err != nil || m <= 0 {
			break
		}
		n += m
	}
	return b[:n]
}

// childError says which stage of the child failed.
func childError(stage int, errno syscall.Errno, cfg spawn.Config) error {
	what := map[int]string{
		stageSync:       "wait for the ID maps",
		stageDeathSig:   "set the parent-death signal",
		stagePrivate:    "make / private (mount --make-rprivate /)",
		stageProc:       "mount proc on /proc",
		stageHostname:   fmt.Sprintf("sethostname %q", cfg.Hostname),
		stageDomainname: fmt.Sprintf("setdomainname %q", cfg.Domainname),
		stageStdio:      "set up standard input and output",
		stageFork:       "fork the command under the init",
		stageExec:       "cannot execute " + cfg.Args[0],
	}[stage]
	if what == "" {
		what = "stage " + strconv.Itoa(stage)
	}
	return fmt.Errorf("run: %s: %w", what, errno)
}

// cloneError explains a failed clone: most often a lack of privilege.
func cloneError(kinds []ns.Kind, what string, errno syscall.Errno) error {
	op := fmt.Sprintf("create %s namespaces for %s", kindNames(kinds), what)
	switch errno {
	case unix.EPERM, unix.EACCES:
		if os.Geteuid() != 0 {
			return &spawn.PrivilegeError{Op: op, Reason: fmt.Sprintf("UID %d may not", os.Geteuid()), Fix: "run as root, or drop --user=false so that nslab adds a user namespace mapping you to root (see docs/troubleshooting.md#eperm)", Err: errno}
		}
		return &spawn.PrivilegeError{Op: op, Reason: "refused even to root (inside a container without CAP_SYS_ADMIN?)", Fix: "see docs/troubleshooting.md#eperm", Err: errno}
	case unix.ENOSPC, unix.EUSERS:
		return &spawn.PrivilegeError{Op: op, Reason: "the limit on nested or total namespaces is reached (/proc/sys/user/max_*_namespaces)", Err: errno}
	case unix.EINVAL:
		return fmt.Errorf("%s: the kernel rejects this combination of clone flags: %w", op, errno)
	}
	return fmt.Errorf("%s: %w", op, errno)
}

func kindNames(kinds []ns.Kind) string {
	s := make([]string, len(kinds))
	for i, k := range kinds {
		s[i] = string(k)
	}
	if len(s) == 0 {
		return "no new"
	}
	return strings.Join(s, ",")
}
