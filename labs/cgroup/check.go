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

	"github.com/nslab/nslab/pkg/host"
	"github.com/nslab/nslab/pkg/lab"
	"github.com/nslab/nslab/pkg/labhost"
	"github.com/nslab/nslab/pkg/ns"
)

// The check halves of the steps: in the harness, they verify the reports
// of run.go against the kernel where it still holds the facts (the
// delegated cgroup directory, /proc/PID/cgroup and mountinfo of the held
// children, read from the machine's cgroup namespace and from theirs),
// narrate, and return what the kernel was expected to do and did not.

func checkNewNamespace(c *lab.Check, r newNamespaceReport) error {
	if err := c.NewKindsOnly(r.PID, "child", ns.Cgroup); err != nil {
		return err
	}
	root, outside, inside, err := views(c, r.PID, r.ChildView)
	if err != nil {
		return err
	}
	c.Say("the child's cgroup, in /proc/%d/cgroup as each reader's cgroup namespace shows it:", r.PID)
	c.Say("  the machine (the harness):      %s", outside)
	c.Say("  the lab host (the runner):      %s", r.RunnerView)
	c.Say("  the child's own namespace:      %s", inside)
	if want := join(root, r.Dir); outside != want {
		return c.Failf("the child is in cgroup %s; want %s, the directory StartInNewCgroup was given: create it there (spawn.Config.CgroupDir: clone3 with CLONE_INTO_CGROUP)", outside, want)
	}
	if inside != "/" {
		return c.Failf("in its own cgroup namespace the child's cgroup reads %s; want /: a new cgroup namespace is rooted at the cgroup the child is in when it is made, so create the child in %s with its new namespace, rather than move it there afterwards", inside, r.Dir)
	}
	c.Check(true, "the child sees its cgroup as /, the root of its namespace; outside, it is %s", outside)
	return nil
}

// parseCases are the table of step 02: ParseCgroup of text is want, or an
// error when bad.
var parseCases = []struct {
	name, text string
	want       []Membership
	bad        bool
	line       string // the line a bad text's error must name
}{
	{name: "v2 only", text: "0::/\n", want: []Membership{{Path: "/"}}},
	{name: "hybrid", text: "9:name=systemd:/user.slice\n2:cpu,cpuacct:/\n0::/user.slice/session-1.scope\n",
		want: []Membership{{9, []string{"name=systemd"}, "/user.slice"}, {2, []string{"cpu", "cpuacct"}, "/"}, {0, nil, "/user.slice/session-1.scope"}}},
	{name: "outside the namespace root", text: "0::/../sibling\n", want: []Membership{{Path: "/../sibling"}}},
	{name: "colon in the path", text: "0::/lab:a/b\n", want: []Membership{{Path: "/lab:a/b"}}},
	{name: "space in the path", text: "0::/a b\n", want: []Membership{{Path: "/a b"}}},
	{name: "no final newline", text: "4:pids:/x", want: []Membership{{4, []string{"pids"}, "/x"}}},
	{name: "empty", text: ""},
	{name: "two fields", text: "0:/\n", bad: true, line: "0:/"},
	{name: "hierarchy not a number", text: "x::/\n", bad: true, line: "x::/"},
	{name: "negative hierarchy", text: "-1::/\n", bad: true, line: "-1::/"},
	{name: "relative path", text: "0::a\n", bad: true, line: "0::a"},
	{name: "bad second line", text: "0::/\ngarbage\n", bad: true, line: "garbage"},
}

// sameMemberships compares two parses; no controllers and an empty list are the same.
func sameMemberships(a, b []Membership) bool {
	return slices.EqualFunc(a, b, func(x, y Membership) bool {
		return x.Hierarchy == y.Hierarchy && x.Path == y.Path && slices.Equal(x.Controllers, y.Controllers)
	})
}

