//go:build linux

package uts

import (
	"github.com/nslab/nslab/pkg/lab"
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
			Do: lab.Do(runNewNamespace, checkNewNamespace),
		},
		{
			ID: "02", Slug: "set_names", Title: "Naming the new namespace", Points: 10,
			Explain: "sethostname(2) and setdomainname(2) change the names of the caller's uts namespace; uname(2) there returns them.",
			Hints: []string{
				"golang.org/x/sys/unix has a wrapper for each of the two system calls; they take a []byte.",
				"unix.Sethostname([]byte(n.Hostname)), then unix.Setdomainname([]byte(n.Domainname)); wrap each error with the name.",
			},
			Do: lab.Do(runSetNames, checkSetNames),
		},
		{
			ID: "03", Slug: "host_untouched", Title: "The host keeps its names", Points: 10,
			Explain: "a rename inside a new uts namespace changes that namespace only: the host's names stay as they were.",
			Hints: []string{
				"/proc/sys/kernel/hostname and /proc/sys/kernel/domainname show the reader's uts namespace.",
				"os.ReadFile each file and trim the trailing newline.",
			},
			Do: lab.Do(runHostUntouched, checkHostUntouched),
		},
		{
			ID: "04", Slug: "join", Title: "Visiting a namespace with setns", Points: 10,
			Explain: "setns(2) moves one thread into an existing uts namespace, as nsenter(1) does; uname(2) on that thread reads the names there.",
			Hints: []string{
				"ns.Do(pid, kinds, fn) runs fn on a locked OS thread that has joined the namespaces of pid, and brings the thread back.",
				"Inside fn, call unix.Uname and convert Nodename and Domainname with unix.ByteSliceToString.",
			},
			Do: lab.Do(runJoin, checkJoin),
		},
		{
			ID: "05", Slug: "shared_change", Title: "Two processes, one namespace", Points: 10,
			Explain: "processes in one uts namespace share its names: a rename by either is what the other reads next.",
			Hints: []string{
				"spawn.Config.Join lists namespaces of other processes that the child enters before it runs.",
				"copy cfg.Join into a new map with ns.UTS set to pid (keep its other entries), set cfg.Join to it, and return spawn.Start(ctx, cfg)",
			},
			Do: lab.Do(runSharedChange, checkSharedChange),
		},
	},
}

func init() { lab.Register(Lab) }
