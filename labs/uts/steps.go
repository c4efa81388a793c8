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
	},
}

func init() { lab.Register(Lab) }

func runNewNamespace(ctx context.Context, n *lab.Narrator) error {
	child, err := StartInNewUTS(ctx, []string{"true"})
	if err != nil {
		return err
	}
	defer child.Stop()
	host, err := ns.Of(ns.Self)
	if err != nil {
		return err
	}
	got, err := child.Namespaces()
	if err != nil {
		return err
	}
	n.Compare(host, got, "child")
	h, _ := host.Get(ns.UTS)
	c, _ := got.Get(ns.UTS)
	n.Check(!h.Equal(c), "the child's uts namespace %s is not the host's %s", c, h)
	if h.Equal(c) {
		return fmt.Errorf("child uts namespace %s is the host's; want a new one (did New include ns.UTS?)", c)
	}
	return child.Release()
}