func checkParse(c *lab.Check, r parseReport) error {
	if len(r.Cases) != len(parseCases) {
		return fmt.Errorf("the report has %d cases of ParseCgroup, want %d", len(r.Cases), len(parseCases))
	}
	for i, tc := range parseCases {
		got := r.Cases[i]
		if (got.Err != "") != tc.bad || !tc.bad && !sameMemberships(got.Got, tc.want) {
			return c.Failf("ParseCgroup(%q) (%s) = %v, error %q; want %v, error %v", tc.text, tc.name, got.Got, got.Err, tc.want, tc.bad)
		}
		if tc.bad && !strings.Contains(got.Err, tc.line) {
			return c.Failf("ParseCgroup(%q) (%s) returned the error %q; want an error that names the line it cannot read, %q", tc.text, tc.name, got.Err, tc.line)
		}
	}
	c.Check(true, "ParseCgroup gets the %d cases of the table right", len(parseCases))
	want, err := parseOwn(r.Own.Text)
	if err != nil {
		return err
	}
	c.Say("the runner's /proc/self/cgroup, in the lab host's cgroup namespace:")
	for line := range strings.Lines(r.Own.Text) {
		c.Say("  %s", strings.TrimSuffix(line, "\n"))
	}
	if r.Own.Err != "" || !sameMemberships(r.Own.Got, want) {
		return c.Failf("ParseCgroup of the runner's /proc/self/cgroup = %v, error %q; want %v", r.Own.Got, r.Own.Err, want)
	}
	c.Check(true, "ParseCgroup reads the runner's own %d lines", len(want))
	return nil
}

// parseOwn is the lab's own parse of /proc/PID/cgroup text, for the check.
func parseOwn(text string) ([]Membership, error) {
	var out []Membership
	for line := range strings.Lines(text) {
		f := strings.SplitN(strings.TrimSuffix(line, "\n"), ":", 3)
		if len(f) != 3 {
			return nil, fmt.Errorf("the runner's /proc/self/cgroup has a line %q the lab cannot read", line)
		}
		id, err := strconv.Atoi(f[0])
		if err != nil {
			return nil, fmt.Errorf("the runner's /proc/self/cgroup has a line %q the lab cannot read", line)
		}
		m := Membership{Hierarchy: id, Path: f[2]}
		if f[1] != "" {
			m.Controllers = strings.Split(f[1], ",")
		}
		out = append(out, m)
	}
	return out, nil
}

func checkView(c *lab.Check, r viewReport) error {
	host, viewer, err := c.HostAnd(r.Viewer, "the viewer")
	if err != nil {
		return err
	}
	c.Compare(host, viewer, fmt.Sprintf("viewer (PID %d)", r.Viewer))
	h, _ := host.Get(ns.Cgroup)
	v, _ := viewer.Get(ns.Cgroup)
	if h.Equal(v) {
		return fmt.Errorf("the lab's viewer, PID %d, is in the runner's cgroup namespace %s; the kernel did not give it one of its own", r.Viewer, h)
	}
	nsRoot, err := harnessPath(c, r.Viewer)
	if err != nil {
		return err
	}
	targets := []struct {
		who string
		pid int
	}{{"the viewer itself", r.Viewer}, {"a process in /ns/sub", r.Sub}, {"a process in /sibling", r.Sibling}, {"the runner", r.Runner}}
	if len(r.Seen) != len(targets) {
		return fmt.Errorf("the viewer reported %d processes, want %d", len(r.Seen), len(targets))
	}
	c.Say("the viewer's cgroup namespace is rooted at %s; CgroupOf in it:", nsRoot)
	for i, tg := range targets {
		got := r.Seen[i]
		full, err := harnessPath(c, tg.pid)
		if err != nil {
			return err
		}
		want := seenFrom(nsRoot, full)
		if k, err := visitPath(c, r.Viewer, tg.pid); err == nil {
			want = k // the kernel's own answer, read by the harness in the viewer's namespace
		} else if !errors.Is(err, lab.ErrNoVisit) {
			return err
		}
		c.Say("  %-22s PID %-4d %-36s -> %s", tg.who, tg.pid, full, got.Path)
		if got.PID != tg.pid || got.Err != "" || got.Path != want {
			return c.Failf("CgroupOf(%d), %s, in the viewer's cgroup namespace = %q, error %q; want %q, the path of the 0:: line of /proc/%d/cgroup exactly as the kernel writes it for a reader rooted at %s", tg.pid, tg.who, got.Path, got.Err, want, tg.pid, nsRoot)
		}
	}
	c.Check(true, "CgroupOf shows each process from the viewer's namespace root: below as /sub, outside as /..")
	if err := checkRefused(c, r.Ended); err != nil {
		return err
	}
	return nil
}

