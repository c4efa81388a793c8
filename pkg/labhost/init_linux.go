//go:build linux

package labhost

import (
	"fmt"
	"os"
	"strconv"

	"github.com/nslab/nslab/pkg/spawn"
	"golang.org/x/sys/unix"
)

// MaxProcs is the RLIMIT_NPROC of a lab host: how many processes (threads
// count) the lab host's user may have on the machine at once.
const MaxProcs = 8192

const (
	entryInit = "labhost.init"
	modeHost  = "host"  // in the lab host's new namespaces: set them up
	modeBare  = "bare"  // NSLAB_BARE=1: the caller's namespaces, touch nothing
	firstFile = 5       // the init's first extra file (3 and 4 are spawn's)
	serveArg  = "serve" // instead of NFILES: a resident init, its control socket at firstFile
)

func init() { spawn.Register(entryInit, initMain) }

// initMain is the lab host's init: args are the mode, the number of extra
// files, and the entrypoint to run with its arguments.
func initMain(args []string) int {
	if len(args) == 2 && args[1] == serveArg {
		return residentMain(args[0])
	}
	if len(args) < 3 {
		fmt.Fprintln(os.Stderr, "lab host: usage: labhost.init MODE NFILES ENTRYPOINT [ARG...] | labhost.init MODE serve")
		return 125
	}
	nfiles, err := strconv.Atoi(args[1])
	if err != nil || nfiles < 0 {
		fmt.Fprintf(os.Stderr, "lab host: bad number of files %q\n", args[1])
		return 125
	}
	if args[0] == modeHost {
		if err := furnish(); err != nil {
			fmt.Fprintf(os.Stderr, "lab host: %v\n", err)
			return 125
		}
	}
	pid, err := startChild(args[2], args[3:], nfiles)
	if err != nil {
		fmt.Fprintf(os.Stderr, "lab host: %v\n", err)
		return 125
	}
	return reap(pid)
}

// residentMain is a resident lab host's init: set up, then serve requests.
func residentMain(mode string) int {
	ctl, err := controlConn(firstFile)
	if err != nil {
		fmt.Fprintf(os.Stderr, "lab host: %v\n", err)
		return 125
	}
	if mode == modeHost {
		err = furnish()
	}
	if err != nil {
		send(ctl, reply{Error: err.Error()}, nil)
		return 125
	}
	send(ctl, reply{}, nil) // furnished: the caller's baseline may be taken now
	return serve(ctl)
}

// furnish gives the lab host what a machine has, of its own: writable
// directories that are tmpfs here (so nothing is left on the machine's
// disk or in its shared memory), its own POSIX message queues, lo up.
func furnish() error {
	for _, dir := range []string{"/tmp", "/var/tmp", "/dev/shm", "/run/lock"} {
		if _, err := os.Stat(dir); err != nil {
			continue
		}
		if err := unix.Mount("tmpfs", dir, "tmpfs", unix.MS_NOSUID|unix.MS_NODEV, "mode=1777"); err != nil {
			return fmt.Errorf("mount tmpfs on %s: %w", dir, err)
		}
	}
	// A fork bomb stays a lab host's problem: the machine's root, or the
	// machine's user, is not the lab host's root (RLIMIT_NPROC counts the
	// real user's processes, and only a capability of the machine's user
	// namespace lifts it).
	lim := unix.Rlimit{Cur: MaxProcs, Max: MaxProcs}
	if err := unix.Setrlimit(unix.RLIMIT_NPROC, &lim); err != nil {
		return fmt.Errorf("limit processes to %d: %w", MaxProcs, err)
	}
	if _, err := os.Stat("/dev/mqueue"); err == nil {
		if err := unix.Mount("mqueue", "/dev/mqueue", "mqueue", unix.MS_NOSUID|unix.MS_NODEV|unix.MS_NOEXEC, ""); err != nil {
			return fmt.Errorf("mount mqueue on /dev/mqueue: %w", err)
		}
	}
	return loopbackUp()
}

// loopbackUp sets lo up, as ip link set lo up does.
func loopbackUp() error {
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("set lo up: socket: %w", err)
	}
	defer unix.Close(fd)
	ifr, err := unix.NewIfreq("lo")
	if err != nil {
		return fmt.Errorf("set lo up: %w", err)
	}
	if err := unix.IoctlIfreq(fd, unix.SIOCGIFFLAGS, ifr); err != nil {
		return fmt.Errorf("set lo up: read its flags: %w", err)
	}
	ifr.SetUint16(ifr.Uint16() | unix.IFF_UP)
	if err := unix.IoctlIfreq(fd, unix.SIOCSIFFLAGS, ifr); err != nil {
		return fmt.Errorf("set lo up: %w", err)
	}
	return nil
}

// startChild starts the entrypoint with the init's extra files as its fds 3, 4, …
func startChild(name string, args []string, nfiles int) (int, error) {
	cmd, err := spawn.EntrypointCommand(name, args)
	if err != nil {
		return 0, err
	}
	cmd.Stdout, cmd.Stderr, cmd.Dir = os.Stdout, os.Stderr, "/"
	for i := range nfiles {
		cmd.ExtraFiles = append(cmd.ExtraFiles, os.NewFile(uintptr(firstFile+i), "extra"))
	}
	err = cmd.Start()
	for _, f := range cmd.ExtraFiles {
		f.Close() // the child has them; the init must not keep a pipe open
	}
	if err != nil {
		return 0, fmt.Errorf("start %s: %w", name, err)
	}
	return cmd.Process.Pid, nil
}

// reap waits for every process that ends in the lab host, its own child and
// the orphans it inherits, and returns the child's status once it ends (a
// signal N as 128+N, as a shell reports it).
func reap(child int) int {
	code, err := spawn.ReapUntil(child)
	if err != nil {
		fmt.Fprintf(os.Stderr, "lab host: wait: %v\n", err)
		return 125
	}
	return code
}
