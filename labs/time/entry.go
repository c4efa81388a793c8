//go:build linux

package timens

import (
	"fmt"
	"os"

	"github.com/nslab/nslab/pkg/holder"
	"github.com/nslab/nslab/pkg/spawn"
)

// entryChild is the lab's only child: it reads what its mode asks for,
// prints it as one JSON line (a seen), and waits for the end of its input,
// so that the harness can look at it alive.
const entryChild = "time-child"

// The modes of a time-child.
const (
	modeHold   = "hold"   // the lab's own readings only
	modeClocks = "clocks" // and ReadClocks (step 04)
	modeUptime = "uptime" // and ReadUptime (step 05)
)

// entryFakeUptime is the child with a fake /proc (fakeproc.go).
const entryFakeUptime = "time-fakeuptime"

func init() {
	spawn.Register(entryChild, childMain)
	spawn.Register(entryFakeUptime, fakeUptimeMain)
}

// seen is a child's report: its time links and clocks as it read them
// itself, and the result of the learner's function its mode names.
type seen struct {
	Links   timeLinks `json:"links"`
	Lab     Clocks    `json:"lab"`               // the lab's own reading (readClocks)
	Uptime  Uptime    `json:"uptime"`            // /proc/uptime and sysinfo(2), the lab's reading
	Clocks  *Clocks   `json:"clocks,omitempty"`  // ReadClocks(), in mode clocks
	Learner *Uptime   `json:"learner,omitempty"` // ReadUptime(), in mode uptime
	Err     string    `json:"err,omitempty"`
}

func childMain(args []string) int {
	if len(args) != 1 || (args[0] != modeHold && args[0] != modeClocks && args[0] != modeUptime) {
		fmt.Fprintln(os.Stderr, "usage: time-child hold|clocks|uptime")
		return 2
	}
	return holder.ReportAndHold(look(args[0])) // held until the lab closes our input
}

// look fills a report; the learner's function runs between the lab's readings.
func look(mode string) (s seen) {
	var err error
	fail := func(what string, err error) seen {
		s.Err = fmt.Sprintf("%s: %v", what, err)
		return s
	}
	if s.Links.Time, err = os.Readlink("/proc/self/ns/time"); err != nil {
		return fail("read the child's time namespace", err)
	}
	if s.Links.ForChildren, err = os.Readlink("/proc/self/ns/time_for_children"); err != nil {
		return fail("read the child's time_for_children", err)
	}
	switch mode {
	case modeClocks:
		c, err := ReadClocks()
		if err != nil {
			return fail("ReadClocks() in the child", err)
		}
		s.Clocks = &c
	case modeUptime:
		u, err := ReadUptime()
		if err != nil {
			return fail("ReadUptime() in the child", err)
		}
		s.Learner = &u
	}
	if s.Lab, err = readClocks(); err != nil {
		return fail("read the child's clocks", err)
	}
	if s.Uptime.Proc, err = procUptime(); err != nil {
		return fail("read the child's /proc/uptime", err)
	}
	s.Uptime.Sysinfo, err = sysinfoUptime()
	if err != nil {
		return fail("sysinfo(2) in the child", err)
	}
	return s
}

// fakeUptimeMain is the child with a fake /proc: its only argument is its
// parent's mount namespace, in which it refuses to mount anything.
func fakeUptimeMain(args []string) int {
	if len(args) != 1 {
		fmt.Fprintf(os.Stderr, "usage: %s PARENT-MNT (the parent's mount namespace, as ns.ID.Arg writes it); got %q\n", entryFakeUptime, args)
		return 2
	}
	var r fakeReport
	if err := fakeUptimeCases(args[0], &r); err != nil {
		r.Err = err.Error()
	}
	return holder.ReportAndHold(r) // held until the lab closes our input
}
