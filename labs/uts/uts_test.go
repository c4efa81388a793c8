//go:build linux

package uts_test

import (
	"testing"

	"github.com/nslab/nslab/labs/uts"
	"github.com/nslab/nslab/pkg/lab/labtest"
	"github.com/nslab/nslab/pkg/ns"
)

func TestMain(m *testing.M) { labtest.Main(m) }

func TestUTS(t *testing.T) {
	labtest.Need(t, ns.UTS)
	labtest.Steps(t, uts.Lab, testNewNamespace, testSetNames, testHostUntouched, testJoin, testSharedChange)
}

func testNewNamespace(t *testing.T) {
	t.Parallel()
	child, err := uts.StartInNewUTS(t.Context(), []string{"true"})
	if err != nil {
		labtest.Failf(t, uts.Lab, "01", "start a child in a new UTS namespace: %v", err)
	}
	defer child.Stop()
	labtest.NewKindsOnly(t, uts.Lab, "01", child.PID(), ns.UTS)
}

func testSetNames(t *testing.T) {
	t.Parallel()
	want := uts.LabNames()
	child, err := uts.RenameInChild(t.Context(), want)
	if err != nil {
		labtest.Failf(t, uts.Lab, "02", "a child in a new UTS namespace calling SetNames(%s) failed: %v", want, err)
	}
	if child.Names != want {
		labtest.Failf(t, uts.Lab, "02", "after SetNames(%s), uname(2) in the child returned %s; want the names it set (sethostname(2) and setdomainname(2), each given its own name)", want, child.Names)
	}
}

func testHostUntouched(t *testing.T) {
	t.Parallel()
	want := uts.LabNames()
	r, err := uts.HostUntouched(t.Context(), want)
	if err != nil {
		labtest.Failf(t, uts.Lab, "03", "read the host's names around a renamed child: %v", err)
	}
	if r.Before != r.Uname {
		labtest.Failf(t, uts.Lab, "03", "HostNames() = %s; want %s, what uname(2) returns on the host (/proc/sys/kernel/hostname and domainname, without the trailing newline)", r.Before, r.Uname)
	}
	if r.Child.Names != want {
		labtest.Failf(t, uts.Lab, "03", "the child named %s reported %s; the kernel did not keep the names in its new UTS namespace", want, r.Child.Names)
	}
	if r.After != r.Before {
		labtest.Failf(t, uts.Lab, "03", "the host's names went from %s to %s while a child renamed its own UTS namespace; want them unchanged", r.Before, r.After)
	}
}

func testJoin(t *testing.T) {
	t.Parallel()
	want := uts.LabNames()
	r, err := uts.Join(t.Context(), want)
	if err != nil {
		labtest.Failf(t, uts.Lab, "04", "read the names of a holder's UTS namespace through NamesIn: %v", err)
	}
	if r.Got != want {
		labtest.Failf(t, uts.Lab, "04", "NamesIn(holder PID %d) = %s; want the holder's %s (join its UTS namespace with setns(2) on the thread that calls uname(2))", r.Holder.PID, r.Got, want)
	}
	if r.OwnAfter != r.OwnBefore {
		labtest.Failf(t, uts.Lab, "04", "after NamesIn the joiner's names are %s, before %s; want its own back (the thread must return to its own UTS namespace)", r.OwnAfter, r.OwnBefore)
	}
}

func testSharedChange(t *testing.T) {
	t.Parallel()
	r, err := uts.Share(t.Context(), uts.LabNames())
	if err != nil {
		labtest.Failf(t, uts.Lab, "05", "two processes renaming a UTS namespace they share: %v", err)
	}
	f, _ := r.First.Get(ns.UTS)
	s, _ := r.Second.Get(ns.UTS)
	if !f.Equal(s) {
		labtest.Failf(t, uts.Lab, "05", "the second process (StartJoined) is in UTS namespace %s, the first in %s; want the first's (Join, not New)", s, f)
	}
	if r.FirstSaw.Hostname != r.Name1 {
		labtest.Failf(t, uts.Lab, "05", "the second set the hostname %q, then the first read %q; want the second's name", r.Name1, r.FirstSaw.Hostname)
	}
	if r.SecondSaw.Hostname != r.Name2 {
		labtest.Failf(t, uts.Lab, "05", "the first set the hostname %q, then the second read %q; want the first's name", r.Name2, r.SecondSaw.Hostname)
	}
}
