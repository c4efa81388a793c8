//go:build linux

package uts_test

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/nslab/nslab/labs/uts"
)

// TestLabShape checks that the steps are numbered 01.. in order and that the
// docs page has the section every failure message points to.
func TestLabShape(t *testing.T) {
	page, err := os.ReadFile(repoFile(uts.Lab.Doc()))
	if err != nil {
		t.Fatal(err)
	}
	total := 0
	for i, s := range uts.Lab.Steps {
		if want := fmt.Sprintf("%02d", i+1); s.ID != want {
			t.Errorf("step %d has ID %q, want %q", i, s.ID, want)
		}
		if anchor := fmt.Sprintf("<a id=%q></a>", s.AnchorID()); !strings.Contains(string(page), anchor) {
			t.Errorf("%s has no %s for step %s", uts.Lab.Doc(), anchor, s.ID)
		}
		if heading := fmt.Sprintf("## Step %s: %s", s.ID, s.Title); !strings.Contains(string(page), heading) {
			t.Errorf("%s has no heading %q", uts.Lab.Doc(), heading)
		}
		if s.Run == nil || s.Explain == "" || len(s.Hints) == 0 || s.Points <= 0 {
			t.Errorf("step %s lacks a Run, an Explain, hints or points", s.ID)
		}
		total += s.Points
	}
	if total != 50 {
		t.Errorf("the lab is worth %d points, want 50", total)
	}
}

// repoFile finds path from the repository root through this file's source
// path, so that a test binary run from another directory (as another user)
// finds it too.
func repoFile(path string) string {
	_, self, _, ok := runtime.Caller(0)
	if !ok {
		return filepath.Join("..", "..", path)
	}
	return filepath.Join(filepath.Dir(self), "..", "..", path)
}

func TestParseNames(t *testing.T) {
	tests := []struct {
		name, line string
		want       uts.Names
		wantErr    bool
	}{
		{name: "report", line: `{"hostname":"a","domainname":"b"}` + "\n", want: uts.Names{Hostname: "a", Domainname: "b"}},
		{name: "unset domain", line: `{"hostname":"vm","domainname":"(none)"}`, want: uts.Names{Hostname: "vm", Domainname: "(none)"}},
		{name: "not json", line: "vm", wantErr: true},
		{name: "empty", line: "", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := uts.ParseNames(tt.line)
			if (err != nil) != tt.wantErr || got != tt.want {
				t.Errorf("ParseNames(%q) = %v, %v; want %v, error %v", tt.line, got, err, tt.want, tt.wantErr)
			}
		})
	}
}

func TestLabNamesDiffer(t *testing.T) {
	a, b := uts.LabNames(), uts.LabNames()
	if a == b || !strings.HasPrefix(a.Hostname, "uts-lab-") || len(a.Hostname) > 64 || len(a.Domainname) > 64 {
		t.Errorf("LabNames() = %v, then %v; want two different uts-lab-* names of at most 64 bytes", a, b)
	}
}
