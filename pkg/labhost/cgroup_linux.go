//go:build linux

package labhost

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
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

// OwnCgroup returns, from inside a lab host, the lab host's cgroup in the
// hierarchy mounted at mountpoint (a mount of the machine's, which the lab
// host inherits): the labhost-* directory under mountpoint/CgroupParent
// whose cgroup.procs lists the caller. Another lab host's processes are not
// in the caller's PID namespace, so no other labhost-* directory lists the
// caller's PID. ok is false when none lists it.
func OwnCgroup(mountpoint string) (dir string, ok bool) {
	dirs, _ := filepath.Glob(filepath.Join(mountpoint, CgroupParent, "labhost-*"))
	self := strconv.Itoa(os.Getpid())
	for _, dir := range dirs {
		b, err := os.ReadFile(filepath.Join(dir, "cgroup.procs"))
		if err == nil && slices.Contains(strings.Fields(string(b)), self) {
			return dir, true
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

// delegateV1Pids makes name in the v1 pids hierarchy, under CgroupParent,
// owned by the lab host's root, when the machine has one and its v2
// hierarchy has no pids controller; "" otherwise.
func delegateV1Pids(name string, uid, gid int) (string, error) {
	root, err := CgroupV2Root()
	if err != nil || HasController(root, "pids") {
		return "", nil
	}
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		return "", fmt.Errorf("find the v1 pids hierarchy: %w", err)
	}
	defer f.Close()
	v1, ok := V1Mount(f, "pids")
	if !ok {
		return "", nil
	}
	parent := filepath.Join(v1, CgroupParent)
	dir := filepath.Join(parent, name)
	for range 5 { // another lab host that ends may remove parent in between (see removeParent)
		if err = os.Mkdir(parent, 0o755); err != nil && !errors.Is(err, os.ErrExist) {
			return "", fmt.Errorf("make cgroup %s: %w", parent, err)
		}
		sweepV1(parent)
		if err = os.Mkdir(dir, 0o755); !errors.Is(err, os.ErrNotExist) {
			break
		}
	}
	if err != nil {
		return "", fmt.Errorf("make cgroup %s: %w", dir, err)
	}
	for _, f := range []string{".", "cgroup.procs", "tasks"} {
		if err := os.Chown(filepath.Join(dir, f), uid, gid); err != nil {
			removeCgroup(dir)
			return "", fmt.Errorf("delegate cgroup %s to UID %d: %w", dir, uid, err)
		}
	}
	return dir, nil
}

// sweepV1 removes the labhost-* cgroups of a v1 hierarchy that no process is in.
func sweepV1(parent string) {
	dirs, _ := filepath.Glob(filepath.Join(parent, "labhost-*"))
	for _, dir := range dirs {
		if stale(dir) && v1Empty(dir) {
			removeCgroup(dir)
		}
	}
}

// v1Empty reports whether no process is in the v1 cgroup dir or below it.
func v1Empty(dir string) bool {
	b, err := os.ReadFile(filepath.Join(dir, "cgroup.procs"))
	if err != nil || strings.TrimSpace(string(b)) != "" {
		return false
	}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if e.IsDir() && !v1Empty(filepath.Join(dir, e.Name())) {
			return false
		}
	}
	return true
}

// HasController reports whether the cgroup v2 directory dir offers controller c.
func HasController(dir, c string) bool {
	b, err := os.ReadFile(filepath.Join(dir, "cgroup.controllers"))
	return err == nil && slices.Contains(strings.Fields(string(b)), c)
}

// enablePids offers the pids controller to the lab hosts' cgroups under
// parent, where the v2 hierarchy has it (a pure v2 machine); best effort.
func enablePids(parent string) {
	if HasController(parent, "pids") {
		os.WriteFile(filepath.Join(parent, "cgroup.subtree_control"), []byte("+pids"), 0)
	}
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
		enablePids(parent)
		dir, err := os.MkdirTemp(parent, fmt.Sprintf("labhost-%d-", os.Getpid()))
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

// stale reports whether the labhost-PID-N cgroup dir was made by a process
// that is gone: a lab host being made is empty for a moment, between the
// mkdir and its init's clone into it, and must not be swept by another.
func stale(dir string) bool {
	rest := strings.TrimPrefix(filepath.Base(dir), "labhost-")
	owner, _, _ := strings.Cut(rest, "-")
	pid, err := strconv.Atoi(owner)
	switch {
	case err != nil || pid <= 0:
		return true
	case pid == os.Getpid():
		return false
	}
	return errors.Is(unix.Kill(pid, 0), unix.ESRCH)
}

// sweepCgroups removes the labhost-* cgroups no process is in any more.
func sweepCgroups(parent string) {
	dirs, _ := filepath.Glob(filepath.Join(parent, "labhost-*"))
	for _, dir := range dirs {
		if stale(dir) && !populated(dir) {
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
