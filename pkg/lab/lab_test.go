package lab

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/nslab/nslab/pkg/ns"
)

func sampleLab() *Lab {
	return &Lab{Name: "demo", Title: "A demo", Steps: []*Step{
		{ID: "01", Slug: "first", Title: "First", Points: 10, Run: func(context.Context, *Narrator) error { return nil }},
		{ID: "02", Slug: "second", Title: "Second", Points: 5, Run: func(context.Context, *Narrator) error { panic(TODO("demo", "02")) }},
		{ID: "03", Slug: "third", Title: "Third", Points: 5, Run: func(context.Context, *Narrator) error { return errors.New("kernel said no") }},
	}}
}

func TestStepLookupAndNames(t *testing.T) {
	l := sampleLab()
	tests := []struct {
		id, want, err string
	}{
		{id: "01", want: "01_first"},
		{id: "2", want: "02_second"},
		{id: "9", err: `lab demo has no step "09" (steps: 01 02 03)`},
	}
	for _, tt := range tests {
		s, err := l.Step(tt.id)
		if tt.err != "" {
			if err == nil || err.Error() != tt.err {
				t.Errorf("Step(%q) error = %v, want %q", tt.id, err, tt.err)
			}
			continue
		}
		if err != nil || s.TestName() != tt.want {
			t.Errorf("Step(%q).TestName() = %v, %v; want %q", tt.id, s, err, tt.want)
		}
	}
	s, _ := l.Step("01")
	if got := l.Anchor(s); got != "docs/labs/demo.md#step-01" {
		t.Errorf("Anchor = %q", got)
	}
	if l.TestFunc() != "TestDemo" || l.Points() != 20 {
		t.Errorf("TestFunc, Points = %q, %d; want TestDemo, 20", l.TestFunc(), l.Points())
	}
	for name, want := range map[string]string{"uts": "TestUTS", "ipc": "TestIPC", "pid": "TestPID", "mount": "TestMount", "network": "TestNetwork"} {
		if got := (&Lab{Name: name}).TestFunc(); got != want {
			t.Errorf("Lab{Name: %q}.TestFunc() = %q, want %q", name, got, want)
		}
	}
}

func TestRecoverLetsOtherPanicsThrough(t *testing.T) {
	defer func() {
		if r := recover(); r != "boom" {
			t.Errorf("recovered %v; want the original panic boom", r)
		}
	}()
	Recover(func() error { panic("boom") })
}

func TestFormatTableMarksDifferences(t *testing.T) {
	host := ns.Set{IDs: map[ns.Kind]ns.ID{ns.UTS: {Kind: ns.UTS, Dev: 4, Inode: 100}, ns.IPC: {Kind: ns.IPC, Dev: 4, Inode: 200}}, Absent: []ns.Kind{ns.Time}}
	child := ns.Set{IDs: map[ns.Kind]ns.ID{ns.UTS: {Kind: ns.UTS, Dev: 4, Inode: 101}, ns.IPC: {Kind: ns.IPC, Dev: 4, Inode: 200}}, Absent: []ns.Kind{ns.Time}}
	out := FormatTable(Column{"host", host}, Column{"child", child})
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 3 {
		t.Fatalf("table has %d lines, want a heading, the differing kind and the shared ones:\n%s", len(lines), out)
	}
	if !strings.Contains(lines[1], "uts:[100]") || !strings.Contains(lines[1], "uts:[101]") || !strings.Contains(lines[1], "<- differs") {
		t.Errorf("uts row %q: want both IDs, marked as differing", lines[1])
	}
	if strings.TrimSpace(lines[2]) != "shared by all 2: ipc" {
		t.Errorf("last line %q: want the shared kinds named once", lines[2])
	}
}

func TestExpectAndFailf(t *testing.T) {
	var b bytes.Buffer
	n := NewNarrator(&b)
	if err := n.Expect(true, "kept %d", 1); err != nil {
		t.Errorf("Expect(true) = %v; want nil", err)
	}
	if err := n.Failf("lost %s", "it"); err == nil || err.Error() != "lost it" {
		t.Errorf("Failf = %v; want the error \"lost it\"", err)
	}
	if want := "   ok   kept 1\n   FAIL lost it\n"; b.String() != want {
		t.Errorf("narrated %q, want %q", b.String(), want)
	}
}
