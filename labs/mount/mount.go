//go:build linux

package mount

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/nslab/nslab/pkg/ns"
	"github.com/nslab/nslab/pkg/spawn"
	"golang.org/x/sys/unix"
)

// StartInNewMount is step 01: start args as a child in a new mount namespace
// and nothing else new, held before it runs (the caller releases it).
func StartInNewMount(ctx context.Context, args []string) (*spawn.Child, error) {
	// BEGIN SOLUTION
	return spawn.Start(ctx, spawn.Config{New: []ns.Kind{ns.Mnt}, Args: args})
	// END SOLUTION
}

// ParsePropagation is step 02: read the optional fields of one mountinfo
// line ("shared:N", "master:N", "propagate_from:N", "unbindable"; none
// means private). An unknown field is ignored, as proc(5) asks; a known
// field without a positive number is an error that names the field.
func ParsePropagation(fields []string) (Propagation, error) {
	// BEGIN SOLUTION
	var p Propagation
	for _, f := range fields {
		if f == "unbindable" {
			p.Unbindable = true
			continue
		}
		tag, num, ok := strings.Cut(f, ":")
		var dst *int
		switch tag {
		case "shared":
			dst = &p.Shared
		case "master":
			dst = &p.Master
		case "propagate_from":
			dst = &p.PropagateFrom
		default:
			continue
		}
		n, err := strconv.Atoi(num)
		if !ok || err != nil || n <= 0 {
			return p, fmt.Errorf("optional field %q: want %s:N with N a positive peer group ID", f, tag)
		}
		*dst = n
	}
	return p, nil
	// END SOLUTION
}

// EnterPrivateMountNS is step 03: move the calling OS thread, which the
// caller has locked (runtime.LockOSThread) and will never unlock, into a new
// mount namespace (unshare(2) with CLONE_NEWNS), and make every mount of
// that namespace private, recursively, before anything is mounted in it.
func EnterPrivateMountNS() error {
	// BEGIN SOLUTION
	if err := unix.Unshare(unix.CLONE_NEWNS); err != nil {
		return fmt.Errorf("unshare(CLONE_NEWNS): %w", err)
	}
	if err := unix.Mount("", "/", "", unix.MS_REC|unix.MS_PRIVATE, ""); err != nil {
		return fmt.Errorf("make / private, recursively (mount --make-rprivate /): %w", err)
	}
	return nil
	// END SOLUTION
}

// MountTmpfs is step 04: mount a new tmpfs of sizeKiB kibibytes on target
// (mode 0755, nosuid, nodev). Call it only in a mount namespace of the lab's.
func MountTmpfs(target string, sizeKiB int) error {
	// BEGIN SOLUTION
	data := fmt.Sprintf("size=%dk,mode=755", sizeKiB)
	if err := unix.Mount("tmpfs", target, "tmpfs", unix.MS_NOSUID|unix.MS_NODEV, data); err != nil {
		return fmt.Errorf("mount tmpfs (%s) on %s: %w", data, target, err)
	}
	return nil
	// END SOLUTION
}

// SetPropagation is step 05: change the propagation type of the mount on
// target, and of that mount only, to typ: "shared", "slave", "private" or
// "unbindable" (mount --make-TYPE).
func SetPropagation(target, typ string) error {
	// BEGIN SOLUTION
	flags := map[string]uintptr{"shared": unix.MS_SHARED, "slave": unix.MS_SLAVE, "private": unix.MS_PRIVATE, "unbindable": unix.MS_UNBINDABLE}
	flag, ok := flags[typ]
	if !ok {
		return fmt.Errorf("make %s %s: unknown propagation type", target, typ)
	}
	if err := unix.Mount("", target, "", flag, ""); err != nil {
		return fmt.Errorf("make %s %s (mount --make-%s): %w", target, typ, typ, err)
	}
	return nil
	// END SOLUTION
}

// BindMount is step 05: make the tree at source visible at target too, with
// the mounts below source (mount --rbind).
func BindMount(source, target string) error {
	// BEGIN SOLUTION
	if err := unix.Mount(source, target, "", unix.MS_BIND|unix.MS_REC, ""); err != nil {
		return fmt.Errorf("bind %s on %s: %w", source, target, err)
	}
	return nil
	// END SOLUTION
}

// BindReadOnly is step 06: bind source (recursively) on target, an existing
// directory, then make the new mount read-only. In a user namespace the
// flags it inherited from a more privileged mount namespace (nosuid, nodev,
// noexec, the atime ones) are locked: a remount that would drop one fails
// with EPERM, so the remount keeps those that statfs(2) reports
// (mount_namespaces(7), "locked mounts").
func BindReadOnly(source, target string) error {
	// BEGIN SOLUTION
	if err := unix.Mount(source, target, "", unix.MS_BIND|unix.MS_REC, ""); err != nil {
		return fmt.Errorf("bind %s on %s: %w", source, target, err)
	}
	var st unix.Statfs_t
	if err := unix.Statfs(target, &st); err != nil {
		return fmt.Errorf("statfs %s: %w", target, err)
	}
	flags := uintptr(unix.MS_REMOUNT | unix.MS_BIND | unix.MS_RDONLY)
	keep := []struct {
		st int64
		ms uintptr
	}{{unix.ST_NOSUID, unix.MS_NOSUID}, {unix.ST_NODEV, unix.MS_NODEV}, {unix.ST_NOEXEC, unix.MS_NOEXEC},
		{unix.ST_NOATIME, unix.MS_NOATIME}, {unix.ST_NODIRATIME, unix.MS_NODIRATIME}, {unix.ST_RELATIME, unix.MS_RELATIME}}
	for _, k := range keep {
		if st.Flags&k.st != 0 {
			flags |= k.ms
		}
	}
	if err := unix.Mount("", target, "", flags, ""); err != nil {
		return fmt.Errorf("remount %s read-only (flags %#x): %w", target, flags, err)
	}
	return nil
	// END SOLUTION
}

