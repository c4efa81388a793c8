//go:build linux

package timens

import (
	"fmt"

	"golang.org/x/sys/unix"
)

// dropEffective removes capability cp from the effective set of the
// calling thread (it stays permitted): the kernel then refuses that thread
// what needs it, as it refuses an unprivileged user. Capabilities belong to
// a thread: call it on a nursery, whose thread is never handed back to the
// Go scheduler.
func dropEffective(cp uint) error {
	hdr := unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3}
	var data [2]unix.CapUserData
	if err := unix.Capget(&hdr, &data[0]); err != nil {
		return fmt.Errorf("capget: %w", err)
	}
	data[cp/32].Effective &^= 1 << (cp % 32)
	if err := unix.Capset(&hdr, &data[0]); err != nil {
		return fmt.Errorf("capset without capability %d: %w", cp, err)
	}
	return nil
}
