//go:build linux

package uts_test

import (
	"strings"
	"testing"

	"github.com/nslab/nslab/labs/uts"
	"github.com/nslab/nslab/pkg/lab/labtest"
)

// TestLabShape checks the steps and the docs page (labtest.CheckLab).
func TestLabShape(t *testing.T) { labtest.CheckLab(t, uts.Lab, 50) }

func TestParseNames(t *testing.T) {
	labtest.Parses(t, "ParseNames", uts.ParseNames, []labtest.Parse[uts.Names]{
		{Name: "report", Text: `{"hostname":"a","domainname":"b"}` + "\n", Want: uts.Names{Hostname: "a", Domainname: "b"}},
		{Name: "unset domain", Text: `{"hostname":"vm","domainname":"(none)"}`, Want: uts.Names{Hostname: "vm", Domainname: "(none)"}},
		{Name: "not json", Text: "vm", Bad: true},
		{Name: "empty", Text: "", Bad: true},
	})
}

func TestLabNamesDiffer(t *testing.T) {
	a, b := uts.LabNames(), uts.LabNames()
	if a == b || !strings.HasPrefix(a.Hostname, "uts-lab-") || len(a.Hostname) > 64 || len(a.Domainname) > 64 {
		t.Errorf("LabNames() = %v, then %v; want two different uts-lab-* names of at most 64 bytes", a, b)
	}
}
