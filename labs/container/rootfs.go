//go:build linux

package container

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/nslab/nslab/pkg/lab"
	"golang.org/x/sys/unix"
)

// Root is a root file system BuildRoot (step 03) built.
type Root struct {
	Dir      string // the new root: a directory in the tmpfs BuildRoot mounted
	Overlay  bool   // /usr in it is an overlay on the machine's /usr
	Fallback string // why not, when the kernel refused the overlay ("" otherwise)
}

// HostDirs returns the top-level names of the machine that a root built on
// its /usr borrows: links (bin -> usr/bin on a merged-/usr system) or, on
// an older layout, directories.
func HostDirs() []string { return []string{"bin", "sbin", "lib", "lib32", "lib64", "libx32"} }

// DevNodes returns the devices a container's /dev holds, bound from the machine's.
func DevNodes() []string { return []string{"null", "zero", "random", "urandom", "tty"} }

// The lab's own pieces of a container's root, so that each step depends on
// the learner's code of that step only: a step runs the lab's BuildRoot,
// Furnish and PivotRoot around the learner's one. They are written the
// long way round (the new mount API, a fixed order of checks) rather than
// as the reference solution.

// labBuildRoot is the lab's BuildRoot: always an overlay (the lab checks
// the learner's fallback against what the kernel allows, see overlayAllowed).
func labBuildRoot(dir string) (Root, error) {
	r := Root{Dir: filepath.Join(dir, "root"), Overlay: true}
	if err := mountFS("tmpfs", dir, "tmpfs", unix.MS_NOSUID|unix.MS_NODEV, "mode=0755"); err != nil {
		return r, err
	}
	for _, d := range []string{"upper", "work", "root", "root/usr"} {
		if err := os.Mkdir(filepath.Join(dir, d), 0o755); err != nil {
			return r, err
		}
	}
	data := "lowerdir=/usr,upperdir=" + filepath.Join(dir, "upper") + ",workdir=" + filepath.Join(dir, "work")
	if err := mountFS("overlay", filepath.Join(r.Dir, "usr"), "overlay", 0, data); err != nil {
		return r, err
	}
	for _, name := range HostDirs() {
		fi, err := os.Lstat("/" + name)
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			return r, err
		}
		target := filepath.Join(r.Dir, name)
		if fi.Mode()&os.ModeSymlink != 0 {
			link, err := os.Readlink("/" + name)
			if err == nil {
				err = os.Symlink(link, target)
			}
			if err != nil {
				return r, err
			}
			continue
		}
		if err := os.Mkdir(target, 0o755); err != nil {
			return r, err
		}
		if err := lab.ReadOnlyTree("/"+name, target); err != nil {
			return r, err
		}
	}
	return r, nil
}

// labFurnish is the lab's Furnish.
func labFurnish(root string) error {
	const flags = unix.MS_NOSUID | unix.MS_NODEV | unix.MS_NOEXEC
	for _, d := range []string{"proc", "dev", "sys", "tmp"} {
		if err := os.Mkdir(filepath.Join(root, d), 0o755); err != nil && !errors.Is(err, os.ErrExist) {
			return err
		}
	}
	if err := mountFS("proc", filepath.Join(root, "proc"), "proc", flags, ""); err != nil {
		return err
	}
	if err := mountFS("tmpfs", filepath.Join(root, "dev"), "tmpfs", unix.MS_NOSUID|unix.MS_NOEXEC, "mode=0755"); err != nil {
		return err
	}
	for _, name := range DevNodes() {
		target := filepath.Join(root, "dev", name)
		if err := os.WriteFile(target, nil, 0o666); err != nil {
			return err
		}
		if err := mountFS("/dev/"+name, target, "", unix.MS_BIND, ""); err != nil {
			return err
		}
	}
	if err := unix.Mount("sysfs", filepath.Join(root, "sys"), "sysfs", flags|unix.MS_RDONLY, ""); err != nil && !errors.Is(err, unix.EPERM) {
		return fmt.Errorf("mount sysfs on %s: %w", filepath.Join(root, "sys"), err)
	}
	return mountFS("tmpfs", filepath.Join(root, "tmp"), "tmpfs", unix.MS_NOSUID|unix.MS_NODEV, "mode=1777")
}

// labPivotRoot is the lab's PivotRoot: the old root goes below the new one
// under a name of its own, and is detached at once.
func labPivotRoot(root string) error {
	if err := mountFS(root, root, "", unix.MS_BIND|unix.MS_REC, ""); err != nil {
		return err
	}
	if err := unix.Chdir(root); err != nil {
		return err
	}
	// pivot_root(".", ".") stacks the old root on the new one; detaching
	// "." then leaves the new root alone (pivot_root(2), NOTES).
	if err := unix.PivotRoot(".", "."); err != nil {
		return fmt.Errorf("pivot_root(%s): %w", root, err)
	}
	if err := unix.Unmount(".", unix.MNT_DETACH); err != nil {
		return fmt.Errorf("detach the old root: %w", err)
	}
	return unix.Chdir("/")
}

// mountFS is mount(2) with an error that says what was mounted where.
func mountFS(source, target, fstype string, flags uintptr, data string) error {
	if err := unix.Mount(source, target, fstype, flags, data); err != nil {
		what := source
		if fstype != "" {
			what = fstype + " " + source
		}
		return fmt.Errorf("mount %s on %s: %w", what, target, err)
	}
	return nil
}