func checkMove(c *lab.Check, r moveReport) error {
	root, outside, inside, err := views(c, r.PID, r.ChildView)
	if err != nil {
		return err
	}
	procs := filepath.Join(c.Cgroup, r.Dir, "cgroup.procs")
	in, err := labPIDs(procs)
	if err != nil {
		return err
	}
	runner, err := harnessPath(c, c.Runner)
	if err != nil {
		return err
	}
	c.Say("MoveTo(%s, %d); %s lists lab host PIDs %v", r.Dir, r.PID, procs, in)
	c.Say("the child's cgroup: %s from the machine, %s from the lab host, %s in its own namespace", outside, r.RunnerView, inside)
	switch {
	case !slices.Contains(in, r.PID):
		return c.Failf("after MoveTo(%s, %d), %s lists the lab host's PIDs %v; want the child's, %d (write the PID given to cgroup.procs of that directory)", r.Dir, r.PID, procs, in, r.PID)
	case runner != root:
		return c.Failf("after MoveTo the runner, PID %d, is in cgroup %s; want it where it was, %s: MoveTo moved the caller, not process pid", c.Runner, runner, root)
	case outside != join(root, r.Dir):
		return c.Failf("the child is in cgroup %s; want %s", outside, join(root, r.Dir))
	case inside != "/sub":
		return c.Failf("in its own cgroup namespace (rooted at /four) the moved child reads %s; want /sub", inside)
	}
	c.Check(true, "the child moved below its namespace's root: /sub inside, %s outside", outside)
	if err := checkRefused(c, r.Ended); err != nil {
		return err
	}
	return nil
}

func checkFreshMount(c *lab.Check, r mountReport) error {
	root, err := labRoot(c)
	if err != nil {
		return err
	}
	v2, err := labhost.CgroupV2Root()
	if err != nil {
		return err
	}
	text, err := c.ReadFile(r.PID, "mountinfo")
	if err != nil {
		return err
	}
	out := mounts(text)
	fresh, ok := mountAt(out, r.Target)
	if !ok {
		return c.Failf("the child's mountinfo has no mount on %s after MountCgroup2(%s)", r.Target, r.Target)
	}
	inside := r.Inside.Mountinfo
	if err := c.Do(r.PID, []ns.Kind{ns.Cgroup}, func() error {
		inside, err = c.ReadFile(r.PID, "mountinfo")
		return err
	}); err != nil && !errors.Is(err, lab.ErrNoVisit) {
		return err
	}
	in := mounts(inside)
	freshIn, _ := mountAt(in, r.Target)
	inherited, _ := mountAt(out, v2)
	inheritedIn, _ := mountAt(in, v2)
	c.Say("the child's mountinfo, root field (the cgroup a mount shows as its top) and type:")
	c.Say("  %-26s from the machine: %-36s from the child: %s", v2+" (inherited)", inherited.Root, inheritedIn.Root)
	c.Say("  %-26s from the machine: %-36s from the child: %s (%s)", r.Target+" (new)", fresh.Root, freshIn.Root, fresh.FSType)
	want := join(root, "/five")
	switch {
	case fresh.FSType != "cgroup2":
		return c.Failf("the mount on %s is a %s; want a new cgroup2", r.Target, fresh.FSType)
	case fresh.Root != want:
		return c.Failf("the cgroup2 on %s shows the cgroup %s as its top; want %s, the root of the child's cgroup namespace: mount a new cgroup2 file system there, not a bind mount of the one the child inherited", r.Target, fresh.Root, want)
	case freshIn.Root != "/":
		return c.Failf("from the child's own cgroup namespace, the root of the mount on %s reads %q; want /", r.Target, freshIn.Root)
	case !fresh.hasOptions("nosuid", "nodev", "noexec"):
		return c.Failf("the cgroup2 on %s is mounted with the options %s; want nosuid, nodev and noexec, as every cgroup file system is mounted (its files are not programs or devices)", r.Target, fresh.Options)
	}
	listing, err := cgroupDirs(filepath.Join(c.ProcDir(r.PID), "root", r.Target))
	if err != nil {
		return err
	}
	c.Say("the cgroups under %s, seen through the child's root: %v", r.Target, listing)
	if !slices.Contains(listing, "inner") || slices.Contains(listing, "next") || slices.Contains(listing, "five") {
		return c.Failf("under %s the child sees the cgroups %v; want those of its namespace's root, /five: [inner]", r.Target, listing)
	}
	c.Check(true, "the new cgroup2 shows the child's namespace root (%s outside, / inside) and nothing above or beside it", want)
	if err := checkRefused(c, r.Absent); err != nil {
		return err
	}
	return nil
}

