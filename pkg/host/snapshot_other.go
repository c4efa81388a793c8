//go:build !linux

package host

import "errors"

var errNotLinux = errors.New("host snapshots exist only on Linux")

// Take reads the host's state; only Linux has one to protect.
func Take() (Snapshot, error) { return Snapshot{}, errNotLinux }

// TakeOf reads the state of another process's namespaces; only Linux has them.
func TakeOf(dir string) (Snapshot, error) { return Snapshot{}, errNotLinux }
