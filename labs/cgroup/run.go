//go:build linux

package cgroup

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"

	"github.com/nslab/nslab/pkg/holder"
	"github.com/nslab/nslab/pkg/lab"
	"github.com/nslab/nslab/pkg/ns"
	"github.com/nslab/nslab/pkg/spawn"
)

// The run halves of the steps: each calls the learner's code in the lab
// host and returns what it saw; check.go makes the verdicts. The cgroups
// they name (/one, /ns/sub, …) are below the lab host's own (tree.go).

// newNamespaceReport is what step 01 saw.
type newNamespaceReport struct {
	PID        int    // the child StartInNewCgroup returned, held
	Dir        string // the cgroup it was given, from the lab host's root
	RunnerView string // the child's cgroup v2 path in /proc/PID/cgroup, read by the runner
	ChildView  string // the same, read by a thread of the runner in the child's cgroup namespace
}

func runNewNamespace(ctx context.Context, cleanup *lab.Cleanup) (r newNamespaceReport, err error) {
	r.Dir = "/one"
	t, err := openTree(r.Dir)
	if err != nil {
		return r, err
	}
	child, err := StartInNewCgroup(ctx, t.dir(r.Dir), []string{"true"})
	if r.PID, err = spawn.HeldPID(fmt.Sprintf("StartInNewCgroup(%s)", t.dir(r.Dir)), child, err, cleanup.Add); err != nil {
		return r, err
	}
	if r.RunnerView, err = v2PathOf(r.PID); err != nil {
		return r, err
	}
	r.ChildView, err = v2PathIn(r.PID, r.PID)
	return r, err
}

// v2PathOf reads the cgroup v2 path of pid as the runner's cgroup namespace shows it.
func v2PathOf(pid int) (string, error) {
	text, err := procCgroup(pid)
	return v2Path(pid, text, err)
}

// v2PathIn reads the cgroup v2 path of pid as the cgroup namespace of
// viewer shows it, on a thread that visits that namespace.
func v2PathIn(viewer, pid int) (p string, err error) {
	err = ns.Do(viewer, []ns.Kind{ns.Cgroup}, func() error {
		p, err = v2PathOf(pid)
		return err
	})
	return p, err
}

// parsed is what ParseCgroup made of one text.
type parsed struct {
	Text string
	Got  []Membership
	Err  string `json:",omitempty"`
}

func parse(text string) parsed {
	got, err := ParseCgroup(text)
	return parsed{Text: text, Got: got, Err: lab.ErrText(err)}
}

// parseReport is what step 02 saw.
type parseReport struct {
	Cases []parsed // parseCases, in order
	Own   parsed   // the runner's own /proc/self/cgroup
}

func runParse(ctx context.Context, _ *lab.Cleanup) (r parseReport, err error) {
	for _, tc := range parseCases {
		r.Cases = append(r.Cases, parse(tc.text))
	}
	text, err := procCgroup(os.Getpid())
	if err != nil {
		return r, err
	}
	r.Own = parse(text)
	return r, nil
}

// viewReport is what step 03 saw: a viewer in a new cgroup namespace
// rooted at /ns ran CgroupOf on itself and on three other processes.
type viewReport struct {
	Viewer  int      // in /ns, its namespace's root
	Sub     int      // a holder in /ns/sub
	Sibling int      // a holder in /sibling
	Runner  int      // the runner, in the lab host's cgroup
	Seen    []viewed // CgroupOf in the viewer, of Viewer, Sub, Sibling, Runner
	Ended   refusal  // CgroupOf of a PID no process has, in the runner
}

func runView(ctx context.Context, cleanup *lab.Cleanup) (r viewReport, err error) {
	t, err := openTree("ns", "ns/sub", "sibling")
	if err != nil {
		return r, err
	}
	if r.Sub, err = hold(ctx, cleanup, t.dir("ns/sub")); err != nil {
		return r, err
	}
	if r.Sibling, err = hold(ctx, cleanup, t.dir("sibling")); err != nil {
		return r, err
	}
	r.Runner = os.Getpid()
	v, err := holder.Start(ctx, spawn.Config{
		New: []ns.Kind{ns.Cgroup}, CgroupDir: t.dir("ns"), Entrypoint: entryView,
		Args: []string{strconv.Itoa(r.Sub), strconv.Itoa(r.Sibling), strconv.Itoa(r.Runner)},
	})
	if err != nil {
		return r, fmt.Errorf("start a viewer in a new cgroup namespace: %w", err)
	}
	cleanup.Add(v.Stop)
	r.Viewer = v.PID()
	if err := v.Report(&r.Seen); err != nil {
		return r, fmt.Errorf("the viewer that runs CgroupOf: %w", err)
	}
	pid, err := endedPID()
	if err != nil {
		return r, err
	}
	_, err = CgroupOf(pid)
	r.Ended = refused(fmt.Sprintf("CgroupOf(%d), a PID no process has", pid), err, "the kernel's ENOENT")
	return r, nil
}

