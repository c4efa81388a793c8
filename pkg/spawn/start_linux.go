package spawn

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/nslab/nslab/pkg/ns"
	"golang.org/x/sys/unix"
)

// envSpec carries the shim's instructions from parent to child.
const envSpec = "NSLAB_SPAWN_SPEC"

// Child is a started child. It is held before running anything until Release.
type Child struct {
	cmd      *exec.Cmd
	what     string
	goPipe   *os.File // parent's write end: one byte releases the child
	status   *os.File // parent's read end: EOF once the command runs, a message if setup failed
	cancel   context.CancelFunc
	mu       sync.Mutex
	released bool
	waitOnce sync.Once
	waitErr  error
}

// Start creates the child in its namespaces and holds it: it has run nothing
// of the command yet. Call Release to let it run, and Wait or Stop to reap
// it. When ctx is done, the child is sent StopSignal, then SIGKILL after StopDelay.
func Start(ctx context.Context, cfg Config) (*Child, error) {
	cfg, err := prepare(cfg)
	if err != nil {
		return nil, err
	}
	sp, err := buildSpec(cfg)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(ctx)
	c := &Child{what: sp.describe(), cancel: cancel}
	if err := c.start(ctx, cfg, sp); err != nil {
		cancel()
		return nil, err
	}
	return c, nil
}

// Run starts the child, releases it and waits for it.
func Run(ctx context.Context, cfg Config) error {
	cfg.NoHold = true
	c, err := Start(ctx, cfg)
	if err != nil {
		return err
	}
	if err := c.Release(); err != nil {
		c.Stop()
		return err
	}
	return c.Wait()
}

// prepare validates cfg and fills in the user namespace an unprivileged caller needs.
func prepare(cfg Config) (Config, error) {
	if err := cfg.validate(); err != nil {
		return cfg, err
	}
	if cfg.MountProc && !cfg.has(ns.Mnt) {
		cfg.New = append(cfg.New, ns.Mnt)
	}
	needsUser := len(cfg.kinds()) > 0 && !cfg.has(ns.User) && os.Geteuid() != 0
	if needsUser && !cfg.NoAutoUser {
		if err := CheckUserNS(); err != nil {
			pe := err.(*PrivilegeError)
			pe.Op = fmt.Sprintf("create %s namespaces as UID %d without root", kindList(cfg.kinds()), os.Geteuid())
			return cfg, pe
		}
		cfg.New = append(cfg.New, ns.User)
		cfg.MapRoot = cfg.UIDMap == nil && cfg.GIDMap == nil
	}
	if cfg.MapRoot && cfg.UIDMap == nil && cfg.GIDMap == nil {
		cfg.UIDMap = []IDMap{{ContainerID: 0, HostID: os.Geteuid(), Size: 1}}
		cfg.GIDMap = []IDMap{{ContainerID: 0, HostID: os.Getegid(), Size: 1}}
	}
	return cfg, nil
}

func buildSpec(cfg Config) (spec, error) {
	sp := spec{
		Entrypoint: cfg.Entrypoint, Args: cfg.Args, Hostname: cfg.Hostname, Domainname: cfg.Domainname,
		Private: cfg.has(ns.Mnt), MountProc: cfg.MountProc, Join: cfg.Join,
	}
	if cfg.Entrypoint == "" {
		path, err := exec.LookPath(cfg.Args[0])
		if err != nil {
			return sp, fmt.Errorf("start %s: %w", cfg.Args[0], unwrapExecError(err))
		}
		sp.Path = path
	}
	return sp, nil
}

func unwrapExecError(err error) error {
	var ee *exec.Error
	if errors.As(err, &ee) {
		if errors.Is(ee.Err, exec.ErrNotFound) {
			return errors.New("command not found in $PATH")
		}
		return ee.Err
	}
	return err
}

func (sp spec) describe() string {
	if sp.Entrypoint != "" {
		return "entrypoint " + sp.Entrypoint
	}
	return sp.Args[0]
}

func (sp spec) encode() string {
	b, err := json.Marshal(sp.wire())
	if err != nil {
		panic("spawn: encode a spec: " + err.Error()) // bytes, bools and ints always encode
	}
	return envSpec + "=" + base64.StdEncoding.EncodeToString(b)
}

