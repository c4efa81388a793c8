package host

import (
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

const mqueueMagic = 0x19800202 // statfs(2) type of an mqueue file system

// mqueues lists the POSIX message queues of the calling thread's IPC
// namespace. As root it reads them through a detached mount of mqueue for
// that namespace (fsopen, fsmount: attached nowhere, so no mount table
// changes and no child is needed); without root only a mounted /dev/mqueue
// of the machine is read (visited is then false), and nil means they could
// not be read.
func mqueues(visited bool) ([]string, error) {
	if os.Geteuid() != 0 {
		var st unix.Statfs_t
		if visited || unix.Statfs("/dev/mqueue", &st) != nil || st.Type != mqueueMagic {
			return nil, nil
		}
		return names("/dev/mqueue"), nil
	}
	dir, err := detachedMQueue()
	if err != nil {
		return nil, fmt.Errorf("list POSIX message queues: %w", err)
	}
	defer dir.Close()
	entries, err := dir.Readdirnames(-1)
	if err != nil {
		return nil, fmt.Errorf("list POSIX message queues: read a detached mqueue mount: %w", err)
	}
	return entries, nil
}

// detachedMQueue opens the root of a new mqueue mount of the calling
// thread's IPC namespace that is attached to no mount table.
func detachedMQueue() (*os.File, error) {
	fsfd, err := unix.Fsopen("mqueue", unix.FSOPEN_CLOEXEC)
	if err != nil {
		return nil, fmt.Errorf("fsopen mqueue: %w", err)
	}
	defer unix.Close(fsfd)
	if err := unix.FsconfigCreate(fsfd); err != nil {
		return nil, fmt.Errorf("create an mqueue superblock: %w", err)
	}
	mfd, err := unix.Fsmount(fsfd, unix.FSMOUNT_CLOEXEC, unix.MOUNT_ATTR_NOSUID|unix.MOUNT_ATTR_NODEV|unix.MOUNT_ATTR_NOEXEC)
	if err != nil {
		return nil, fmt.Errorf("fsmount mqueue: %w", err)
	}
	defer unix.Close(mfd)
	fd, err := unix.Openat(mfd, ".", unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("open a detached mqueue mount: %w", err)
	}
	return os.NewFile(uintptr(fd), "mqueue"), nil
}
