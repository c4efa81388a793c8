//go:build linux

package uts

import (
	"context"
	"fmt"

	"github.com/nslab/nslab/pkg/lab"
	"github.com/nslab/nslab/pkg/ns"
)

// Lab is the UTS lab, registered with pkg/lab.
var Lab = &lab.Lab{
	Name:    "uts",
	Title:   "UTS namespaces: a hostname of one's own",
	Summary: "   A UTS namespace holds two strings, the host name and the NIS domain name, that uname(2) returns.",
	Steps: []*lab.Step{
		{
			ID: "01", Slug: "new_namespace", Title: "A child in a new UTS namespace", Points: 10,
			Explain: "clone(2) with CLONE_NEWUTS gives the child a new uts namespace and shares every other kind with its parent.",
			Hints: []string{
				"Use spawn.Start with a Config whose New lists the kinds to create.",
				"spawn.Config{New: []ns.Kind{ns.UTS}, Args: args}",
			},
			Run: runNewNamespace,
		},
		{
			ID: "02", Slug: "set_names", Title: "Naming the new namespace", Points: 10,
			Explain: "sethostname(2) and setdomainname(2) change the names of the caller's uts namespace; uname(2) there returns them.",
			Hints: []string{
				"golang.org/x/sys/unix has a wrapper for each of the two system calls; they take a []byte.",
				"unix.Sethostname([]byte(n.Hostname)), then unix.Setdomainname([]byte(n.Domainname)); wrap each error with the name.",
			},
			Run: runSetNames,
		},
		{
			ID: "03", Slug: "host_untouched", Title: "The host keeps its names", Points: 10,
			Explain: "a rename inside a new uts namespace changes that namespace only: the host's names stay as they were.",
			Hints: []string{
				"/proc/sys/kernel/hostname and /proc/sys/kernel/domainname show the reader's uts namespace.",
				"os.ReadFile each file and trim the trailing newline.",
			},
			Run: runHostUntouched,
		},
		{
			ID: "04", Slug: "join", Title: "Visiting a namespace with setns", Points: 10,
			Explain: "setns(2) moves one thread into an existing uts namespace, as nsenter(1) does; uname(2) on that thread reads the names there.",
			Hints: []string{
				"ns.Do(pid, kinds, fn) runs fn on a locked OS thread that has joined the namespaces of pid, and brings the thread back.",
				"Inside fn, call unix.Uname and convert Nodename and Domainname with unix.ByteSliceToString.",
			},
			Run: runJoin,
		},
		{
			ID: "05", Slug: "shared_change", Title: "Two processes, one namespace", Points: 10,
			Explain: "processes in one uts namespace share its names: a rename by either is what the other reads next.",
			Hints: []string{
				"spawn.Config.Join lists namespaces of other processes that the child enters before it runs.",
				"cfg.Join = map[ns.Kind]int{ns.UTS: pid}; return spawn.Start(ctx, cfg)",
			},
			Run: runSharedChange,
		},
	},
}

func init() { lab.Register(Lab) }

func runNewNamespace(ctx context.Context, n *lab.Narrator) error {
	child, err := StartInNewUTS(ctx, []string{"true"})
	if err != nil {
		return err
	}
	defer child.Stop()
	if err := n.NewKindsOnly(child.PID(), "child", ns.UTS); err != nil {
		return err
	}
	return child.Release()
}

func runSetNames(ctx context.Context, n *lab.Narrator) error {
	want := LabNames()
	host, err := ns.Of(ns.Self)
	if err != nil {
		return err
	}
	child, err := RenameInChild(ctx, want)
	if err != nil {
		return err
	}
	n.Compare(host, child.Set, "child")
	n.Say("the child called SetNames(%s); uname(2) in the child returned %s", want, child.Names)
	hostNames, err := uname()
	if err != nil {
		return err
	}
	n.Say("uname(2) here, on the host: %s", hostNames)
	return n.Expect(child.Names == want, "uname(2) in the child returns the names it set")
}

func runHostUntouched(ctx context.Context, n *lab.Narrator) error {
	r, err := HostUntouched(ctx, LabNames())
	if err != nil {
		return err
	}
	n.Compare(r.Host, r.Child.Set, "child")
	n.Say("the child's names: %s", r.Child.Names)
	n.Say("the host's names from HostNames(): before %s, after %s; uname(2) says %s", r.Before, r.After, r.Uname)
	if err := n.Expect(r.Before == r.Uname, "HostNames() reads what uname(2) returns on the host"); err != nil {
		return err
	}
	return n.Expect(r.After == r.Before && r.Child.Names != r.After, "the host kept its names while the child had others")
}

func runJoin(ctx context.Context, n *lab.Narrator) error {
	r, err := Join(ctx, LabNames())
	if err != nil {
		return err
	}
	host, err := ns.Of(ns.Self)
	if err != nil {
		return err
	}
	n.Table(lab.Column{Title: "host (self)", Set: host},
		lab.Column{Title: fmt.Sprintf("holder (PID %d)", r.Holder.PID), Set: r.Holder},
		lab.Column{Title: fmt.Sprintf("joiner (PID %d)", r.Joiner.PID), Set: r.Joiner})
	saySandbox(n, host, r.Joiner)
	n.Say("one thread of the joiner entered the holder's uts namespace and read %s", r.Got)
	n.Say("the joiner's own names: before %q, after %q", r.OwnBefore.Hostname, r.OwnAfter.Hostname)
	if err := n.Expect(r.Got == r.Want, "the joining thread reads the holder's names %s", r.Want); err != nil {
		return err
	}
	return n.Expect(r.OwnAfter == r.OwnBefore, "the joiner still has its own names after the visit")
}

func runSharedChange(ctx context.Context, n *lab.Narrator) error {
	r, err := Share(ctx, LabNames())
	if err != nil {
		return err
	}
	host, err := ns.Of(ns.Self)
	if err != nil {
		return err
	}
	n.Table(lab.Column{Title: "host (self)", Set: host},
		lab.Column{Title: fmt.Sprintf("first (PID %d)", r.First.PID), Set: r.First},
		lab.Column{Title: fmt.Sprintf("second (PID %d)", r.Second.PID), Set: r.Second})
	saySandbox(n, host, r.First)
	n.Say("the second set %q; the first then read %q", r.Name1, r.FirstSaw.Hostname)
	n.Say("the first set %q; the second then read %q", r.Name2, r.SecondSaw.Hostname)
	f, _ := r.First.Get(ns.UTS)
	s, _ := r.Second.Get(ns.UTS)
	if err := n.Expect(f.Equal(s), "both processes are in uts namespace %s", f); err != nil {
		return err
	}
	return n.Expect(r.FirstSaw.Hostname == r.Name1 && r.SecondSaw.Hostname == r.Name2, "each saw the other's change")
}

// saySandbox explains the extra user namespace an unprivileged run shows.
func saySandbox(n *lab.Narrator, host, in ns.Set) {
	h, _ := host.Get(ns.User)
	s, _ := in.Get(ns.User)
	if !h.Equal(s) {
		n.Say("without root the lab ran this in a sandbox, root in user namespace %s: setns(2) needs CAP_SYS_ADMIN in the user namespace owning the target", s)
	}
}
