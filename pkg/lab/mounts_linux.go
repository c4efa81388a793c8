package lab

import (
	"fmt"

	"golang.org/x/sys/unix"
)

// ReadOnlyTree binds the tree at source on target, read-only through and
// through, for a lab's own scaffolding (a minimal root's /bin, /lib…): a
// detached copy of the tree (open_tree with OPEN_TREE_CLONE), made
// read-only (mount_setattr, which changes only the flags it is given, so
// the flags a user namespace locks stay), then attached (move_mount).
func ReadOnlyTree(source, target string) error {
	fd, err := unix.OpenTree(unix.AT_FDCWD, source, unix.OPEN_TREE_CLONE|unix.OPEN_TREE_CLOEXEC|unix.AT_RECURSIVE)
	if err != nil {
		return fmt.Errorf("open_tree %s: %w", source, err)
	}
	defer unix.Close(fd)
	attr := unix.MountAttr{Attr_set: unix.MOUNT_ATTR_RDONLY}
	if err := unix.MountSetattr(fd, "", unix.AT_EMPTY_PATH|unix.AT_RECURSIVE, &attr); err != nil {
		return fmt.Errorf("mount_setattr a copy of %s read-only: %w", source, err)
	}
	if err := unix.MoveMount(fd, "", unix.AT_FDCWD, target, unix.MOVE_MOUNT_F_EMPTY_PATH); err != nil {
		return fmt.Errorf("move_mount a copy of %s on %s: %w", source, target, err)
	}
	return nil
}