func (c *Child) start(ctx context.Context, cfg Config, sp spec) error {
	if sp.direct(cfg.NoHold) {
		return c.startDirect(ctx, cfg, sp)
	}
	goR, goW, err := os.Pipe()
	if err != nil {
		return fmt.Errorf("start %s: make pipe: %w", c.what, err)
	}
	statusR, statusW, err := os.Pipe()
	if err != nil {
		goR.Close()
		goW.Close()
		return fmt.Errorf("start %s: make pipe: %w", c.what, err)
	}
	c.cmd = command(ctx, cfg, sp, goR, statusW)
	cg, err := intoCgroup(c.cmd, cfg.CgroupDir)
	if err == nil {
		err = c.cmd.Start()
	}
	cg.Close()
	goR.Close()
	statusW.Close()
	if err != nil {
		goW.Close()
		statusR.Close()
		return startError(cfg, c.what, err)
	}
	c.goPipe, c.status = goW, statusR
	if !cfg.NoHold {
		return nil
	}
	if err := c.Release(); err != nil {
		c.Wait() // reap the child that could not set itself up
		return err
	}
	return nil
}

// intoCgroup makes cmd start in the cgroup v2 directory dir, when there is one;
// the caller closes the returned file after Start.
func intoCgroup(cmd *exec.Cmd, dir string) (*os.File, error) {
	if dir == "" {
		return nil, nil
	}
	f, err := os.OpenFile(dir, os.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("open cgroup %s: %w", dir, err)
	}
	cmd.SysProcAttr.UseCgroupFD, cmd.SysProcAttr.CgroupFD = true, int(f.Fd())
	return f, nil
}

// startDirect executes the command itself in its new namespaces. The
// syscall package makes a new mount namespace private when it is asked for
// through Unshareflags, which it applies after the user namespace's maps.
func (c *Child) startDirect(ctx context.Context, cfg Config, sp spec) error {
	cmd := newCommand(ctx, cfg, sp.Path)
	cmd.Args = sp.Args
	cmd.Env = withoutSpec(cmd.Env)
	attr := cmd.SysProcAttr
	attr.AmbientCaps = nil // no shim: the command itself gets what unshare(1)'s would
	if cfg.has(ns.Mnt) {
		attr.Cloneflags &^= ns.Mnt.CloneFlag()
		attr.Unshareflags |= ns.Mnt.CloneFlag()
	}
	c.cmd, c.released = cmd, true
	cg, err := intoCgroup(cmd, cfg.CgroupDir)
	if err != nil {
		return err
	}
	defer cg.Close()
	if err := cmd.Start(); err != nil {
		return startError(cfg, c.what, err)
	}
	return nil
}

// command is the shim: this binary again, told what to do through the environment.
func command(ctx context.Context, cfg Config, sp spec, goR, statusW *os.File) *exec.Cmd {
	cmd := newCommand(ctx, cfg, "/proc/self/exe")
	cmd.Args = []string{sp.describe()}
	cmd.Env = append(withoutSpec(cmd.Env), sp.encode())
	cmd.ExtraFiles = append([]*os.File{goR, statusW}, cfg.ExtraFiles...) // fds 3 and 4 in the shim, then the caller's
	return cmd
}

// EntrypointCommand returns a command that runs the registered entrypoint
// name with args in a new process of this binary, in the caller's
// namespaces, at once and without the shim's pipes: its ExtraFiles are fds 3,
// 4, … of the entrypoint. It is for a caller that waits for its children
// itself (an init reaping with wait4(-1)), where Start's Child would race it
// for the exit status. Set the command's stdio, files and attributes, then Start it.
func EntrypointCommand(name string, args []string) (*exec.Cmd, error) {
	if _, ok := lookup(name); !ok {
		return nil, fmt.Errorf("spawn: no entrypoint %q registered in this binary (registered: %v)", name, Entrypoints())
	}
	sp := spec{Entrypoint: name, Args: args, NoHold: true, Bare: true}
	cmd := exec.Command("/proc/self/exe")
	cmd.Args = []string{sp.describe()}
	cmd.Env = append(withoutSpec(os.Environ()), sp.encode())
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	return cmd, nil
}

// newCommand prepares path with cfg's stdio, environment, namespaces and stop policy.
func newCommand(ctx context.Context, cfg Config, path string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, path)
	cmd.Env = cfg.Env
	if cmd.Env == nil {
		cmd.Env = os.Environ()
	}
	cmd.Stdin, cmd.Stdout, cmd.Stderr, cmd.Dir = cfg.Stdin, cfg.Stdout, cfg.Stderr, cfg.Dir
	cmd.SysProcAttr = sysProcAttr(cfg)
	stop := cfg.StopSignal
	if stop == 0 {
		stop = syscall.SIGTERM
	}
	cmd.Cancel = func() error { return cmd.Process.Signal(stop) }
	cmd.WaitDelay = cfg.StopDelay
	if cmd.WaitDelay == 0 {
		cmd.WaitDelay = time.Second
	}
	return cmd
}

