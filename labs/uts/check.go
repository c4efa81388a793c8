//go:build linux

package uts

import (
	"errors"
	"fmt"

	"github.com/nslab/nslab/pkg/lab"
	"github.com/nslab/nslab/pkg/ns"
	"golang.org/x/sys/unix"
)

// The check halves of the steps: in the harness, they verify the reports
// of run.go against the kernel where it still holds the facts, narrate, and
// return what the kernel was expected to do and did not.

func checkNewNamespace(c *lab.Check, r NewNamespace) error {
	return c.NewKindsOnly(r.PID, "child", ns.UTS)
}

func checkSetNames(c *lab.Check, r SetNamesReport) error {
	if host, err := c.Host(); err == nil {
		c.Compare(host, r.Child.Set, "child")
	}
	c.Say("the child called SetNames(%s); uname(2) in the child returned %s", r.Want, r.Child.Names)
	if err := hostKept(c, append([]Names{r.Want}, refusedNames()...)...); err != nil {
		return err
	}
	if r.Child.Names != r.Want {
		return c.Failf("after SetNames(%s), uname(2) in the child returned %s; want the names it set (sethostname(2) and setdomainname(2), each given its own name)", r.Want, r.Child.Names)
	}
	c.Check(true, "uname(2) in the child returns the names it set")
	return checkRefused(c, r.Refused)
}

// checkRefused checks that SetNames returned the kernel's EINVAL, wrapped,
// for each name longer than 64 bytes.
func checkRefused(c *lab.Check, rs []Refusal) error {
	if len(rs) != len(refusedNames()) {
		return fmt.Errorf("the child reported %d calls of SetNames with refused names; want %d", len(rs), len(refusedNames()))
	}
	for _, r := range rs {
		which := "host name"
		if len(r.Names.Hostname) <= 64 {
			which = "domain name"
		}
		c.Say("SetNames with a 65-byte %s returned %q", which, r.Err)
		switch {
		case r.Err == "":
			return c.Failf("SetNames with a 65-byte %s returned no error; want the error of the system call that refused it (the kernel answers EINVAL: a UTS namespace holds at most 64 bytes), not nil", which)
		case !r.EINVAL:
			return c.Failf("SetNames with a 65-byte %s returned %q; want an error that wraps the kernel's EINVAL (fmt.Errorf with %%w), so that errors.Is finds it", which, r.Err)
		}
	}
	c.Check(true, "SetNames returns the kernel's EINVAL, wrapped, for a name longer than 64 bytes")
	return nil
}

func checkHostUntouched(c *lab.Check, r UntouchedReport) error {
	c.Compare(r.Host, r.Child.Set, "child")
	c.Say("the child's names: %s", r.Child.Names)
	c.Say("the host's names from HostNames(): before %s, after %s; uname(2) says %s", r.Before, r.After, r.Uname)
	switch {
	case r.Before != r.Uname:
		return c.Failf("HostNames() = %s; want %s, what uname(2) returns on the host (/proc/sys/kernel/hostname and domainname, without the trailing newline)", r.Before, r.Uname)
	case r.Child.Names.Hostname == r.Uname.Hostname:
		return c.Failf("the child named by the lab reported %s, the host's names; the kernel did not give it a UTS namespace of its own", r.Child.Names)
	case r.After != r.Before:
		return c.Failf("the host's names went from %s to %s while a child renamed its own UTS namespace; want them unchanged", r.Before, r.After)
	}
	if err := hostKept(c, r.Child.Names); err != nil {
		return err
	}
	c.Check(true, "the host kept its names while the child had others")
	return checkMasked(c, r.Masked)
}

// checkMasked checks what HostNames returned where /proc/sys/kernel was an
// empty tmpfs, then held a hostname file, then both files.
func checkMasked(c *lab.Check, m Masked) error {
	c.Say("with /proc/sys/kernel hidden under a tmpfs, HostNames() returned the errors %q, then %q, then %s", m.Missing, m.NoDomain, m.Read)
	switch {
	case m.Missing == "":
		return c.Failf("HostNames() returned no error where /proc/sys/kernel/hostname does not exist; want the error of os.ReadFile, not nil")
	case m.NoDomain == "":
		return c.Failf("HostNames() returned no error where /proc/sys/kernel/domainname does not exist (hostname does); want the error of os.ReadFile, not nil")
	case m.ReadErr != "":
		return c.Failf("HostNames() returned %q where both files exist; want no error", m.ReadErr)
	case m.Read != maskedNames:
		return c.Failf("HostNames() = %s where /proc/sys/kernel/hostname and domainname hold %s; want what the files hold, without the trailing newline", m.Read, maskedNames)
	}
	c.Check(true, "HostNames reads the two files, and returns their errors")
	return nil
}

