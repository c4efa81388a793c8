//go:build linux

package cgroup

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"

	"github.com/nslab/nslab/pkg/holder"
	"github.com/nslab/nslab/pkg/lab"
	"github.com/nslab/nslab/pkg/ns"
	"github.com/nslab/nslab/pkg/spawn"
)

// The lab's children: Go functions that spawn runs in a re-executed binary.
// Each prints one JSON line, then waits for the end of its input, so that
// the harness can look at it while it is alive.
const (
	entryView  = "cgroup-view"  // runs CgroupOf (step 03) on itself and on PIDs it is given
	entryMount = "cgroup-mount" // runs MountCgroup2 (step 05) and reports its mountinfo
	entryPids  = "cgroup-pids"  // finds its own pids cgroup and runs ReadPids (step 06) on it
)

func init() {
	spawn.Register(entryView, viewMain)
	spawn.Register(entryMount, mountMain)
	spawn.Register(entryPids, pidsMain)
}

// viewed is what CgroupOf returned for one process.
type viewed struct {
	PID  int    `json:"pid"`
	Path string `json:"path"`
	Err  string `json:"err,omitempty"`
}

// viewMain: args are PIDs; it reports CgroupOf of itself, then of each.
func viewMain(args []string) int {
	pids := []int{os.Getpid()}
	for _, a := range args {
		pid, err := strconv.Atoi(a)
		if err != nil || pid <= 0 {
			return spawn.Fail(errors.New("usage: cgroup-view PID..."))
		}
		pids = append(pids, pid)
	}
	out := []viewed{}
	for _, pid := range pids {
		path, err := CgroupOf(pid)
		out = append(out, viewed{PID: pid, Path: path, Err: lab.ErrText(err)})
	}
	return holder.ReportAndHold(out)
}

// mounted is what the cgroup-mount child reports.
type mounted struct {
	Mountinfo string `json:"mountinfo"`     // its /proc/self/mountinfo after MountCgroup2
	Err       string `json:"err,omitempty"` // MountCgroup2's error
}

// mountMain: args are the mount point and the parent's mount namespace
// (ns.ID.Arg): the child mounts only in a mount namespace of its own.
func mountMain(args []string) int {
	if len(args) != 2 {
		return spawn.Fail(errors.New("usage: cgroup-mount TARGET PARENT-MNT"))
	}
	if err := ns.NotInParent(ns.Mnt, args[1], "mount"); err != nil {
		return spawn.Fail(err)
	}
	if err := os.MkdirAll(args[0], 0o755); err != nil {
		return spawn.Fail(err)
	}
	var r mounted
	r.Err = lab.ErrText(MountCgroup2(args[0]))
	b, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		return spawn.Fail(err)
	}
	r.Mountinfo = string(b)
	return holder.ReportAndHold(r)
}

// pidsSeen is what the cgroup-pids child reports.
type pidsSeen struct {
	Cgroup string `json:"cgroup"` // its /proc/self/cgroup
	Dir    string `json:"dir"`    // its cgroup in the pids hierarchy, through a mount of its own
	Pids   Pids   `json:"pids"`   // ReadPids(Dir)
	Err    string `json:"err,omitempty"`
}

// pidsMain: args are the pids hierarchy (v1 or v2, see pidsHome) and the
// parent's mount namespace. It mounts that hierarchy in its own mount
// namespace (the root is its cgroup namespace's), finds its cgroup there
// from /proc/self/cgroup, and reads it with ReadPids.
func pidsMain(args []string) int {
	if len(args) != 2 || args[0] != "v1" && args[0] != "v2" {
		return spawn.Fail(errors.New("usage: cgroup-pids v1|v2 PARENT-MNT"))
	}
	if err := ns.NotInParent(ns.Mnt, args[1], "mount"); err != nil {
		return spawn.Fail(err)
	}
	self, err := os.ReadFile("/proc/self/cgroup")
	if err != nil {
		return spawn.Fail(err)
	}
	dir, fstype, opts, controller := "/tmp/nslab-own", "cgroup2", "", ""
	if args[0] == "v1" {
		fstype, opts, controller = "cgroup", "pids", "pids"
	}
	path, ok := pathIn(string(self), controller)
	if !ok {
		return spawn.Fail(fmt.Errorf("no %s line in /proc/self/cgroup:\n%s", args[0], self))
	}
	if err := mountHierarchy(dir, fstype, opts); err != nil {
		return spawn.Fail(err)
	}
	r := pidsSeen{Cgroup: string(self), Dir: filepath.Join(dir, path)}
	var rerr error
	r.Pids, rerr = ReadPids(r.Dir)
	r.Err = lab.ErrText(rerr)
	return holder.ReportAndHold(r)
}
