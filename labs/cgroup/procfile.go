//go:build linux

package cgroup

import (
	"fmt"
	"slices"
	"strings"

	"github.com/nslab/nslab/pkg/host"
)

// Membership is one line of /proc/PID/cgroup: the process's cgroup in one
// hierarchy, as the reader's cgroup namespace shows it.
type Membership struct {
	Hierarchy   int      `json:"hierarchy"`   // 0 for cgroup v2; a v1 hierarchy's ID otherwise
	Controllers []string `json:"controllers"` // a v1 hierarchy's controllers (cpu, cpuacct; name=systemd); none for v2
	Path        string   `json:"path"`        // the cgroup, from the root of the reader's cgroup namespace
}

func (m Membership) String() string {
	return fmt.Sprintf("%d:%s:%s", m.Hierarchy, strings.Join(m.Controllers, ","), m.Path)
}

// pathIn returns the path of one line of /proc/PID/cgroup text: the cgroup
// v2 line (hierarchy ID 0) for controller "", else the line of the v1
// hierarchy that has controller. It is the lab's own reading, used to
// check the learner's code.
func pathIn(text, controller string) (string, bool) {
	for line := range strings.Lines(text) {
		id, rest, _ := strings.Cut(strings.TrimSuffix(line, "\n"), ":")
		ctrl, path, ok := strings.Cut(rest, ":")
		if !ok {
			continue
		}
		if controller == "" && id == "0" || controller != "" && slices.Contains(strings.Split(ctrl, ","), controller) {
			return path, true
		}
	}
	return "", false
}

// v2Path is the cgroup v2 path in text, the /proc/PID/cgroup of pid, read
// with err.
func v2Path(pid int, text string, err error) (string, error) {
	if err != nil {
		return "", fmt.Errorf("read /proc/%d/cgroup: %w", pid, err)
	}
	p, ok := pathIn(text, "")
	if !ok {
		return "", fmt.Errorf("/proc/%d/cgroup has no cgroup v2 line: %q", pid, text)
	}
	return p, nil
}

// seenFrom returns how a reader whose cgroup namespace is rooted at root
// sees cgroup p (both paths in one view, such as the machine's): the
// kernel's path from root to p, "/.." for each level up to their common
// ancestor, then down (cgroup_namespaces(7)): "/" for root itself, "/sub"
// below it, "/../sibling" beside it, "/.." for its parent.
func seenFrom(root, p string) string {
	split := func(s string) []string {
		return slices.DeleteFunc(strings.Split(s, "/"), func(x string) bool { return x == "" })
	}
	r, q := split(root), split(p)
	k := 0
	for k < len(r) && k < len(q) && r[k] == q[k] {
		k++
	}
	var parts []string
	for range len(r) - k {
		parts = append(parts, "..")
	}
	return "/" + strings.Join(append(parts, q[k:]...), "/")
}

// mountEntry is what the lab reads of one line of /proc/PID/mountinfo.
type mountEntry struct {
	Root    string // the root of the mount within its file system; for a cgroup file system, as the reader's cgroup namespace shows it
	Point   string // the mount point
	FSType  string
	Options string // the mount's own options: rw,nosuid,nodev,noexec,relatime
	Super   string // the super block's options (for cgroup v1, the controllers)
}

// hasOptions reports whether the mount has each of the options.
func (m mountEntry) hasOptions(opts ...string) bool {
	have := strings.Split(m.Options, ",")
	for _, o := range opts {
		if !slices.Contains(have, o) {
			return false
		}
	}
	return true
}

// mounts reads mountinfo text (proc(5), host.ParseMountinfo); lines it
// cannot read are left out.
func mounts(text string) []mountEntry {
	var out []mountEntry
	for _, m := range host.ParseMountinfo(text) {
		out = append(out, mountEntry{Root: m.Root, Point: m.Target, FSType: m.FSType, Options: m.Options, Super: m.SuperOptions})
	}
	return out
}

// mountAt returns the topmost mount on point.
func mountAt(ms []mountEntry, point string) (mountEntry, bool) {
	for _, m := range slices.Backward(ms) {
		if m.Point == point {
			return m, true
		}
	}
	return mountEntry{}, false
}

// v1Pids reports whether m is a cgroup v1 mount of the pids controller.
func (m mountEntry) v1Pids() bool {
	return m.FSType == "cgroup" && slices.Contains(strings.Split(m.Super, ","), "pids")
}
