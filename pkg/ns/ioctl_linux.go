package ns

import (
	"unsafe"

	"golang.org/x/sys/unix"
)

// ioctlPtr calls ioctl(fd, req, p) for requests that write through a pointer.
func ioctlPtr(fd int, req uint, p *uint32) error {
	_, _, errno := unix.Syscall(unix.SYS_IOCTL, uintptr(fd), uintptr(req), uintptr(unsafe.Pointer(p)))
	if errno != 0 {
		return errno
	}
	return nil
}