func checkJoin(c *lab.Check, r JoinReport) error {
	c.Table(lab.Column{Title: fmt.Sprintf("holder (PID %d)", r.Holder.PID), Set: r.Holder},
		lab.Column{Title: fmt.Sprintf("joiner (PID %d)", r.Joiner.PID), Set: r.Joiner})
	c.Say("one thread of the joiner entered the holder's uts namespace and read %s", r.Got)
	c.Say("the joiner's own names: before %q, after %q", r.OwnBefore.Hostname, r.OwnAfter.Hostname)
	if r.Got != r.Want {
		return c.Failf("NamesIn(holder PID %d) = %s; want the holder's %s (join its UTS namespace with setns(2) on the thread that calls uname(2))", r.Holder.PID, r.Got, r.Want)
	}
	if r.OwnAfter != r.OwnBefore {
		return c.Failf("after NamesIn the joiner's names are %s, before %s; want its own back (the thread must return to its own UTS namespace)", r.OwnAfter, r.OwnBefore)
	}
	c.Check(true, "the joining thread read the holder's names %s and came back", r.Want)
	return hostKept(c, r.Want)
}

func checkSharedChange(c *lab.Check, r ShareReport) error {
	c.Table(lab.Column{Title: fmt.Sprintf("first (PID %d)", r.First.PID), Set: r.First},
		lab.Column{Title: fmt.Sprintf("second (PID %d)", r.Second.PID), Set: r.Second})
	c.Say("the second set %q; the first then read %q", r.Name1, r.FirstSaw.Hostname)
	c.Say("the first set %q; the second then read %q", r.Name2, r.SecondSaw.Hostname)
	f, _ := r.First.Get(ns.UTS)
	s, _ := r.Second.Get(ns.UTS)
	asked, _ := r.Asked.Get(ns.UTS)
	switch {
	case !asked.IsZero() && asked.Equal(s):
		return c.Failf("the second process (StartJoined) is in UTS namespace %s, the one the cfg it was given asked for in cfg.Join; want the first's, %s (the UTS namespace of pid takes the place of cfg's)", s, f)
	case f.IsZero() || !f.Equal(s):
		return c.Failf("the second process (StartJoined) is in UTS namespace %s, the first in %s; want the first's (Join, not New)", s, f)
	case !sameKind(r.First, r.Second, ns.IPC):
		fi, _ := r.First.Get(ns.IPC)
		si, _ := r.Second.Get(ns.IPC)
		return c.Failf("the cfg given to StartJoined asked (cfg.Join) for the IPC namespace of the first process, %s; the second is in %s; want cfg's other entries kept (StartJoined replaces only the UTS one)", fi, si)
	case r.FirstSaw.Hostname != r.Name1:
		return c.Failf("the second set the hostname %q, then the first read %q; want the second's name", r.Name1, r.FirstSaw.Hostname)
	case r.SecondSaw.Hostname != r.Name2:
		return c.Failf("the first set the hostname %q, then the second read %q; want the first's name", r.Name2, r.SecondSaw.Hostname)
	}
	c.Check(true, "both processes are in uts namespace %s, and each saw the other's change", f)
	return hostKept(c, Names{Hostname: r.Name1})
}

// hostKept checks, from the harness, that the lab host's own UTS namespace
// (the runner's) does not carry a host name the step gave to a namespace of
// its own: code that renamed its parent's namespace fails here.
func hostKept(c *lab.Check, given ...Names) error {
	var host Names
	err := c.Do(c.Runner, []ns.Kind{ns.UTS}, func() error {
		var u unix.Utsname
		if err := unix.Uname(&u); err != nil {
			return err
		}
		host = Names{Hostname: unix.ByteSliceToString(u.Nodename[:]), Domainname: unix.ByteSliceToString(u.Domainname[:])}
		return nil
	})
	switch {
	case errors.Is(err, lab.ErrNoVisit):
		return nil // without root, the child's report is all there is
	case err != nil:
		return fmt.Errorf("read the lab host's names: %w", err)
	}
	for _, g := range given {
		if host.Hostname != g.Hostname {
			continue
		}
		return c.Failf("the lab host itself (the step's runner, PID %d) is now named %s: the code renamed its parent's UTS namespace, not one of its own (a child in a new UTS namespace must rename only that one)", c.Runner, host)
	}
	return nil
}

// sameKind says whether a and b are in one namespace of kind k.
func sameKind(a, b ns.Set, k ns.Kind) bool {
	x, _ := a.Get(k)
	y, _ := b.Get(k)
	return !x.IsZero() && x.Equal(y)
}