// BuildRootfs is step 07: make root, an existing empty directory, a minimal
// root file system without copying or downloading anything:
//   - a new tmpfs on root (mode 0755);
//   - the host's /usr, /bin, /lib*: BorrowHostDirs(root) does it, with
//     BindReadOnly (step 06);
//   - proc: a fresh proc file system (nosuid, nodev, noexec);
//   - dev: made by BuildDev;
//   - tmp: a tmpfs (mode 1777, nosuid, nodev).
//
// mkdirMount(source, target, fstype, flags, data) makes a directory and
// mounts on it.
func BuildRootfs(root string) error {
	// BEGIN SOLUTION
	if err := unix.Mount("tmpfs", root, "tmpfs", 0, "mode=755"); err != nil {
		return fmt.Errorf("mount a tmpfs on %s: %w", root, err)
	}
	if err := BorrowHostDirs(root); err != nil {
		return err
	}
	if err := mkdirMount("proc", filepath.Join(root, "proc"), "proc", unix.MS_NOSUID|unix.MS_NODEV|unix.MS_NOEXEC, ""); err != nil {
		return err
	}
	if err := BuildDev(filepath.Join(root, "dev")); err != nil {
		return err
	}
	return mkdirMount("tmpfs", filepath.Join(root, "tmp"), "tmpfs", unix.MS_NOSUID|unix.MS_NODEV, "mode=1777")
	// END SOLUTION
}

// BuildDev is step 07: make dev (a directory that does not exist yet) a
// minimal /dev: a new tmpfs, mode 0755, with each of DevNodes() that exists
// in the host's /dev bound onto an empty file of the same name. A tmpfs
// mounted in a user namespace cannot hold usable device nodes (it is nodev),
// but a bind of the host's node can be opened.
func BuildDev(dev string) error {
	// BEGIN SOLUTION
	// Mode 0755, not tmpfs's default 1777: in a sticky directory the kernel
	// refuses an O_CREAT open of a file that someone else owns (sh's "> /dev/null").
	if err := mkdirMount("tmpfs", dev, "tmpfs", unix.MS_NOSUID|unix.MS_NOEXEC, "mode=755"); err != nil {
		return err
	}
	for _, name := range DevNodes() {
		host, target := filepath.Join("/dev", name), filepath.Join(dev, name)
		if _, err := os.Stat(host); err != nil {
			continue
		}
		if err := os.WriteFile(target, nil, 0o666); err != nil {
			return err
		}
		if err := unix.Mount(host, target, "", unix.MS_BIND, ""); err != nil {
			return fmt.Errorf("bind %s on %s: %w", host, target, err)
		}
	}
	return nil
	// END SOLUTION
}

// PivotRoot is step 08: make newRoot, a directory that holds a file system
// tree built in this process's own mount namespace, the root of that
// namespace with pivot_root(2), and detach the old root (umount2 with
// MNT_DETACH), so that nothing outside newRoot can be reached any more.
// Afterwards the working directory is the new "/".
func PivotRoot(newRoot string) error {
	// BEGIN SOLUTION
	// pivot_root wants a mount point: binding the tree onto itself makes one.
	if err := unix.Mount(newRoot, newRoot, "", unix.MS_BIND|unix.MS_REC, ""); err != nil {
		return fmt.Errorf("bind %s onto itself: %w", newRoot, err)
	}
	const old = ".old_root"
	if err := os.Mkdir(filepath.Join(newRoot, old), 0o700); err != nil {
		return err
	}
	if err := unix.PivotRoot(newRoot, filepath.Join(newRoot, old)); err != nil {
		return fmt.Errorf("pivot_root(%s, %s): %w", newRoot, filepath.Join(newRoot, old), err)
	}
	if err := unix.Chdir("/"); err != nil {
		return fmt.Errorf("chdir / in the new root: %w", err)
	}
	if err := unix.Unmount("/"+old, unix.MNT_DETACH); err != nil {
		return fmt.Errorf("detach the old root /%s: %w", old, err)
	}
	return os.Remove("/" + old)
	// END SOLUTION
}

// Teardown is step 09: unmount every mount on dir or below it in the
// caller's mount namespace (the deepest first, as listed in
// /proc/thread-self/mountinfo), then remove dir and what it holds. It must
// never delete anything through a mount that is still there.
func Teardown(dir string) error {
	// BEGIN SOLUTION
	for {
		mounts, err := ReadMountinfo("/proc/thread-self/mountinfo")
		if err != nil {
			return err
		}
		under := Under(mounts, dir)
		if len(under) == 0 {
			break
		}
		// The last listed is the most recent: nothing is mounted on top of it.
		slices.SortStableFunc(under, func(a, b Mount) int { return len(b.Point) - len(a.Point) })
		last := under[0]
		if err := unix.Unmount(last.Point, 0); err != nil {
			return fmt.Errorf("unmount %s: %w", last.Point, err)
		}
	}
	return os.RemoveAll(dir)
	// END SOLUTION
}