// hold starts a held child in the cgroup dir, in the runner's namespaces:
// a process for others to look at.
func hold(ctx context.Context, cleanup *lab.Cleanup, dir string) (int, error) {
	c, err := spawn.Start(ctx, spawn.Config{Args: []string{"true"}, CgroupDir: dir})
	if err != nil {
		return 0, fmt.Errorf("start a process in %s: %w", dir, err)
	}
	cleanup.Add(func() { c.Stop() })
	return c.PID(), nil
}

// moveReport is what step 04 saw: a child made in /four with a new cgroup
// namespace, then moved by MoveTo into /four/sub.
type moveReport struct {
	PID        int
	Dir        string  // where MoveTo was told to move it, from the lab host's root
	RunnerView string  // the child's cgroup as the runner sees it, after the move
	ChildView  string  // and as its own cgroup namespace shows it
	RunnerSelf string  // the runner's own cgroup, after the move
	Ended      refusal // MoveTo of a PID no process has
}

func runMove(ctx context.Context, cleanup *lab.Cleanup) (r moveReport, err error) {
	r.Dir = "/four/sub"
	t, err := openTree("four", r.Dir)
	if err != nil {
		return r, err
	}
	c, err := spawn.Start(ctx, spawn.Config{New: []ns.Kind{ns.Cgroup}, CgroupDir: t.dir("four"), Args: []string{"true"}})
	if err != nil {
		return r, fmt.Errorf("start a child in a new cgroup namespace: %w", err)
	}
	cleanup.Add(func() { c.Stop() })
	r.PID = c.PID()
	if err := MoveTo(t.dir(r.Dir), r.PID); err != nil {
		return r, fmt.Errorf("MoveTo(%s, %d): %w", t.dir(r.Dir), r.PID, err)
	}
	if r.RunnerView, err = v2PathOf(r.PID); err != nil {
		return r, err
	}
	if r.ChildView, err = v2PathIn(r.PID, r.PID); err != nil {
		return r, err
	}
	if r.RunnerSelf, err = v2PathOf(os.Getpid()); err != nil {
		return r, err
	}
	pid, err := endedPID()
	if err != nil {
		return r, err
	}
	r.Ended = refused(fmt.Sprintf("MoveTo(%s, %d), a PID no process has", t.dir(r.Dir), pid), MoveTo(t.dir(r.Dir), pid), "the kernel's ESRCH")
	return r, nil
}

// mountReport is what step 05 saw: a child made in /five with new cgroup
// and mount namespaces ran MountCgroup2 on Target.
type mountReport struct {
	PID    int
	Target string
	Inside mounted // the child's report: its mountinfo after MountCgroup2
	Absent refusal // MountCgroup2 on a directory that does not exist, in the runner
}

func runFreshMount(ctx context.Context, cleanup *lab.Cleanup) (r mountReport, err error) {
	t, err := openTree("five", "five/inner", "next")
	if err != nil {
		return r, err
	}
	r.Target = "/tmp/nslab-fresh"
	m, err := startGuarded(ctx, cleanup, t.dir("five"), entryMount, r.Target)
	if err != nil {
		return r, err
	}
	r.PID = m.PID()
	if err := m.Report(&r.Inside); err != nil {
		return r, fmt.Errorf("the child that runs MountCgroup2: %w", err)
	}
	if r.Inside.Err != "" {
		return r, fmt.Errorf("MountCgroup2(%s) in a child with new cgroup and mount namespaces: %s", r.Target, r.Inside.Err)
	}
	absent := "/tmp/nslab-absent/cgroup"
	r.Absent = refused(fmt.Sprintf("MountCgroup2(%q), a directory that does not exist", absent), MountCgroup2(absent), "the kernel's ENOENT")
	return r, nil
}

