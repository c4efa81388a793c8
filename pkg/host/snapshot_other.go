//go:build !linux

package host

import "errors"

// Take reads the host's state; only Linux has one to protect.
func Take() (Snapshot, error) { return Snapshot{}, errors.New("host snapshots exist only on Linux") }
