//go:build linux

package container

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/nslab/nslab/pkg/host"
	"github.com/nslab/nslab/pkg/lab"
	"github.com/nslab/nslab/pkg/ns"
	"golang.org/x/sys/unix"
)

// Step 10 stops more containers than its two: containers whose cleanup
// the kernel refuses, or finds gone already. This file holds those calls
// (run half) and their checks.

// stopProbe is one such call of Stop.
type stopProbe struct {
	refusal      // Want "" when Stop must return no error
	Killed  bool // what Stop returned
	Waited  bool // the init's Cmd has its ProcessState once Stop returned
	Kill    bool // the init ignores SIGTERM: Stop must kill it
}

// probeGrace is the grace period of the probes' containers, which ignore
// SIGTERM (but the last).
const probeGrace = 50 * time.Millisecond

// stopErrName is lab.ErrnoName, and "os.ErrProcessDone" for that error.
func stopErrName(err error) string {
	if errors.Is(err, os.ErrProcessDone) {
		return "os.ErrProcessDone"
	}
	return lab.ErrnoName(err)
}

// probeStop starts a container whose init ignores SIGTERM, gives it link
// and cgroups (set by setup, which may make them), and stops it with Stop
// (through via, when set: a thread without a capability).
func probeStop(cleanup *lab.Cleanup, what, want, name string, setup func(c *Container) error, via func(func() error) error) (p stopProbe, err error) {
	b, err := startIsolated(entryStop, "stubborn") // its init ignores SIGTERM
	if err != nil {
		return p, err
	}
	cleanup.Add(b.stop)
	var ready stopReport
	if err := b.read(&ready); err != nil {
		return p, err
	}
	c := &Container{Cmd: b.cmd}
	if err := setup(c); err != nil {
		return p, err
	}
	if via == nil {
		via = func(fn func() error) error { return fn() }
	}
	var stopErr error
	err = via(func() error { p.Killed, stopErr = Stop(c, probeGrace); return nil })
	if err != nil {
		return p, err
	}
	p.refusal = refused(what, want, name, stopErr)
	p.Errno, p.Waited, p.Kill = stopErrName(stopErr), b.cmd.ProcessState != nil, true
	return p, nil
}

// pidMax is a PID no process has: PIDs are below kernel.pid_max.
func pidMax() (int, error) {
	return host.ReadInt("/proc/sys/kernel/pid_max")
}

// probeStops makes the calls of Stop besides the step's two containers.
func probeStops(cleanup *lab.Cleanup, parent Cgroups, bastion int) ([]stopProbe, error) {
	gone := filepath.Join(os.TempDir(), labName("gone-cgroup"))
	if parent.V2 != "" {
		gone = filepath.Join(parent.V2, labName("gone"))
	}
	max, err := pidMax()
	if err != nil {
		return nil, err
	}
	linkName, _ := linkNames()
	probes := []struct {
		what, want, name string
		setup            func(*Container) error
		via              func(func() error) error
	}{
		{"Stop of a container without a link, whose cgroup " + gone + " is gone already", "", "",
			func(c *Container) error { c.Cgroups = Cgroups{V2: gone}; return nil }, nil},
		{fmt.Sprintf("Stop of a container whose bastion, PID %d, does not exist", max), "ENOENT", "",
			func(c *Container) error { c.Link = Link{Bastion: max, Name: linkName}; return nil }, nil},
		{"Stop of a container on a thread without CAP_SYS_ADMIN (setns(2) into the bastion refused)", anyError, "",
			func(c *Container) error { c.Link = Link{Bastion: bastion, Name: linkName}; return nil },
			func(fn func() error) error { return lab.WithoutCap(unix.CAP_SYS_ADMIN, fn) }},
		{"Stop of a container whose link is the bastion's lo (the kernel refuses to delete it: EOPNOTSUPP)", "ENOTSUP", "lo",
			func(c *Container) error { c.Link = Link{Bastion: bastion, Name: "lo"}; return nil }, nil},
	}
	var out []stopProbe
	for _, p := range probes {
		r, err := probeStop(cleanup, p.what, p.want, p.name, p.setup, p.via)
		if err != nil {
			return out, err
		}
		out = append(out, r)
	}
	if parent.V2 != "" {
		r, err := probeBusy(cleanup, parent)
		if err != nil {
			return out, err
		}
		out = append(out, r)
	}
	r, err := probeWaited(cleanup)
	return append(out, r), err
}

// probeBusy stops a container whose v2 cgroup holds a cgroup of its own:
// rmdir(2) refuses it (EBUSY).
func probeBusy(cleanup *lab.Cleanup, parent Cgroups) (stopProbe, error) {
	var dir string
	setup := func(c *Container) (err error) {
		if c.Cgroups, err = labCgroup(parent, labName("busy")); err != nil {
			return err
		}
		cg := c.Cgroups
		dir = cg.V2
		cleanup.Add(func() { unix.Rmdir(filepath.Join(cg.V2, "held")); removeCgroups(cg) })
		return os.Mkdir(filepath.Join(cg.V2, "held"), 0o755)
	}
	p, err := probeStop(cleanup, "Stop of a container whose v2 cgroup holds a cgroup of its own", "EBUSY", "", setup, nil)
	p.What, p.Name = fmt.Sprintf("Stop of a container whose cgroup %s holds a cgroup of its own", dir), dir
	return p, err
}

// probeWaited stops a container that has ended and was waited for
// already: its init cannot be signalled.
func probeWaited(cleanup *lab.Cleanup) (p stopProbe, err error) {
	b, err := startIsolated(entryStop, "polite") // its init ends on SIGTERM
	if err != nil {
		return p, err
	}
	cleanup.Add(b.stop)
	pid := b.PID()
	b.stop()
	killed, err := Stop(&Container{Cmd: b.cmd}, probeGrace)
	what := fmt.Sprintf("Stop of a container whose init, PID %d, ended and was waited for already", pid)
	p.refusal = refused(what, "os.ErrProcessDone", strconv.Itoa(pid), err)
	p.Errno, p.Killed, p.Waited = stopErrName(err), killed, true
	return p, nil
}

// check checks one probe of Stop.
func (p stopProbe) check(c *lab.Check) error {
	switch {
	case p.Want == "" && p.Errno != "ok":
		return c.Failf("%s returned %q; want no error: a link or cgroup gone already is what Stop leaves, not a failure", p.What, p.Err)
	case p.Want != "":
		if err := p.refusal.check(c); err != nil {
			return err
		}
	}
	switch {
	case p.Killed != p.Kill:
		return c.Failf("%s returned killed %v; want %v: say whether SIGKILL was needed, also when an error follows", p.What, p.Killed, p.Kill)
	case !p.Waited:
		return c.Failf("%s returned before the init was waited for (its Cmd has no ProcessState): after SIGKILL, wait for it again", p.What)
	}
	if p.Want == "" {
		c.Check(true, "%s: no error, killed %v", p.What, p.Killed)
	}
	return nil
}

// holdNet keeps the network namespace of process pid alive until cleanup:
// the container's end of its veth pair outlives it, so that Stop must
// delete the bastion's end itself (a runtime's bind of /var/run/netns
// does the same).
func holdNet(cleanup *lab.Cleanup, pid int) error {
	f, err := ns.Open(pid, ns.Net)
	if err != nil {
		return err
	}
	cleanup.Add(func() { f.Close() })
	return nil
}
