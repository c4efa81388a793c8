//go:build linux

package labhost

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// CgroupParent is the directory, under the root of the cgroup v2 hierarchy,
// that holds the cgroups delegated to lab hosts: one labhost-* directory each.
const CgroupParent = "nslab"

// delegated are the files of a cgroup that its delegate must own
// (cgroups(7), "Cgroups v2 delegation").
var delegated = []string{".", "cgroup.procs", "cgroup.threads", "cgroup.subtree_control"}

// CgroupV2Root returns where the cgroup v2 hierarchy is mounted with its
// root visible: /sys/fs/cgroup on a pure v2 machine, /sys/fs/cgroup/unified
// on a hybrid one.
func CgroupV2Root() (string, error) {
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		return "", fmt.Errorf("find the cgroup v2 hierarchy: %w", err)
	}
	defer f.Close()
	if dir, ok := V2Mount(f); ok {
		return dir, nil
	}
	return "", errors.New("find the cgroup v2 hierarchy: no cgroup2 file system is mounted with its root (see /proc/self/mountinfo)")
}

// V2Mount returns the mount point of the first cgroup2 mount whose root is
// the hierarchy's root, from mountinfo text.
func V2Mount(mountinfo io.Reader) (string, bool) {
	sc := bufio.NewScanner(mountinfo)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		sep := -1
		for i, x := range f {
			if x == "-" {
				sep = i
				break
			}
		}
		if sep < 0 || sep+1 >= len(f) || len(f) < 5 {
			continue
		}
		if f[sep+1] == "cgroup2" && f[3] == "/" {
			return f[4], true
		}
	}
	return "", false
}

// CheckCgroup says whether a lab host can be given a cgroup of its own.
func CheckCgroup() error {
	if Bare() {
		return errors.New("NSLAB_BARE=1: no lab host, so no cgroup is delegated to one")
	}
	root, err := CgroupV2Root()
	if err != nil {
		return err
	}
	if unix.Access(root, unix.W_OK) != nil {
		return fmt.Errorf("the cgroup v2 hierarchy at %s is not writable by UID %d (run as root, or from a cgroup delegated to you)", root, os.Geteuid())
	}
	return nil
}

// delegateCgroup makes a labhost-* cgroup under CgroupParent owned by the
// lab host's root (uid, gid on the machine), first removing the ones that
// lab hosts killed before they could clean up left behind.
func delegateCgroup(uid, gid int) (string, error) {
	root, err := CgroupV2Root()
	if err != nil {
		return "", err
	}
	parent := filepath.Join(root, CgroupParent)
	dir, err := makeCgroup(parent)
	if err != nil {
		return "", err
	}
	for _, name := range delegated {
		if err := os.Chown(filepath.Join(dir, name), uid, gid); err != nil {
			removeCgroup(dir)
			return "", fmt.Errorf("delegate cgroup %s to UID %d: %w", dir, uid, err)
		}
	}
	return dir, nil
}

// makeCgroup makes a labhost-* cgroup in parent, and parent when needed:
// another lab host that ends may remove parent in between (see removeParent).
func makeCgroup(parent string) (string, error) {
	var err error
	for range 5 {
		if err = os.Mkdir(parent, 0o755); err != nil && !errors.Is(err, os.ErrExist) {
			return "", fmt.Errorf("make cgroup %s: %w", parent, err)
		}
		sweepCgroups(parent)
		dir, err := os.MkdirTemp(parent, "labhost-")
		if err == nil {
			return dir, nil
		}
		if !errors.Is(err, os.ErrNotExist) {
			return "", fmt.Errorf("make a cgroup in %s: %w", parent, err)
		}
	}
	return "", fmt.Errorf("make a cgroup in %s: %w", parent, err)
}

// removeParent removes CgroupParent once no lab host has a cgroup in it, so
// that the machine is left as it was; it fails harmlessly while one has.
func removeParent(dir string) { unix.Rmdir(filepath.Dir(dir)) }

// sweepCgroups removes the labhost-* cgroups no process is in any more.
func sweepCgroups(parent string) {
	dirs, _ := filepath.Glob(filepath.Join(parent, "labhost-*"))
	for _, dir := range dirs {
		if !populated(dir) {
			removeCgroup(dir)
		}
	}
}

// populated reads "populated 1" in cgroup.events: a process is in the cgroup or below.
func populated(dir string) bool {
	b, err := os.ReadFile(filepath.Join(dir, "cgroup.events"))
	return err != nil || strings.Contains(string(b), "populated 1")
}

// removeCgroup removes dir and the cgroups under it, deepest first, once
// the processes in them are gone (the kernel reaps a killed lab host a
// moment after its init has been waited for).
func removeCgroup(dir string) error {
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if e.IsDir() {
			removeCgroup(filepath.Join(dir, e.Name()))
		}
	}
	var err error
	for range 200 {
		if err = unix.Rmdir(dir); err == nil || errors.Is(err, unix.ENOENT) {
			return nil
		}
		if !errors.Is(err, unix.EBUSY) {
			break
		}
		time.Sleep(10 * time.Millisecond) // the kernel is still tearing the last process down
	}
	return fmt.Errorf("remove cgroup %s: %w", dir, err)
}