func sysProcAttr(cfg Config) *syscall.SysProcAttr {
	attr := &syscall.SysProcAttr{
		Cloneflags:  ns.CloneFlags(cfg.kinds()...),
		Pdeathsig:   cfg.Pdeathsig,
		UidMappings: sysMaps(cfg.UIDMap),
		GidMappings: sysMaps(cfg.GIDMap),
		// Only a privileged writer may leave setgroups allowed, and only when
		// its own user namespace allows it: a child inherits "deny", and
		// writing "allow" then fails with EPERM (user_namespaces(7)).
		GidMappingsEnableSetgroups: os.Geteuid() == 0 && readSysctl("/proc/self/setgroups") != "deny",
	}
	if attr.Pdeathsig == 0 {
		attr.Pdeathsig = syscall.SIGKILL
	}
	if cfg.has(ns.User) {
		// The shim is executed after clone. In a user namespace without maps
		// its UID is not 0 there, so execve would drop the capabilities that
		// clone gave it, and it could no longer mount or set names. As
		// ambient capabilities they survive that execve; the shim clears them
		// before it executes the command, which then gets what unshare(1)'s
		// command would get.
		attr.AmbientCaps = allCaps()
		// A map that gives root inside to another ID than the caller's
		// leaves the caller's own IDs unmapped: the child would keep them
		// (seen inside as 65534, and still the owner of the caller's files
		// outside). It becomes root of its namespace before it runs anything.
		if root, ok := hostIDOf(cfg.UIDMap, 0); ok && root != os.Geteuid() {
			attr.Credential = &syscall.Credential{Uid: 0, Gid: 0}
		}
	}
	return attr
}

// hostIDOf returns the ID outside that id inside maps to.
func hostIDOf(m []IDMap, id int) (int, bool) {
	for _, x := range m {
		if id >= x.ContainerID && id < x.ContainerID+x.Size {
			return x.HostID + id - x.ContainerID, true
		}
	}
	return 0, false
}

// allCaps lists every capability the running kernel knows.
func allCaps() []uintptr {
	last, err := strconv.Atoi(readSysctl("/proc/sys/kernel/cap_last_cap"))
	if err != nil {
		last = unix.CAP_LAST_CAP
	}
	caps := make([]uintptr, last+1)
	for i := range caps {
		caps[i] = uintptr(i)
	}
	return caps
}

func sysMaps(m []IDMap) []syscall.SysProcIDMap {
	if len(m) == 0 {
		return nil // nil, not empty: syscall writes no map at all
	}
	out := make([]syscall.SysProcIDMap, len(m))
	for i, x := range m {
		out[i] = syscall.SysProcIDMap{ContainerID: x.ContainerID, HostID: x.HostID, Size: x.Size}
	}
	return out
}

func withoutSpec(env []string) []string {
	out := make([]string, 0, len(env)+1)
	for _, kv := range env {
		if !strings.HasPrefix(kv, envSpec+"=") {
			out = append(out, kv)
		}
	}
	return out
}

// startError explains a failed clone: most often a lack of privilege.
func startError(cfg Config, what string, err error) error {
	op := fmt.Sprintf("create %s namespaces for %s", kindList(cfg.kinds()), what)
	switch {
	case errors.Is(err, unix.EPERM), errors.Is(err, unix.EACCES):
		if os.Geteuid() != 0 {
			return &PrivilegeError{Op: op, Reason: fmt.Sprintf("UID %d may not", os.Geteuid()), Fix: "run as root, or let spawn add a user namespace (see docs/troubleshooting.md#eperm)", Err: err}
		}
		return &PrivilegeError{Op: op, Reason: "refused even to root (inside a container without CAP_SYS_ADMIN?)", Fix: "see docs/troubleshooting.md#eperm", Err: err}
	case errors.Is(err, unix.ENOSPC), errors.Is(err, unix.EUSERS):
		return &PrivilegeError{Op: op, Reason: "the limit on nested or total namespaces is reached (/proc/sys/user/max_*_namespaces)", Err: err}
	case errors.Is(err, unix.EINVAL):
		return fmt.Errorf("%s: the kernel rejects this combination of clone flags: %w", op, err)
	}
	return fmt.Errorf("%s: %w", op, err)
}

func kindList(kinds []ns.Kind) string {
	if len(kinds) == 0 {
		return "no new"
	}
	s := make([]string, len(kinds))
	for i, k := range kinds {
		s[i] = string(k)
	}
	return strings.Join(s, ",")
}

// Released reports whether the child was let run (by Release, NoHold, Wait or Stop).
func (c *Child) Released() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.released
}

