package host

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"runtime"
	"strings"
	"time"

	"github.com/nslab/nslab/pkg/ns"
	"github.com/nslab/nslab/pkg/spawn"
	"golang.org/x/sys/unix"
)

// entryMQueues lists the POSIX message queues of an IPC namespace, from a
// child in a private mount namespace of its own.
const (
	entryMQueues = "host.mqueues"
	mqueueMagic  = 0x19800202 // statfs(2) type of an mqueue file system
)

func init() { spawn.Register(entryMQueues, listMQueues) }

// mqueues lists the POSIX message queues of the IPC namespace at ipcPath
// ("" for the caller's). Without root only a mounted /dev/mqueue of the
// caller is read; nil means they could not be read.
func mqueues(ipcPath string) ([]string, error) {
	if os.Geteuid() != 0 {
		var st unix.Statfs_t
		if ipcPath != "" || unix.Statfs("/dev/mqueue", &st) != nil || st.Type != mqueueMagic {
			return nil, nil
		}
		return names("/dev/mqueue"), nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var out, errs bytes.Buffer
	err := spawn.Run(ctx, spawn.Config{New: []ns.Kind{ns.Mnt}, NoAutoUser: true, Entrypoint: entryMQueues,
		Args: []string{ipcPath}, Stdout: &out, Stderr: &errs})
	if err != nil {
		return nil, fmt.Errorf("list POSIX message queues of %s from a child that mounts mqueue in a mount namespace of its own: %w: %s",
			or(ipcPath, "the caller"), err, strings.TrimSpace(errs.String()))
	}
	return strings.Fields(out.String()), nil
}

// listMQueues, in the child: join the IPC namespace args[0] (if any) on this
// thread, mount mqueue for it in the child's private mount namespace, print
// its queues, one a line.
func listMQueues(args []string) int {
	runtime.LockOSThread()
	if err := joinIPC(args); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	dir, err := mountMQueue()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	for _, n := range names(dir) {
		fmt.Println(n)
	}
	return 0
}

func joinIPC(args []string) error {
	if len(args) == 0 || args[0] == "" {
		return nil
	}
	fd, err := unix.Open(args[0], unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("open IPC namespace %s: %w", args[0], err)
	}
	defer unix.Close(fd)
	if err := unix.Setns(fd, unix.CLONE_NEWIPC); err != nil {
		return fmt.Errorf("join IPC namespace %s: %w", args[0], err)
	}
	return nil
}

// mountMQueue mounts mqueue on a directory that exists; the mount namespace
// is the child's own and private, so nothing is seen outside.
func mountMQueue() (string, error) {
	for _, dir := range []string{"/dev/mqueue", "/tmp", "/mnt", "/run"} {
		if st, err := os.Stat(dir); err != nil || !st.IsDir() {
			continue
		}
		if err := unix.Mount("mqueue", dir, "mqueue", unix.MS_NOSUID|unix.MS_NODEV|unix.MS_NOEXEC, ""); err != nil {
			return "", fmt.Errorf("mount mqueue on %s: %w", dir, err)
		}
		return dir, nil
	}
	return "", fmt.Errorf("mount mqueue: none of /dev/mqueue, /tmp, /mnt, /run is a directory")
}
