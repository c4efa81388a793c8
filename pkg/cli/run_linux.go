package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/nslab/nslab/pkg/spawn"
)

var getenv = os.Getenv

// execute starts r's command, passes the signals nslab gets on to it, kills
// it when it outlives the stop timeout after one, and returns its status.
func execute(r Run, stderr io.Writer) int {
	cfg := r.Config
	path, err := lookCommand(cfg.Args[0])
	if err != nil {
		return fail(stderr, err)
	}
	sigs := make(chan os.Signal, 8)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP)
	defer signal.Stop(sigs)
	if forkSupported && len(cfg.Join) == 0 && cfg.CgroupDir == "" && len(cfg.ExtraFiles) == 0 &&
		(cfg.Entrypoint == "" || cfg.Entrypoint == entryInit) {
		// The fast path: no second Go start-up for the init or the setup.
		init := cfg.Entrypoint == entryInit
		cfg.Entrypoint = ""
		f, err := startForked(cfg, path, init)
		var ee *exitError
		switch {
		case err == nil:
			return supervise(f.pid, sigs, f.wait, r.StopTimeout)
		case errors.As(err, &ee), errors.As(err, new(*usageError)):
			return fail(stderr, err)
		case !errors.Is(err, errNoClone3):
			return fail(stderr, &exitError{Code: exitNotStarted, Err: startFailure(cfg, err)})
		}
		cfg = r.Config // a kernel before 5.3: through pkg/spawn
	}
	return executeSpawn(cfg, r.StopTimeout, sigs, stderr)
}

// executeSpawn starts cfg through pkg/spawn: its shim, and nslab's init as
// an entrypoint (a second start of this binary), where the fast path of
// fork_linux.go is not built or the kernel lacks clone3(2).
func executeSpawn(cfg spawn.Config, stop time.Duration, sigs <-chan os.Signal, stderr io.Writer) int {
	cfg.NoHold = true // nothing to inspect: skip the shim when the command needs no setup
	cfg.StopSignal = syscall.SIGKILL
	child, err := spawn.Start(context.Background(), cfg)
	if err != nil {
		return fail(stderr, &exitError{Code: exitNotStarted, Err: startFailure(cfg, err)})
	}
	if err := child.Release(); err != nil {
		code := statusOf(child.Wait(), exitNotStarted)
		return fail(stderr, &exitError{Code: code, Err: fmt.Errorf("run: %w", err)})
	}
	return supervise(child.PID(), sigs, func() int { return statusOf(child.Wait(), exitNotStarted) }, stop)
}

// supervise waits for pid (wait returns its status) and meanwhile passes
// the signals nslab gets on to it; when it is still there stop after the
// first signal, it is killed (SIGKILL: its PID namespace ends with it) and
// nslab exits 128+N for that signal N. The calling goroutine waits, another
// passes the signals: one goroutine less to wake on the way out.
func supervise(pid int, sigs <-chan os.Signal, wait func() int, stop time.Duration) int {
	done := make(chan struct{})
	var killedBy atomic.Int32
	go func() {
		var deadline <-chan time.Time
		first := syscall.Signal(0)
		for {
			select {
			case s := <-sigs:
				syscall.Kill(pid, s.(syscall.Signal)) // the child may be gone already: nothing to do then
				if first == 0 {
					first = s.(syscall.Signal)
					if stop > 0 {
						deadline = time.After(stop)
					}
				}
			case <-deadline:
				killedBy.Store(int32(first))
				syscall.Kill(pid, syscall.SIGKILL)
				return
			case <-done:
				return
			}
		}
	}()
	code := wait()
	close(done)
	if sig := killedBy.Load(); sig != 0 {
		return 128 + int(sig)
	}
	return code
}

// statusOf returns the shell's view of a child's end: its status, or 128+signal.
func statusOf(err error, other int) int {
	var ee *spawn.ExitError
	switch {
	case err == nil:
		return exitOK
	case errors.As(err, &ee):
		return ee.ShellCode()
	}
	return other
}

// lookCommand finds a command in $PATH, telling a missing command (127)
// from one that cannot be executed (126).
func lookCommand(name string) (string, error) {
	path, err := exec.LookPath(name)
	var ee *exec.Error
	switch {
	case err == nil:
		return path, nil
	case errors.Is(err, exec.ErrNotFound):
		return "", &exitError{Code: exitNotFound, Err: fmt.Errorf("run: command %q not found in $PATH", name)}
	case errors.As(err, &ee):
		return "", &exitError{Code: exitCannotExec, Err: fmt.Errorf("run: cannot execute %s: %v", name, ee.Err)}
	}
	return "", &exitError{Code: exitCannotExec, Err: fmt.Errorf("run: cannot execute %s: %w", name, err)}
}

// startFailure explains why the namespaces could not be created.
func startFailure(cfg spawn.Config, err error) error {
	var pe *spawn.PrivilegeError
	if errors.As(err, &pe) && cfg.NoAutoUser && os.Geteuid() != 0 {
		fixed := *pe
		fixed.Fix = "run as root, or drop --user=false so that nslab adds a user namespace mapping you to root"
		return fmt.Errorf("run: %w", &fixed)
	}
	return fmt.Errorf("run: %w", err)
}
