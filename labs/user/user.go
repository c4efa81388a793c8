//go:build linux

package user

import (
	"context"
	"errors"
	"fmt"
	"os"

	"github.com/nslab/nslab/pkg/ns"
	"github.com/nslab/nslab/pkg/spawn"
)

// StartUnmapped is step 01: start the child that cfg describes (its Args or
// Entrypoint) in a new user namespace, and nothing else new, without writing
// any UID or GID map. The child is held; the caller releases it.
func StartUnmapped(ctx context.Context, cfg spawn.Config) (*spawn.Child, error) {
	// BEGIN SOLUTION
	cfg.New = []ns.Kind{ns.User}
	cfg.MapRoot, cfg.UIDMap, cfg.GIDMap = false, nil, nil
	return spawn.Start(ctx, cfg)
	// END SOLUTION
}

// MapToRoot is step 02: from the parent, map UID uid and GID gid outside to
// 0 inside the user namespace of process pid, which has no maps yet, by
// writing /proc/PID/uid_map and /proc/PID/gid_map. An unprivileged caller
// must first write "deny" to /proc/PID/setgroups, or the kernel refuses the
// gid_map.
func MapToRoot(pid, uid, gid int) error {
	// BEGIN SOLUTION
	write := func(file, text string) error {
		path := fmt.Sprintf("/proc/%d/%s", pid, file)
		if err := os.WriteFile(path, []byte(text), 0); err != nil {
			return fmt.Errorf("write %q to %s: %w", text, path, err)
		}
		return nil
	}
	if err := write("uid_map", fmt.Sprintf("0 %d 1\n", uid)); err != nil {
		return err
	}
	if os.Geteuid() != 0 {
		if err := write("setgroups", "deny"); err != nil {
			return err
		}
	}
	return write("gid_map", fmt.Sprintf("0 %d 1\n", gid))
	// END SOLUTION
}

// Governs is step 03: report whether a process that is root in user
// namespace user (with every capability there) has power over the namespace
// target. It has when target is owned (NS_GET_USERNS, Handle.UserNS) by user
// itself or by a user namespace nested below it (Handle.Parent leads back up
// to user). Walking up ends with ns.ErrOutsideScope at the top of the
// caller's own scope.
func Governs(user, target *ns.Handle) (bool, error) {
	// BEGIN SOLUTION
	owner, err := target.UserNS()
	if err != nil {
		return false, fmt.Errorf("owner of %s: %w", target, err)
	}
	for {
		if owner.ID().Equal(user.ID()) {
			owner.Close()
			return true, nil
		}
		parent, err := owner.Parent()
		owner.Close()
		if errors.Is(err, ns.ErrOutsideScope) {
			return false, nil
		}
		if err != nil {
			return false, err
		}
		owner = parent
	}
	// END SOLUTION
}

// ToOutside is step 04: translate id, as a process inside a user namespace
// sees it, into the ID outside, through that namespace's map (the lines of
// /proc/PID/uid_map or gid_map: Size IDs from ContainerID inside are Size IDs
// from HostID outside). When no line maps id, outside is -1 and ok false.
func ToOutside(m []spawn.IDMap, id int) (outside int, ok bool) {
	// BEGIN SOLUTION
	for _, r := range m {
		if id >= r.ContainerID && id < r.ContainerID+r.Size {
			return r.HostID + id - r.ContainerID, true
		}
	}
	return -1, false
	// END SOLUTION
}

// Owner is one user namespace on the way up from a namespace to the top of
// the caller's scope.
type Owner struct {
	ID  ns.ID // the user namespace
	UID int   // the UID (in the caller's user namespace) of the process that created it
}

// OwnerChain is step 05: list the user namespace that owns the namespace of
// kind k of process pid (NS_GET_USERNS), then its parent, and so on
// (NS_GET_PARENT), up to the caller's own user namespace, whose parent is out
// of its scope (ns.ErrOutsideScope). Each comes with its owner's UID
// (NS_GET_OWNER_UID). For k = user, the first is the parent of the process's
// own user namespace.
func OwnerChain(pid int, k ns.Kind) ([]Owner, error) {
	// BEGIN SOLUTION
	h, err := ns.Open(pid, k)
	if err != nil {
		return nil, err
	}
	next, err := h.UserNS()
	h.Close()
	var chain []Owner
	for err == nil {
		uid, uerr := next.OwnerUID()
		if uerr != nil {
			next.Close()
			return chain, uerr
		}
		chain = append(chain, Owner{ID: next.ID(), UID: uid})
		parent, perr := next.Parent()
		next.Close()
		next, err = parent, perr
	}
	if errors.Is(err, ns.ErrOutsideScope) {
		return chain, nil
	}
	return chain, err
	// END SOLUTION
}
