package uts_test

import (
	"os"
	"testing"

	"github.com/nslab/nslab/labs/uts"
	"github.com/nslab/nslab/pkg/lab/labtest"
	"github.com/nslab/nslab/pkg/ns"
)

func TestMain(m *testing.M) { labtest.Main(m) }

func TestUTS(t *testing.T) {
	labtest.Need(t, ns.UTS)
	labtest.Step(t, uts.Lab, "01", func(t *testing.T) {
		t.Parallel()
		child, err := uts.StartInNewUTS(t.Context(), []string{"true"})
		if err != nil {
			labtest.Failf(t, uts.Lab, "01", "start a child in a new UTS namespace: %v", err)
		}
		defer child.Stop()
		host, err := ns.Of(ns.Self)
		if err != nil {
			t.Fatal(err)
		}
		got, err := child.Namespaces()
		if err != nil {
			t.Fatal(err)
		}
		want := []ns.Kind{ns.UTS}
		if os.Geteuid() != 0 {
			want = []ns.Kind{ns.User, ns.UTS} // spawn adds a user namespace for an unprivileged caller
		}
		diff := ns.Diff(host, got)
		if len(diff) != len(want) || diff[len(diff)-1] != ns.UTS {
			labtest.Failf(t, uts.Lab, "01", "kinds new in the child: %v; want %v (only the kinds asked for: New: []ns.Kind{ns.UTS})", diff, want)
		}
	})
}
