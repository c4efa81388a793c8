package lab

import (
	"errors"

	"golang.org/x/sys/unix"
)

// ErrnoName names err's error number ("ENOENT"), "ok" for nil, or gives
// its text when it wraps no error number.
func ErrnoName(err error) string {
	if err == nil {
		return "ok"
	}
	var errno unix.Errno
	if errors.As(err, &errno) && unix.ErrnoName(errno) != "" {
		return unix.ErrnoName(errno)
	}
	return err.Error()
}
