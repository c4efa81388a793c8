package lab

import (
	"os"

	"golang.org/x/sys/unix"
)

// Open files, for run halves that check the learner closes what it opens
// (OpenFiles before and after its calls), and that it returns the EMFILE
// of a call the kernel refuses for lack of descriptors (WithOneMoreFile).

// OpenFiles counts the caller's open file descriptors.
func OpenFiles() int {
	fds, _ := os.ReadDir("/proc/self/fd")
	return len(fds)
}

// WithOneMoreFile runs fn while the soft RLIMIT_NOFILE lets the process
// open one more file: its lowest free descriptor, and no other.
func WithOneMoreFile(fn func() error) error {
	// The runtime's poller opens its own descriptors the first time a file
	// is opened through package os, and cannot live without them: have it
	// open them now, while the limit allows.
	if f, err := os.Open("/dev/null"); err == nil {
		f.Close()
	}
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
