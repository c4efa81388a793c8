//go:build linux

package mount

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/nslab/nslab/pkg/lab"
	"golang.org/x/sys/unix"
)

// HostDirs returns the host's directories that a minimal root file system
// borrows (read-only), when they exist.
func HostDirs() []string {
	return []string{"/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32"}
}

// DevNodes returns the device files a minimal /dev offers, bound from the host's.
func DevNodes() []string { return []string{"null", "zero", "full", "random", "urandom", "tty"} }

// BorrowHostDirs gives root, the root of a file system tree being built,
// each of HostDirs() that the host has: a symbolic link (such as bin ->
// usr/bin on a merged-/usr system) is recreated as the same link, and a
// directory is bound read-only, with the mounts below it. It is the lab's
// own code, written with the new mount API (open_tree(2),
// mount_setattr(2), move_mount(2)) rather than step 06's remount, so that
// step 07 does not depend on step 06.
func BorrowHostDirs(root string) error {
	return borrow(root, lab.ReadOnlyTree)
}

// borrow is BorrowHostDirs with the bind it makes of each directory.
func borrow(root string, bind func(source, target string) error) error {
	for _, dir := range HostDirs() {
		target := filepath.Join(root, dir)
		fi, err := os.Lstat(dir)
		switch {
		case errors.Is(err, os.ErrNotExist):
			continue
		case err != nil:
			return err
		case fi.Mode()&os.ModeSymlink != 0:
			link, err := os.Readlink(dir)
			if err != nil {
				return err
			}
			if err := os.Symlink(link, target); err != nil {
				return err
			}
			continue
		}
		if err := os.Mkdir(target, 0o755); err != nil {
			return err
		}
		if err := refusal(target); err != nil {
			return err
		}
		if err := bind(dir, target); err != nil {
			return err
		}
	}
	return nil
}

// mkdirMount makes the directory target and mounts on it.
func mkdirMount(source, target, fstype string, flags uintptr, data string) error {
	if err := os.Mkdir(target, 0o755); err != nil {
		return err
	}
	if err := refusal(target); err != nil {
		return err
	}
	return mountFS(source, target, fstype, flags, data)
}

// refused is the one mount point on which the lab's own mkdirMount and
// BorrowHostDirs fail on purpose, as the kernel could (ENOMEM), so that
// step 07 sees BuildRootfs return the error of each call it makes; empty:
// none. The holder command labrefuse sets it.
var refused string

// refusal is the error of a mount on target when target is refused.
func refusal(target string) error {
	if target != "" && target == refused {
		return fmt.Errorf("mount on %s: %w (the lab refuses it on purpose)", target, unix.ENOMEM)
	}
	return nil
}

// mountFS is mount(2) with an error that says what was mounted where.
func mountFS(source, target, fstype string, flags uintptr, data string) error {
	if err := unix.Mount(source, target, fstype, flags, data); err != nil {
		what := source
		if fstype != "" {
			what = fstype + " " + source
		}
		return fmt.Errorf("mount %s on %s (flags %#x, %q): %w", what, target, flags, data, err)
	}
	return nil
}

// labRoot is the lab's own small root for step 08, so that step 08 does
// not depend on step 07: in root, a directory of the lab's tmpfs (not a
// mount point of its own), the host's /usr (and /bin, /lib*: the same
// links, or binds), and a fresh /proc.
func labRoot(root string) error {
	if err := borrow(root, func(source, target string) error {
		return mountFS(source, target, "", unix.MS_BIND|unix.MS_REC, "")
	}); err != nil {
		return err
	}
	return mkdirMount("proc", filepath.Join(root, "proc"), "proc", unix.MS_NOSUID|unix.MS_NODEV|unix.MS_NOEXEC, "")
}
