//go:build linux

package cgroup

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/nslab/nslab/pkg/ns"
	"github.com/nslab/nslab/pkg/spawn"
	"golang.org/x/sys/unix"
)

// StartInNewCgroup is step 01: start args as a child that is created in the
// cgroup v2 directory dir and gets a new cgroup namespace, and nothing else
// new, held before it runs (the caller releases it). The new namespace is
// rooted at the cgroup the child is in when it is made: dir.
func StartInNewCgroup(ctx context.Context, dir string, args []string) (*spawn.Child, error) {
	// BEGIN SOLUTION
	return spawn.Start(ctx, spawn.Config{New: []ns.Kind{ns.Cgroup}, CgroupDir: dir, Args: args})
	// END SOLUTION
}

// ParseCgroup is step 02: parse the text of /proc/PID/cgroup, one Membership
// a line, each "hierarchy-ID:controllers:path" (cgroups(7)). The path is
// everything after the second colon, exactly as the kernel wrote it (it may
// hold colons, and start with /..); an empty controllers field (cgroup v2)
// gives no controllers. Empty text has no lines; a line of another shape,
// a hierarchy ID that is not a number of 0 or more, or a path that does not
// start with "/", is an error that names the line.
func ParseCgroup(text string) ([]Membership, error) {
	// BEGIN SOLUTION
	var out []Membership
	for line := range strings.Lines(text) {
		line = strings.TrimSuffix(line, "\n")
		id, rest, ok1 := strings.Cut(line, ":")
		controllers, path, ok2 := strings.Cut(rest, ":")
		n, err := strconv.Atoi(id)
		if !ok1 || !ok2 || err != nil || n < 0 || !strings.HasPrefix(path, "/") {
			return nil, fmt.Errorf("line %q: want hierarchy-ID:controllers:path", line)
		}
		m := Membership{Hierarchy: n, Path: path}
		if controllers != "" {
			m.Controllers = strings.Split(controllers, ",")
		}
		out = append(out, m)
	}
	return out, nil
	// END SOLUTION
}

// CgroupOf is step 03: the cgroup v2 path of process pid as the caller's
// cgroup namespace shows it: the path of the line of /proc/PID/cgroup whose
// hierarchy ID is 0, exactly as the kernel wrote it. A process in a cgroup
// outside the caller's namespace root shows as /.. and what follows. When
// the file cannot be read (no process has that PID), the error wraps the
// kernel's.
func CgroupOf(pid int) (string, error) {
	// BEGIN SOLUTION
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/cgroup", pid))
	if err != nil {
		return "", err
	}
	for line := range strings.Lines(string(b)) {
		if path, ok := strings.CutPrefix(strings.TrimSuffix(line, "\n"), "0::"); ok {
			return path, nil
		}
	}
	return "", fmt.Errorf("/proc/%d/cgroup has no cgroup v2 line (0::PATH)", pid)
	// END SOLUTION
}

// MoveTo is step 04: move process pid, with every thread of it, into the
// cgroup whose directory is dir, by writing its PID to dir/cgroup.procs.
// When the kernel refuses (ESRCH: no process has that PID), the error wraps
// the kernel's.
func MoveTo(dir string, pid int) error {
	// BEGIN SOLUTION
	if err := os.WriteFile(filepath.Join(dir, "cgroup.procs"), []byte(strconv.Itoa(pid)), 0); err != nil {
		return fmt.Errorf("move PID %d into %s: %w", pid, dir, err)
	}
	return nil
	// END SOLUTION
}

// MountCgroup2 is step 05: mount a new cgroup2 file system on target, an
// existing directory, nosuid, nodev and noexec as every cgroup file system
// is mounted; the kernel's error, wrapped, when it refuses. In a cgroup namespace other than the machine's, it
// shows the namespace's root cgroup and the cgroups below it, nothing else.
// The lab runs it in a child that has new cgroup and mount namespaces.
func MountCgroup2(target string) error {
	// BEGIN SOLUTION
	if err := unix.Mount("cgroup2", target, "cgroup2", unix.MS_NOSUID|unix.MS_NODEV|unix.MS_NOEXEC, ""); err != nil {
		return fmt.Errorf("mount cgroup2 on %s: %w", target, err)
	}
	return nil
	// END SOLUTION
}

// ReadPids is step 06: read the pids controller's files of the cgroup whose
// directory is dir: pids.max, the most tasks the cgroup and its descendants
// may hold ("max": NoLimit), and pids.current, how many they hold now. A
// file that cannot be read, or that holds neither a number nor "max", is an
// error that names the file and wraps the one that refused it (the
// kernel's, strconv's).
func ReadPids(dir string) (Pids, error) {
	// BEGIN SOLUTION
	read := func(name string) (int64, error) {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			return 0, err
		}
		text := strings.TrimSpace(string(b))
		if text == "max" {
			return NoLimit, nil
		}
		n, err := strconv.ParseInt(text, 10, 64)
		if err != nil {
			return 0, fmt.Errorf("%s/%s: %w", dir, name, err)
		}
		return n, nil
	}
	var p Pids
	var err error
	if p.Max, err = read("pids.max"); err != nil {
		return p, err
	}
	p.Current, err = read("pids.current")
	return p, err
	// END SOLUTION
}
