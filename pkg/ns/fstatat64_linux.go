//go:build linux && !(386 || arm || mips || mipsle)

package ns

import (
	"unsafe"

	"golang.org/x/sys/unix"
)

// rawFstatat is fstatat(2) without the scheduler hand-off (see rawOpenDir);
// name ends with a NUL byte.
func rawFstatat(dir int, name []byte, st *unix.Stat_t) bool {
	_, _, e := unix.RawSyscall6(unix.SYS_NEWFSTATAT, uintptr(dir), uintptr(unsafe.Pointer(&name[0])), uintptr(unsafe.Pointer(st)), 0, 0, 0)
	return e == 0
}
