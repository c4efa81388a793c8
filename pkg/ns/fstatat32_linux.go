//go:build linux && (386 || arm || mips || mipsle)

package ns

import (
	"bytes"

	"golang.org/x/sys/unix"
)

// rawFstatat is fstatat(2) where the kernel calls it fstatat64 and
// unix.Fstatat knows the layout; name ends with a NUL byte.
func rawFstatat(dir int, name []byte, st *unix.Stat_t) bool {
	return unix.Fstatat(dir, string(bytes.TrimRight(name, "\x00")), st, 0) == nil
}
