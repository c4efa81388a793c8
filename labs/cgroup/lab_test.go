//go:build linux

package cgroup

import (
	"errors"
	"fmt"
	"io"
	"reflect"
	"strconv"
	"testing"

	"github.com/nslab/nslab/pkg/lab"
	"github.com/nslab/nslab/pkg/lab/labtest"
	"golang.org/x/sys/unix"
)

// TestLabShape checks the steps and the docs page (labtest.CheckLab).
func TestLabShape(t *testing.T) { labtest.CheckLab(t, Lab, 60) }

func TestSeenFrom(t *testing.T) {
	tests := []struct{ root, p, want string }{
		{"/a", "/a", "/"},
		{"/a", "/a/sub", "/sub"},
		{"/a", "/b", "/../b"},
		{"/a", "/", "/.."},
		{"/a/b", "/", "/../.."},
		{"/", "/x/y", "/x/y"},
		{"/nslab/labhost-1/ns", "/nslab/labhost-1/sibling", "/../sibling"},
		{"/a/b", "/a/bc", "/../bc"},
	}
	for _, tt := range tests {
		if got := seenFrom(tt.root, tt.p); got != tt.want {
			t.Errorf("seenFrom(%q, %q) = %q, want %q", tt.root, tt.p, got, tt.want)
		}
	}
}

func TestPathIn(t *testing.T) {
	text := "9:name=systemd:/\n8:pids:/nslab/labhost-1\n2:cpu,cpuacct:/a:b\n0::/../x\n"
	tests := []struct {
		controller, want string
		ok               bool
	}{
		{"", "/../x", true},
		{"pids", "/nslab/labhost-1", true},
		{"cpuacct", "/a:b", true},
		{"memory", "", false},
	}
	for _, tt := range tests {
		got, ok := pathIn(text, tt.controller)
		if got != tt.want || ok != tt.ok {
			t.Errorf("pathIn(%q) = %q, %v; want %q, %v", tt.controller, got, ok, tt.want, tt.ok)
		}
	}
	if _, ok := pathIn("", ""); ok {
		t.Errorf("pathIn of no text found a line")
	}
}

func TestMounts(t *testing.T) {
	text := "445 392 0:38 /../.. /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw\n" +
		"443 392 0:36 / /sys/fs/cgroup/pids rw,relatime shared:5 - cgroup cgroup rw,pids\n" +
		"188 418 0:38 / /tmp/a\\040b rw,relatime - cgroup2 none rw\n" +
		"short line\n" +
		"189 418 0:38 /x /tmp/a\\040b rw,relatime - cgroup2 none rw\n"
	ms := mounts(text)
	if len(ms) != 4 {
		t.Fatalf("mounts read %d lines, want 4: %+v", len(ms), ms)
	}
	want := mountEntry{Root: "/../..", Point: "/sys/fs/cgroup/unified", FSType: "cgroup2", Options: "rw,relatime", Super: "rw"}
	if ms[0] != want {
		t.Errorf("mounts()[0] = %+v, want %+v", ms[0], want)
	}
	if !ms[1].v1Pids() || ms[0].v1Pids() {
		t.Errorf("v1Pids: %+v %v, %+v %v; want true for the pids mount only", ms[1], ms[1].v1Pids(), ms[0], ms[0].v1Pids())
	}
	if m, ok := mountAt(ms, "/tmp/a b"); !ok || m.Root != "/x" {
		t.Errorf("mountAt(/tmp/a b) = %+v, %v; want the topmost, root /x", m, ok)
	}
}

// TestParseTable checks the lab's own parse, used on the runner's own
// text, against the table of step 02.
func TestParseTable(t *testing.T) {
	for _, tc := range parseCases {
		if tc.bad {
			continue
		}
		got, err := parseOwn(tc.text)
		if err != nil || !sameMemberships(got, tc.want) {
			t.Errorf("parseOwn(%q) = %v, %v; want %v", tc.text, got, err, tc.want)
		}
	}
}

// TestCheckParse runs the check of step 02 on recorded reports.
func TestCheckParse(t *testing.T) {
	good := func() parseReport {
		r := parseReport{Own: parsed{Text: "1:cpu:/\n0::/\n", Got: []Membership{{1, []string{"cpu"}, "/"}, {0, []string{}, "/"}}}}
		for _, tc := range parseCases {
			p := parsed{Text: tc.text, Got: tc.want}
			if tc.bad {
				p.Err = fmt.Sprintf("line %q: want hierarchy-ID:controllers:path", tc.line)
			}
			r.Cases = append(r.Cases, p)
		}
		return r
	}
	c := lab.NewCheck(lab.NewNarrator(io.Discard), "/nonexistent", 1)
	check := func(r parseReport) error { return lab.CheckReport(Lab.Steps[1].Do, c, r) }
	labtest.Edits(t, good, check, []labtest.Edit[parseReport]{
		{Name: "right"},
		{Name: "refuses a colon in the path", Change: func(r *parseReport) {
			r.Cases[3].Got, r.Cases[3].Err = nil, "line \"0::/lab:a/b\": want hierarchy-ID:controllers:path"
		}, Want: "colon in the path"},
		{Name: "error names no line", Change: func(r *parseReport) { r.Cases[len(r.Cases)-1].Err = "bad line" }, Want: "names the line"},
		{Name: "drops a line of the runner's text", Change: func(r *parseReport) { r.Own.Got = r.Own.Got[:1] }, Want: "runner's /proc/self/cgroup"},
	})
}

func TestPidsString(t *testing.T) {
	if got, want := (Pids{Max: NoLimit, Current: 2}).String(), "pids.max max, pids.current 2"; got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
	if !reflect.DeepEqual(Pids{Max: 64}, Pids{Max: 64, Current: 0}) {
		t.Error("Pids compare by value")
	}
}

// TestCheckRefused judges recorded answers to a call the kernel refuses.
func TestCheckRefused(t *testing.T) {
	c := lab.NewCheck(lab.NewNarrator(io.Discard), "/nonexistent", 1)
	tests := []struct {
		name string
		err  error
		want string // in the failure; "" for none
	}{
		{"returned", fmt.Errorf("move PID 7: %w", unix.ESRCH), ""},
		{"nil", nil, "returned no error"},
		{"own error", errors.New("move PID 7: no such process"), "want an error that wraps the kernel's ESRCH"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			labtest.FailsWith(t, checkRefused(c, refused("MoveTo(d, 7)", tt.err, "the kernel's ESRCH")), tt.want)
		})
	}
	named := refused("ReadPids(d)", fmt.Errorf("parse: %w", strconv.ErrSyntax), "strconv's ErrSyntax")
	named.Name = "d/pids.current"
	labtest.FailsWith(t, checkRefused(c, named), "names the file")
}
