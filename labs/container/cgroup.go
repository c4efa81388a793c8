//go:build linux

package container

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/nslab/nslab/pkg/labhost"
	"golang.org/x/sys/unix"
)

// Cgroups are a container's cgroup directories, or their parents'.
type Cgroups struct {
	V2     string // in the cgroup v2 hierarchy
	PidsV1 string // in a v1 pids hierarchy, on a hybrid machine whose v2 hierarchy has no pids controller; "" otherwise
}

// labCgroups finds, from inside the lab host, the cgroups the harness
// delegated to it (a step with Cgroup: true): the lab host's cgroup
// namespace is rooted at its v2 cgroup, so /proc/self/cgroup says only
// "0::/"; the lab host's mount namespace still shows the machine's
// hierarchies, where its cgroup is the labhost-* directory whose
// cgroup.procs lists this process (other lab hosts' processes are not in
// this PID namespace, so they are not listed as this PID).
func labCgroups() (Cgroups, error) {
	mounts, err := readMountinfo("/proc/self/mountinfo")
	if err != nil {
		return Cgroups{}, err
	}
	var cg Cgroups
	for _, m := range mounts {
		switch {
		case m.FSType == "cgroup2" && cg.V2 == "":
			cg.V2, _ = labhost.OwnCgroup(m.Target)
		case m.FSType == "cgroup" && hasFlag(m.Super, "pids") && cg.PidsV1 == "":
			cg.PidsV1, _ = labhost.OwnCgroup(m.Target)
		}
	}
	if cg.V2 == "" {
		return cg, errors.New("the lab host has no cgroup v2 directory of its own (is the step's Cgroup set?)")
	}
	if labhost.HasController(cg.V2, "pids") {
		cg.PidsV1 = "" // a pure v2 machine: pids is a v2 controller
	}
	return cg, nil
}

// evacuate moves every process of the v2 cgroup dir into a new leaf below
// it, so that dir may offer controllers to its children: cgroup v2 lets a
// cgroup other than the root hand out controllers only while no process is
// in it ("no internal processes", cgroups(7)).
func evacuate(dir, leaf string) error {
	to := filepath.Join(dir, leaf)
	if err := os.Mkdir(to, 0o755); err != nil {
		return fmt.Errorf("make cgroup %s: %w", to, err)
	}
	b, err := os.ReadFile(filepath.Join(dir, "cgroup.procs"))
	if err != nil {
		return err
	}
	for _, pid := range strings.Fields(string(b)) {
		if pid == "0" {
			continue
		}
		if err := os.WriteFile(filepath.Join(to, "cgroup.procs"), []byte(pid), 0); err != nil && !errors.Is(err, unix.ESRCH) {
			return fmt.Errorf("move PID %s into %s: %w", pid, to, err)
		}
	}
	return nil
}

// harnessV1Pids is the v1 pids twin of the lab host's cgroup, as the harness
// sees it, or "" on a machine without one (labhost.Host.PidsV1).
func harnessV1Pids(v2 string) string {
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		return ""
	}
	defer f.Close()
	mnt, ok := labhost.V1Mount(f, "pids")
	if !ok {
		return ""
	}
	dir := filepath.Join(mnt, labhost.CgroupParent, filepath.Base(v2))
	if _, err := os.Stat(dir); err != nil {
		return ""
	}
	return dir
}

// readInt reads a cgroup file holding one number ("max" reads as -1).
func readInt(path string) (int, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, err
	}
	s := strings.TrimSpace(string(b))
	if s == "max" {
		return -1, nil
	}
	return strconv.Atoi(s)
}

// eventCount reads the count of key in a flat-keyed file (pids.events: "max 3").
func eventCount(path, key string) (int, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, key+" "); ok {
			return strconv.Atoi(strings.TrimSpace(v))
		}
	}
	return 0, fmt.Errorf("%s has no %q", path, key)
}

// labCgroup makes the lab's own cgroup name for a container (steps other
// than 08): a directory in each of parent's, and no limit.
func labCgroup(parent Cgroups, name string) (Cgroups, error) {
	var cg Cgroups
	for _, p := range []struct {
		parent string
		dir    *string
	}{{parent.V2, &cg.V2}, {parent.PidsV1, &cg.PidsV1}} {
		if p.parent == "" {
			continue
		}
		*p.dir = filepath.Join(p.parent, name)
		if err := os.Mkdir(*p.dir, 0o755); err != nil {
			return cg, fmt.Errorf("make cgroup %s: %w", *p.dir, err)
		}
	}
	return cg, nil
}

// labStartIn is the lab's own StartIn: the box starts in cg.V2 (clone3
// with CLONE_INTO_CGROUP), then joins cg.PidsV1.
func labStartIn(b *box, cg Cgroups) error {
	dir, err := unix.Open(cg.V2, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("open cgroup %s: %w", cg.V2, err)
	}
	defer unix.Close(dir)
	b.cmd.SysProcAttr.UseCgroupFD, b.cmd.SysProcAttr.CgroupFD = true, dir
	if err := b.start(); err != nil {
		return fmt.Errorf("start the container in cgroup %s: %w", cg.V2, err)
	}
	if cg.PidsV1 != "" {
		if err := os.WriteFile(filepath.Join(cg.PidsV1, "cgroup.procs"), []byte(strconv.Itoa(b.PID())), 0); err != nil {
			return fmt.Errorf("move the container into %s: %w", cg.PidsV1, err)
		}
	}
	return nil
}
