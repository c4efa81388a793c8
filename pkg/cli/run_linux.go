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

	"github.com/nslab/nslab/pkg/spawn"
)

var getenv = os.Getenv

// execute starts cfg, forwards signals to it, waits, and returns the status.
func execute(cfg spawn.Config, stderr io.Writer) int {
	if err := lookCommand(cfg.Args[0]); err != nil {
		return fail(stderr, err)
	}
	sigs := make(chan os.Signal, 8)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP)
	defer signal.Stop(sigs)
	cfg.NoHold = true // nothing to inspect: skip the shim when the command needs no setup
	child, err := spawn.Start(context.Background(), cfg)
	if err != nil {
		return fail(stderr, &exitError{code: exitNotStarted, err: startFailure(cfg, err)})
	}
	done := make(chan struct{})
	defer close(done)
	go forward(sigs, done, child.PID())
	if err := child.Release(); err != nil {
		code := statusOf(child.Wait(), exitNotStarted)
		return fail(stderr, &exitError{code: code, err: fmt.Errorf("run: %w", err)})
	}
	return statusOf(child.Wait(), exitNotStarted)
}

// forward passes the signals nslab receives on to the child until done.
func forward(sigs <-chan os.Signal, done <-chan struct{}, pid int) {
	for {
		select {
		case s := <-sigs:
			syscall.Kill(pid, s.(syscall.Signal)) // the child may be gone already: nothing to do then
		case <-done:
			return
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