// Held checks what a function that must return a held child (started by
// Start, not yet released) returned: its error, wrapped with fn, the
// function's name; no child and no error; or a child already released.
func Held(fn string, c *Child, err error) error {
	switch {
	case err != nil:
		return fmt.Errorf("%s: %w", fn, err)
	case c == nil:
		return fmt.Errorf("%s returned no child and no error; want the *spawn.Child of spawn.Start", fn)
	case c.Released():
		return fmt.Errorf("%s returned child PID %d already released; want it held, so that the caller can look at it before it runs (spawn.Start holds it; do not call Release, Run or Wait)", fn, c.PID())
	}
	return nil
}

// HeldPID is Held for the run half of a step: a child that fn returned,
// even beside an error, goes to keep (pass the step's cleanup.Add: it is
// stopped after the check), and its PID is returned once Held accepts it.
func HeldPID(fn string, c *Child, err error, keep func(func())) (int, error) {
	if c != nil {
		keep(func() { c.Stop() })
	}
	if err := Held(fn, c, err); err != nil {
		return 0, err
	}
	return c.PID(), nil
}

// PID returns the child's PID in the caller's PID namespace.
func (c *Child) PID() int { return c.cmd.Process.Pid }

// Namespaces reads the child's namespace IDs.
func (c *Child) Namespaces() (ns.Set, error) { return ns.Of(c.PID()) }

// Release lets the held child set itself up and run. It returns once the
// command has been executed (or the entrypoint called), or with a
// *SetupError saying what the child could not do.
func (c *Child) Release() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.released {
		return nil
	}
	c.released = true
	_, werr := c.goPipe.Write([]byte{1})
	c.goPipe.Close()
	msg, rerr := io.ReadAll(c.status)
	c.status.Close()
	switch {
	case len(msg) > 0:
		return &SetupError{What: c.what, PID: c.PID(), Msg: string(msg)}
	case werr != nil:
		return fmt.Errorf("release %s (PID %d): the child is gone: %w", c.what, c.PID(), werr)
	case rerr != nil:
		return fmt.Errorf("release %s (PID %d): read its status: %w", c.what, c.PID(), rerr)
	}
	return nil
}

// Wait waits for the child to exit and reaps it. It returns nil for status 0,
// an *ExitError otherwise. Waiting for a child never released abandons it:
// the shim exits with status 125 without running anything.
func (c *Child) Wait() error {
	c.waitOnce.Do(func() {
		c.abandonIfHeld()
		err := c.cmd.Wait()
		c.cancel()
		c.waitErr = c.exitError(err)
	})
	return c.waitErr
}

// abandonIfHeld closes the pipes of a child never released: the shim then exits without running anything.
func (c *Child) abandonIfHeld() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.released {
		c.released = true
		c.goPipe.Close()
		c.status.Close()
	}
}

func (c *Child) exitError(err error) error {
	if c.cmd.ProcessState == nil {
		return err
	}
	if ee := ExitErrorOf(c.what, c.PID(), c.cmd.ProcessState); ee != nil {
		return ee
	}
	// Status 0: a context cancelled as the child ended on its own, or pipes
	// closed late (ErrWaitDelay), do not make it a failure.
	if err != nil && !errors.Is(err, exec.ErrWaitDelay) && !errors.Is(err, context.Canceled) && !errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	return nil
}

// ExitCode returns the child's exit status after Wait: -1 when killed by a signal or still running.
func (c *Child) ExitCode() int {
	if c.cmd.ProcessState == nil {
		return -1
	}
	return c.cmd.ProcessState.ExitCode()
}

// Stop asks the child to stop (StopSignal), kills it after StopDelay, and
// reaps it. Killing the init of a new PID namespace kills every process in
// it. A child that ends because of Stop is not an error.
func (c *Child) Stop() error {
	c.abandonIfHeld()
	c.cancel()
	err := c.Wait()
	var ee *ExitError
	if errors.As(err, &ee) {
		return nil
	}
	return err
}

// ReapUntil is the wait loop of an init (PID 1 of a namespace, or a
// subreaper): it reaps every child that ends, the orphans it inherits
// included, until child ends, and returns child's status as a shell reports
// it (128+N for a signal N). Its error is wait4(2)'s, other than EINTR.
func ReapUntil(child int) (int, error) {
	for {
		var ws unix.WaitStatus
		pid, err := unix.Wait4(-1, &ws, 0, nil)
		switch {
		case errors.Is(err, unix.EINTR):
		case err != nil:
			return 0, err
		case pid == child && ws.Signaled():
			return 128 + int(ws.Signal()), nil
		case pid == child:
			return ws.ExitStatus(), nil
		}
	}
}