func checkLimit(c *lab.Check, r limitReport) error {
	host, child, err := c.HostAnd(r.PID, "the child")
	if err != nil {
		return err
	}
	h, _ := host.Get(ns.Cgroup)
	k, _ := child.Get(ns.Cgroup)
	if h.IsZero() || h.Equal(k) {
		return fmt.Errorf("the lab's child, PID %d, is in the runner's cgroup namespace %s; the kernel did not give it one of its own", r.PID, h)
	}
	limited, err := pidsCgroup(c, r)
	if err != nil {
		return err
	}
	open := filepath.Join(filepath.Dir(limited), "open")
	maxOut, err := os.ReadFile(filepath.Join(limited, "pids.max"))
	if err != nil {
		return err
	}
	openOut, err := os.ReadFile(filepath.Join(open, "pids.max"))
	if err != nil {
		return err
	}
	view, _ := pathIn(r.Inside.Cgroup, pidsController(r.Version))
	c.Say("the pids limit of /limited (cgroup %s), side by side:", r.Version)
	c.Say("  the machine reads %s/pids.max: %s", limited, strings.TrimSpace(string(maxOut)))
	c.Say("  the runner's ReadPids of /limited:               %s", r.Limited)
	c.Say("  the child, in its own cgroup namespace, sees its cgroup as %s; ReadPids(%s): %s", view, r.Inside.Dir, r.Inside.Pids)
	c.Say("  /open, no limit: the machine reads %s; the runner's ReadPids: %s", strings.TrimSpace(string(openOut)), r.Open)
	want := strconv.FormatInt(r.Max, 10)
	switch {
	case strings.TrimSpace(string(maxOut)) != want:
		return fmt.Errorf("the lab wrote %s to pids.max of /limited, and the machine reads %q there", want, maxOut)
	case strings.TrimSpace(string(openOut)) != "max":
		return fmt.Errorf("pids.max of /open reads %q from the machine; the lab wants max there", openOut)
	case r.Open != Pids{Max: NoLimit}:
		return c.Failf("ReadPids of /open, an empty cgroup without a limit, = %+v; want {Max: NoLimit (-1, for \"max\"), Current: 0}", r.Open)
	case r.Limited.Max != r.Max:
		return c.Failf("ReadPids of /limited, from the runner, = %+v; want Max %d, what its pids.max holds", r.Limited, r.Max)
	case r.Inside.Pids.Max != r.Max:
		return c.Failf("ReadPids of its own cgroup, in the child's cgroup namespace, = %+v; want Max %d: the namespace shows the same cgroup, with the same limit", r.Inside.Pids, r.Max)
	case r.Inside.Pids.Current < 1 || r.Inside.Pids.Current > r.Max:
		return c.Failf("ReadPids of its own cgroup, in the child = %+v; want Current between 1 (the child is in it) and %d", r.Inside.Pids, r.Max)
	}
	c.Check(true, "one cgroup, one limit: %d from the machine, from the lab host and from inside the child's namespace, where its cgroup is %s", r.Max, view)
	for _, ref := range []refusal{r.Empty, r.Garbled} {
		if err := checkRefused(c, ref); err != nil {
			return err
		}
	}
	return nil
}