// startGuarded starts entry with args in the cgroup dir, in new cgroup and
// mount namespaces, stopped after the check; its last argument is the
// caller's mount namespace, where it refuses to mount (ns.NotInParent).
func startGuarded(ctx context.Context, cleanup *lab.Cleanup, dir, entry string, args ...string) (*holder.Holder, error) {
	guard, err := ns.GuardArg(ns.Mnt)
	if err != nil {
		return nil, err
	}
	h, err := holder.Start(ctx, spawn.Config{New: []ns.Kind{ns.Cgroup, ns.Mnt}, CgroupDir: dir, Entrypoint: entry, Args: append(args, guard)})
	if err != nil {
		return nil, fmt.Errorf("start a child in new cgroup and mount namespaces: %w", err)
	}
	cleanup.Add(h.Stop)
	return h, nil
}

// limitMax is the pids limit the lab sets on /limited: room for a Go
// child's threads, which count as tasks.
const limitMax = 64

// limitReport is what step 06 saw.
type limitReport struct {
	Version string   // the pids hierarchy: v2 (the lab host's own cgroup), or v1 (a hybrid machine)
	Max     int64    // the limit the lab wrote to /limited's pids.max
	PID     int      // a child made in /limited with new cgroup and mount namespaces
	Inside  pidsSeen // its report: ReadPids of its own cgroup, through a mount of its own
	Limited Pids     // ReadPids of /limited, run by the runner
	Open    Pids     // ReadPids of /open, a cgroup without a limit, run by the runner
	Empty   refusal  // ReadPids of an empty directory: no pids files
	Garbled refusal  // ReadPids of a directory whose pids.current is not a number
}

func runLimit(ctx context.Context, cleanup *lab.Cleanup) (r limitReport, err error) {
	t, err := openTree()
	if err != nil {
		return r, err
	}
	home, err := t.pids()
	if err != nil {
		return r, err
	}
	r.Version, r.Max = home.Version, limitMax
	if err := t.make("limited", "open"); err != nil {
		return r, err
	}
	limited, open := home.Dir+"/limited", home.Dir+"/open"
	if home.Version == "v1" {
		for _, d := range []string{limited, open} {
			if err := os.Mkdir(d, 0o755); err != nil {
				return r, fmt.Errorf("make the lab's v1 pids cgroup: %w", err)
			}
		}
	}
	if err := writeFile(limited, "pids.max", strconv.Itoa(limitMax)); err != nil {
		return r, err
	}
	if r.Open, err = ReadPids(open); err != nil {
		return r, fmt.Errorf("ReadPids(%s): %w", open, err)
	}
	c, err := startGuarded(ctx, cleanup, t.dir("limited"), entryPids, home.Version)
	if err != nil {
		return r, err
	}
	r.PID = c.PID()
	if home.Version == "v1" { // clone3 places a child in a cgroup v2 only
		if err := writeFile(limited, "cgroup.procs", strconv.Itoa(r.PID)); err != nil {
			return r, err
		}
	}
	if err := c.Report(&r.Inside); err != nil {
		return r, fmt.Errorf("the child that runs ReadPids on its own cgroup: %w", err)
	}
	if r.Inside.Err != "" {
		return r, fmt.Errorf("ReadPids(%s) in a child in a new cgroup namespace: %s", r.Inside.Dir, r.Inside.Err)
	}
	if r.Limited, err = ReadPids(limited); err != nil {
		return r, fmt.Errorf("ReadPids(%s): %w", limited, err)
	}
	err = refusePids(&r)
	return r, err
}

// refusePids runs ReadPids where it must fail: a directory without pids
// files, and one whose pids.current is not a number.
func refusePids(r *limitReport) error {
	empty, err := os.MkdirTemp("", "nslab-empty-")
	if err != nil {
		return err
	}
	defer os.Remove(empty)
	_, err = ReadPids(empty)
	r.Empty = refused(fmt.Sprintf("ReadPids(%q), a directory without pids files", empty), err, "the kernel's ENOENT")
	bad, err := garbled()
	defer os.RemoveAll(bad)
	if err != nil {
		return fmt.Errorf("make a directory of pids files that are not numbers: %w", err)
	}
	_, err = ReadPids(bad)
	r.Garbled = refused(fmt.Sprintf("ReadPids(%q), whose pids.current holds \"many\"", bad), err, "strconv's ErrSyntax")
	r.Garbled.Name = filepath.Join(bad, "pids.current")
	return nil
}
