package spawn

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"runtime"

	"github.com/nslab/nslab/pkg/ns"
	"golang.org/x/sys/unix"
)

// The shim's file descriptors and exit statuses.
const (
	fdGo     = 3   // read end: one byte means go, EOF means abandoned
	fdStatus = 4   // write end: a message means setup failed; closed on exec
	exitHeld = 125 // abandoned before release, or the spec was unreadable
	exitExec = 126 // the command could not be executed
	exitMiss = 127 // the command was not found
)

// Init must be the first call in main (or TestMain, or an init function of a
// magefile): in a child started by this package it runs the shim and exits;
// elsewhere it returns at once.
func Init() {
	enc, ok := os.LookupEnv(envSpec)
	if !ok {
		return
	}
	os.Unsetenv(envSpec)
	os.Exit(shim(enc))
}

func shim(enc string) int {
	var w wireSpec
	raw, err := base64.StdEncoding.DecodeString(enc)
	if err == nil {
		err = json.Unmarshal(raw, &w)
	}
	sp := w.spec()
	if err != nil {
		fmt.Fprintf(os.Stderr, "nslab shim: bad %s: %v\n", envSpec, err)
		return exitHeld
	}
	if !sp.NoHold && !awaitGo() {
		return exitHeld
	}
	if err := setUp(&sp); err != nil {
		report(err)
		return exitHeld
	}
	return run(sp)
}

// awaitGo blocks until the parent writes a byte (go) or closes the pipe (abandon).
func awaitGo() bool {
	var b [1]byte
	n, _ := unix.Read(fdGo, b[:])
	unix.Close(fdGo)
	return n == 1
}

// setUp applies the spec in the order a container runtime would: join other
// namespaces, isolate the mount table, mount /proc, name the host.
func setUp(sp *spec) error {
	if len(sp.Join) > 0 {
		return rejoin(sp)
	}
	if sp.Private {
		if err := unix.Mount("", "/", "", unix.MS_REC|unix.MS_PRIVATE, ""); err != nil {
			return fmt.Errorf("make / private (mount --make-rprivate /): %w", err)
		}
	}
	if sp.MountProc {
		if err := unix.Mount("proc", "/proc", "proc", unix.MS_NOSUID|unix.MS_NODEV|unix.MS_NOEXEC, ""); err != nil {
			return fmt.Errorf("mount proc on /proc: %w", err)
		}
	}
	if sp.Hostname != "" {
		if err := unix.Sethostname([]byte(sp.Hostname)); err != nil {
			return fmt.Errorf("sethostname %q: %w", sp.Hostname, err)
		}
	}
	if sp.Domainname != "" {
		if err := unix.Setdomainname([]byte(sp.Domainname)); err != nil {
			return fmt.Errorf("setdomainname %q: %w", sp.Domainname, err)
		}
	}
	return nil
}

// rejoin enters the namespaces of sp.Join on this locked thread, then
// executes the binary again from it, so that the whole new process image,
// every thread of it, lives in the joined namespaces. It returns only on error.
func rejoin(sp *spec) error {
	runtime.LockOSThread()
	for k, pid := range sp.Join {
		h, err := ns.Open(pid, k)
		if err != nil {
			return fmt.Errorf("join: %w", err)
		}
		err = unix.Setns(h.Fd(), int(k.CloneFlag()))
		h.Close()
		if err != nil {
			return fmt.Errorf("setns %s: %w", ns.Path(pid, k), err)
		}
	}
	next := *sp
	next.Join, next.NoHold = nil, true
	env := append(withoutSpec(os.Environ()), next.encode())
	err := unix.Exec("/proc/self/exe", []string{sp.describe()}, env)
	return fmt.Errorf("re-execute /proc/self/exe after joining: %w", err)
}

func run(sp spec) int {
	if sp.Entrypoint != "" {
		fn, ok := lookup(sp.Entrypoint)
		if !ok {
			report(fmt.Errorf("no entrypoint %q in this binary", sp.Entrypoint))
			return exitHeld
		}
		if !sp.Bare {
			unix.Close(fdStatus)
		}
		return runEntrypoint(fn, sp.Args)
	}
	unix.CloseOnExec(fdStatus)
	// Drop the ambient capabilities the shim was given (see sysProcAttr): the
	// command's capabilities are computed by execve, as for unshare(1).
	// Capabilities belong to a thread: the execve must come from the thread
	// that dropped them, or the command may keep them all.
	runtime.LockOSThread()
	unix.Prctl(unix.PR_CAP_AMBIENT, unix.PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0)
	err := unix.Exec(sp.Path, sp.Args, os.Environ())
	report(fmt.Errorf("execute %s: %w", sp.Path, err))
	if errors.Is(err, unix.ENOENT) {
		return exitMiss
	}
	return exitExec
}

// report tells the parent why setup failed; the parent's Release returns it.
func report(err error) {
	unix.Write(fdStatus, []byte(err.Error()))
	unix.Close(fdStatus)
}

// notWritten is implemented by the panic value of an unwritten lab step (lab.TODO).
type notWritten interface {
	error
	NotImplementedStep()
}

// runEntrypoint runs fn; an unwritten lab step's panic becomes one line on
// stderr and exit status 3 rather than a stack trace.
func runEntrypoint(fn Entrypoint, args []string) (code int) {
	defer func() {
		if r := recover(); r != nil {
			nw, ok := r.(notWritten)
			if !ok {
				panic(r)
			}
			fmt.Fprintln(os.Stderr, nw.Error())
			code = 3
		}
	}()
	return fn(args)
}
