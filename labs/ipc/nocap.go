//go:build linux

package ipc

import (
	"fmt"
	"runtime"

	"golang.org/x/sys/unix"
)

// withoutIPCOwner runs fn on a thread of its own whose effective
// capabilities lack CAP_IPC_OWNER, the one that lets root pass every
// permission check of a System V object (ipcperms in the kernel): there,
// the get calls check the permission bits the caller asks for in their
// flag against the object's mode, as for any owner. Capabilities belong to
// a thread, so the rest of the process keeps them. The thread is never
// given back to the Go scheduler: its goroutine ends locked, and the
// runtime ends the thread with it. A panic in fn (an unwritten step) goes
// on in the caller's goroutine.
func withoutIPCOwner(fn func() error) error {
	type result struct {
		err      error
		panicked any
	}
	done := make(chan result, 1)
	go func() {
		runtime.LockOSThread() // never unlocked: the thread dies with the goroutine
		defer func() {
			if p := recover(); p != nil {
				done <- result{panicked: p}
			}
		}()
		if err := dropEffective(unix.CAP_IPC_OWNER); err != nil {
			done <- result{err: err}
			return
		}
		done <- result{err: fn()}
	}()
	r := <-done
	if r.panicked != nil {
		panic(r.panicked)
	}
	return r.err
}

// dropEffective removes capability cp from the effective set of the
// calling thread (it stays permitted).
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
