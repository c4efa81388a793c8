//go:build linux

package cgroup

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/nslab/nslab/pkg/labhost"
	"golang.org/x/sys/unix"
)

// The lab's own cgroups. A step with a cgroup runs in a lab host created in
// a cgroup v2 directory delegated to it (its root owns it), so the lab
// host's cgroup namespace is rooted there and the runner reads "0::/". The
// runner reaches that directory through the machine's cgroup2 mount, which
// the lab host inherited (/sys/fs/cgroup, or /sys/fs/cgroup/unified on a
// hybrid machine): the lab host's is the one of the labhost-* directories
// under labhost.CgroupParent whose cgroup.procs lists the runner (another
// lab host's processes are not in its PID namespace). The runner mounts
// nothing in the lab host: its children that need a mount of their own
// have a mount namespace of their own. Every cgroup the lab makes is below
// the lab host's, and the harness removes them with the lab host.

// tree is the lab host's delegated cgroup, as the runner reaches it.
type tree struct {
	root string // the lab host's cgroup v2 directory, through the inherited mount
}

// openTree finds the lab host's cgroup v2 directory and makes the lab's
// cgroups names there (see make).
func openTree(names ...string) (*tree, error) {
	self, err := os.ReadFile("/proc/self/cgroup")
	if err != nil {
		return nil, err
	}
	if p, ok := pathIn(string(self), ""); !ok || p != "/" {
		return nil, fmt.Errorf("the runner's cgroup is %q in its own cgroup namespace; want the root, /: the step has no cgroup of its own", p)
	}
	root, err := ownCgroup(func(m mountEntry) bool { return m.FSType == "cgroup2" })
	if err != nil {
		return nil, err
	}
	t := &tree{root: root}
	return t, t.make(names...)
}

// ownCgroup returns the lab host's cgroup (labhost.OwnCgroup) in the
// hierarchy of the first mount that is.
func ownCgroup(is func(mountEntry) bool) (string, error) {
	info, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		return "", err
	}
	ms := mounts(string(info))
	i := slices.IndexFunc(ms, is)
	if i < 0 {
		return "", errors.New("no such cgroup hierarchy is mounted in the lab host")
	}
	point := ms[i].Point
	dir, ok := labhost.OwnCgroup(point)
	if !ok {
		return "", fmt.Errorf("none of the cgroups %s/%s/labhost-* holds the runner, PID %d", point, labhost.CgroupParent, os.Getpid())
	}
	return dir, nil
}

// dir is the directory of the lab's cgroup name (a path below the lab host's cgroup).
func (t *tree) dir(name string) string { return filepath.Join(t.root, name) }

// make makes the lab's cgroups names, in order (a parent before its children).
func (t *tree) make(names ...string) error {
	for _, name := range names {
		if err := os.Mkdir(t.dir(name), 0o755); err != nil {
			return fmt.Errorf("make the lab's cgroup %s: %w", name, err)
		}
	}
	return nil
}

// evacuate moves every process of the lab host's cgroup into its new child
// leaf: a cgroup v2 that hands a controller to its children may hold no
// process itself ("no internal processes", cgroups(7)).
func (t *tree) evacuate(leaf string) error {
	if err := t.make(leaf); err != nil {
		return err
	}
	for range 10 { // a process forked while the others moved is in the root still
		b, err := os.ReadFile(t.dir("cgroup.procs"))
		if err != nil {
			return err
		}
		pids := strings.Fields(string(b))
		if len(pids) == 0 {
			return nil
		}
		for _, pid := range pids {
			err := os.WriteFile(filepath.Join(t.dir(leaf), "cgroup.procs"), []byte(pid), 0)
			if err != nil && !errors.Is(err, unix.ESRCH) {
				return fmt.Errorf("move PID %s of the lab host into its cgroup %s: %w", pid, leaf, err)
			}
		}
	}
	return fmt.Errorf("processes keep appearing in the lab host's cgroup while the lab moves them into %s", leaf)
}

// pidsHome is where the lab host may set a pids limit.
type pidsHome struct {
	Version string // "v2": the lab host's cgroup v2 offers pids (a pure v2 machine); "v1": a v1 pids hierarchy (a hybrid machine)
	Dir     string // the lab host's cgroup in that hierarchy, as the runner reaches it
}

// pids finds the lab host's cgroup in the hierarchy of the pids controller.
// On cgroup v2 it first moves the lab host's processes into the leaf
// "host", so that the lab host's cgroup may hand pids to its children.
func (t *tree) pids() (pidsHome, error) {
	if labhost.HasController(t.root, "pids") {
		if err := t.evacuate("host"); err != nil {
			return pidsHome{}, err
		}
		if err := writeFile(t.root, "cgroup.subtree_control", "+pids"); err != nil {
			return pidsHome{}, fmt.Errorf("offer pids to the children of the lab host's cgroup: %w", err)
		}
		return pidsHome{Version: "v2", Dir: t.root}, nil
	}
	dir, err := ownCgroup(mountEntry.v1Pids)
	if err != nil {
		return pidsHome{}, fmt.Errorf("no pids controller here: the lab host's cgroup v2 does not offer it, and in a v1 pids hierarchy: %w", err)
	}
	return pidsHome{Version: "v1", Dir: dir}, nil
}

// writeFile writes text to the cgroup file name of dir.
func writeFile(dir, name, text string) error {
	if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0); err != nil {
		return fmt.Errorf("write %q to %s: %w", text, filepath.Join(dir, name), err)
	}
	return nil
}

// procCgroup reads /proc/PID/cgroup as the caller's cgroup namespace shows it.
func procCgroup(pid int) (string, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/cgroup")
	return string(b), err
}

// mountHierarchy mounts a cgroup file system of type fstype (cgroup2, or
// cgroup with the v1 controllers in opts) on dir, made first. Only the
// lab's children call it, each in a mount namespace of its own.
func mountHierarchy(dir, fstype, opts string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	if err := unix.Mount("none", dir, fstype, unix.MS_NOSUID|unix.MS_NODEV|unix.MS_NOEXEC, opts); err != nil {
		return fmt.Errorf("mount a %s file system on %s: %w", fstype, dir, err)
	}
	return nil
}
