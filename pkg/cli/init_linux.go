package cli

import (
	"errors"
	"fmt"
	"os"
	"os/signal"
	"runtime"
	"syscall"

	"github.com/nslab/nslab/pkg/spawn"
	"golang.org/x/sys/unix"
)

// entryInit is the init that nslab run puts first in a new PID namespace.
const entryInit = "nslab.init"

func init() { spawn.Register(entryInit, initMain) }

// forwarded are the signals the init passes on to the command, as
// docker run --init (tini) does.
var forwarded = []os.Signal{syscall.SIGTERM, syscall.SIGINT, syscall.SIGHUP, syscall.SIGQUIT, syscall.SIGUSR1, syscall.SIGUSR2, syscall.SIGWINCH}

// initMain is PID 1 of the namespace: it runs the command args as its
// child, passes the signals it gets on to it, reaps every process that ends
// in the namespace (orphans are re-parented to it), and exits with the
// command's status (128+N for signal N). When it exits, the kernel kills
// whatever is left in the namespace.
func initMain(args []string) int {
	if len(args) == 0 {
		fmt.Fprintln(os.Stderr, "nslab: init: usage: nslab.init CMD [ARG...]")
		return exitNotStarted
	}
	sigs := make(chan os.Signal, 16)
	signal.Notify(sigs, forwarded...)
	pid, err := startCommand(args)
	if err != nil {
		fmt.Fprintf(os.Stderr, "nslab: %v\n", err)
		var ee *exitError
		if errors.As(err, &ee) {
			return ee.Code
		}
		return exitCannotExec
	}
	ended := make(chan int, 1)
	go func() { ended <- reapUntil(pid) }()
	for {
		select {
		case s := <-sigs:
			unix.Kill(pid, s.(syscall.Signal)) // gone already: nothing to pass on
		case code := <-ended:
			return code
		}
	}
}

// startCommand starts the command with the capabilities execve(2) gives it:
// the ambient ones the shim was given are dropped first, on the thread that
// forks (capabilities belong to a thread).
func startCommand(args []string) (int, error) {
	path, err := lookCommand(args[0])
	if err != nil {
		return 0, err
	}
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	unix.Prctl(unix.PR_CAP_AMBIENT, unix.PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0)
	p, err := os.StartProcess(path, args, &os.ProcAttr{Files: []*os.File{os.Stdin, os.Stdout, os.Stderr}})
	if err != nil {
		return 0, &exitError{Code: exitCannotExec, Err: fmt.Errorf("run: cannot execute %s: %w", args[0], err)}
	}
	return p.Pid, nil
}

// reapUntil waits for any child until the command ends, and returns its
// status (spawn.ReapUntil).
func reapUntil(cmd int) int {
	code, err := spawn.ReapUntil(cmd)
	if err != nil {
		return exitNotStarted
	}
	return code
}
