package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"syscall"
	"time"

	"github.com/nslab/nslab/pkg/spawn"
)

var getenv = os.Getenv

// execute starts r's command, passes the signals nslab gets on to it, kills
// it when it outlives the stop timeout after one, and returns its status.
func execute(r Run, stderr io.Writer) int {
	cfg := r.Config
	if err := lookCommand(cfg.Args[0]); err != nil {
		return fail(stderr, err)
	}
	sigs := make(chan os.Signal, 8)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP)
	defer signal.Stop(sigs)
	cfg.NoHold = true // nothing to inspect: skip the shim when the command needs no setup
	cfg.StopSignal = syscall.SIGKILL
	child, err := spawn.Start(context.Background(), cfg)
	if err != nil {
		return fail(stderr, &exitError{code: exitNotStarted, err: startFailure(cfg, err)})
	}
	if err := child.Release(); err != nil {
		code := statusOf(child.Wait(), exitNotStarted)
		return fail(stderr, &exitError{code: code, err: fmt.Errorf("run: %w", err)})
	}
	ended := make(chan int, 1)
	go func() { ended <- statusOf(child.Wait(), exitNotStarted) }()
	return supervise(child.PID(), sigs, ended, r.StopTimeout)
}

// supervise passes signals on to pid until it ends; when it is still there
// stop after the first signal, it is killed (SIGKILL: its PID namespace
// ends with it) and nslab exits 128+N for that signal N.
func supervise(pid int, sigs <-chan os.Signal, ended <-chan int, stop time.Duration) int {
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
			syscall.Kill(pid, syscall.SIGKILL)
			<-ended
			return 128 + int(first)
		case code := <-ended:
			return code
		}
	}
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

// lookCommand tells a missing command (127) from one that cannot be executed (126).
func lookCommand(name string) error {
	_, err := exec.LookPath(name)
	var ee *exec.Error
	switch {
	case err == nil:
		return nil
	case errors.Is(err, exec.ErrNotFound):
		return &exitError{code: exitNotFound, err: fmt.Errorf("run: command %q not found in $PATH", name)}
	case errors.As(err, &ee):
		return &exitError{code: exitCannotExec, err: fmt.Errorf("run: cannot execute %s: %v", name, ee.Err)}
	}
	return &exitError{code: exitCannotExec, err: fmt.Errorf("run: cannot execute %s: %w", name, err)}
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
