//go:build linux

package pid_test

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/nslab/nslab/labs/pid"
	"github.com/nslab/nslab/pkg/lab"
)

// TestLabShape checks that the steps are numbered 01.. in order, that each
// is complete, and that the docs page has the section every failure points to.
func TestLabShape(t *testing.T) {
	page, err := os.ReadFile(repoFile(pid.Lab.Doc()))
	if err != nil {
		t.Fatal(err)
	}
	total := 0
	for i, s := range pid.Lab.Steps {
		if want := fmt.Sprintf("%02d", i+1); s.ID != want {
			t.Errorf("step %d has ID %q, want %q", i, s.ID, want)
		}
		anchor := fmt.Sprintf("<a id=%q></a>", s.AnchorID())
		heading := fmt.Sprintf("## Step %s: %s", s.ID, s.Title)
		if !strings.Contains(string(page), anchor+"\n"+heading+"\n") {
			t.Errorf("%s has no %s followed by %q", pid.Lab.Doc(), anchor, heading)
		}
		if s.Run == nil || s.Explain == "" || len(s.Hints) == 0 || s.Points <= 0 {
			t.Errorf("step %s lacks a Run, an Explain, hints or points", s.ID)
		}
		total += s.Points
	}
	if total != 100 {
		t.Errorf("the lab is worth %d points, want 100", total)
	}
	if got, err := lab.Get("pid"); err != nil || got != pid.Lab {
		t.Errorf("lab.Get(\"pid\") = %v, %v; want the registered lab", got, err)
	}
	if pid.Lab.TestFunc() != "TestPID" {
		t.Errorf("TestFunc() = %q, want TestPID", pid.Lab.TestFunc())
	}
}

// repoFile finds path from the repository root through this file's source
// path, so that a test binary run from another directory finds it too.
func repoFile(path string) string {
	_, self, _, ok := runtime.Caller(0)
	if !ok {
		return filepath.Join("..", "..", path)
	}
	return filepath.Join(filepath.Dir(self), "..", "..", path)
}
