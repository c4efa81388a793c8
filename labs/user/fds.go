//go:build linux

package user

import (
	"os"

	"golang.org/x/sys/unix"
)

// The runner's open files: Governs and OwnerChain open a file for each
// namespace they look at, and must close it (step 03, step 05); and a limit
// on them, so that the kernel refuses the next one with EMFILE.

// openFiles counts the caller's open file descriptors.
func openFiles() int {
	fds, _ := os.ReadDir("/proc/self/fd")
	return len(fds)
}

// withOneMoreFile runs fn while the soft RLIMIT_NOFILE lets the process
// open one more file: its lowest free descriptor, and no other.
func withOneMoreFile(fn func() error) error {
	var old unix.Rlimit
	if err := unix.Getrlimit(unix.RLIMIT_NOFILE, &old); err != nil {
		return err
	}
	lim := old
	lim.Cur = uint64(secondFreeFD())
	if err := unix.Setrlimit(unix.RLIMIT_NOFILE, &lim); err != nil {
		return err
	}
	defer unix.Setrlimit(unix.RLIMIT_NOFILE, &old)
	return fn()
}

// secondFreeFD returns the second lowest file descriptor not open: a
// limit that lets the process open the lowest free one only.
func secondFreeFD() int {
	free := 0
	for fd := 0; ; fd++ {
		if _, err := unix.FcntlInt(uintptr(fd), unix.F_GETFD, 0); err == unix.EBADF {
			if free++; free == 2 {
				return fd
			}
		}
	}
}