// pidsCgroup is /limited of the pids hierarchy, as the harness reaches it.
func pidsCgroup(c *lab.Check, r limitReport) (string, error) {
	switch r.Version {
	case "v2":
		return filepath.Join(c.Cgroup, "limited"), nil
	case "v1":
		text, err := c.ReadFile(r.PID, "cgroup")
		if err != nil {
			return "", err
		}
		p, ok := pathIn(text, "pids")
		self, err := os.ReadFile("/proc/self/mountinfo")
		if err != nil {
			return "", err
		}
		mp, mok := labhost.V1Mount(strings.NewReader(string(self)), "pids")
		if !ok || !mok || !strings.HasSuffix(p, "/limited") {
			return "", fmt.Errorf("the child, PID %d, is not in a v1 pids cgroup named limited (its /proc/PID/cgroup: %q)", r.PID, text)
		}
		return filepath.Join(mp, p), nil
	}
	return "", fmt.Errorf("the report names no pids hierarchy (%q)", r.Version)
}

func pidsController(version string) string {
	if version == "v1" {
		return "pids"
	}
	return ""
}

// labRoot is the lab host's cgroup as the machine's cgroup namespace shows
// it: c.Cgroup, from the root of the cgroup v2 hierarchy.
func labRoot(c *lab.Check) (string, error) {
	if c.Cgroup == "" {
		return "", errors.New("the step's lab host has no cgroup of its own")
	}
	v2, err := labhost.CgroupV2Root()
	if err != nil {
		return "", err
	}
	rel, err := filepath.Rel(v2, c.Cgroup)
	if err != nil || strings.HasPrefix(rel, "..") {
		return "", fmt.Errorf("the lab host's cgroup %s is not under the cgroup v2 hierarchy at %s", c.Cgroup, v2)
	}
	return "/" + rel, nil
}

// views reads the lab's cgroup root and the cgroup v2 path of the held
// child pid as the harness's cgroup namespace shows it (outside) and as its
// own does (inside; reported is what the child said it read).
func views(c *lab.Check, pid int, reported string) (root, outside, inside string, err error) {
	if root, err = labRoot(c); err != nil {
		return "", "", "", err
	}
	if outside, err = harnessPath(c, pid); err != nil {
		return "", "", "", err
	}
	if inside, err = childView(c, pid, reported); err != nil {
		return "", "", "", err
	}
	return root, outside, inside, nil
}

// harnessPath reads the cgroup v2 path of process pid of the lab host, as
// the harness's cgroup namespace (the machine's) shows it.
func harnessPath(c *lab.Check, pid int) (string, error) {
	text, err := c.ReadFile(pid, "cgroup")
	return v2Path(pid, text, err)
}

// visitPath reads the cgroup v2 path of pid as the cgroup namespace of
// viewer shows it, on a thread of the harness that visits that namespace;
// lab.ErrNoVisit when the harness is not root.
func visitPath(c *lab.Check, viewer, pid int) (p string, err error) {
	err = c.Do(viewer, []ns.Kind{ns.Cgroup}, func() error {
		p, err = harnessPath(c, pid)
		return err
	})
	return p, err
}

// labPIDs reads a cgroup.procs file (the harness's PIDs) and returns those
// PIDs as the lab host numbers them (the last of NSpid).
func labPIDs(procs string) ([]int, error) {
	b, err := os.ReadFile(procs)
	if err != nil {
		return nil, err
	}
	var out []int
	for _, f := range strings.Fields(string(b)) {
		status, err := os.ReadFile("/proc/" + f + "/status")
		if err != nil {
			continue // gone meanwhile
		}
		if ids, err := host.NSpid(string(status)); err == nil {
			out = append(out, ids[len(ids)-1])
		}
	}
	return out, nil
}

// cgroupDirs lists the child cgroups (directories) of dir.
func cgroupDirs(dir string) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	out := []string{}
	for _, e := range entries {
		if e.IsDir() {
			out = append(out, e.Name())
		}
	}
	return out, nil
}

// join is path p below root (both absolute).
func join(root, p string) string { return filepath.Join(root, p) }

// childView is process pid's cgroup as its own cgroup namespace shows it:
// read by the harness visiting that namespace (as root), or as the child
// reported it (lab.ErrNoVisit without root).
func childView(c *lab.Check, pid int, reported string) (string, error) {
	v, err := visitPath(c, pid, pid)
	switch {
	case errors.Is(err, lab.ErrNoVisit):
		return reported, nil
	case err != nil:
		return "", err
	}
	return v, nil
}
