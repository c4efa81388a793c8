package labtest

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/nslab/nslab/pkg/lab"
)

// CheckLab checks the shape every lab has: steps numbered 01, 02, … in
// order, with unique slugs, each with a Do, an Explain, hints and points,
// worth points in all; and in the lab's page, docs/labs/NAME.md from the
// module root, each step's anchor <a id="step-NN"></a> on the line before
// its heading "## Step NN: Title", the section every failure points to,
// and at its top the diagram of the namespaces the steps build (the
// drawing itself is compared with a run of the reference by go tool mage
// honesty).
func CheckLab(t testing.TB, l *lab.Lab, points int) {
	t.Helper()
	root, err := moduleRoot()
	if err != nil {
		t.Skipf("skip: find %s: %v", l.Doc(), err)
	}
	checkLabAt(t, l, points, filepath.Join(root, l.Doc()))
}

// checkLabAt is CheckLab with the page at path.
func checkLabAt(t testing.TB, l *lab.Lab, points int, path string) {
	t.Helper()
	page, err := os.ReadFile(path)
	if err != nil {
		t.Errorf("lab %s: read its page: %v", l.Name, err)
		return
	}
	for _, p := range shapeProblems(l, string(page), points) {
		t.Errorf("%s", p)
	}
}

// shapeProblems lists what is wrong with lab l and its page, one message a
// problem, each naming the step and the page.
func shapeProblems(l *lab.Lab, page string, points int) []string {
	var out []string
	slugs := map[string]string{} // slug -> step ID
	for i, s := range l.Steps {
		at := fmt.Sprintf("lab %s, step %02d (%s)", l.Name, i+1, l.Doc())
		if want := fmt.Sprintf("%02d", i+1); s.ID != want {
			out = append(out, fmt.Sprintf("%s: has ID %q, want %q", at, s.ID, want))
		}
		if prev, dup := slugs[s.Slug]; dup {
			out = append(out, fmt.Sprintf("%s: slug %q is also step %s's", at, s.Slug, prev))
		}
		slugs[s.Slug] = s.ID
		if s.Slug == "" || (s.Do == nil && s.Run == nil) || s.Explain == "" || len(s.Hints) == 0 || s.Points <= 0 {
			out = append(out, fmt.Sprintf("%s: lacks a slug, a Do, an Explain, hints or points", at))
		}
		anchor := fmt.Sprintf("<a id=%q></a>", s.AnchorID())
		heading := fmt.Sprintf("## Step %s: %s", s.ID, s.Title)
		if n := strings.Count(page, anchor+"\n"+heading+"\n"); n != 1 {
			out = append(out, fmt.Sprintf("%s: the page has %d times %q followed by %q; want it once", at, n, anchor, heading))
		}
	}
	if _, err := lab.PageDiagram(page); err != nil {
		out = append(out, fmt.Sprintf("lab %s (%s): %v; go tool mage diagrams draws it", l.Name, l.Doc(), err))
	}
	if got := l.Points(); got != points {
		out = append(out, fmt.Sprintf("lab %s is worth %d points, want %d", l.Name, got, points))
	}
	return out
}

// moduleRoot is the directory of go.mod above the working directory (the
// package's, under go test), or else above this source file.
func moduleRoot() (string, error) {
	wd, err := os.Getwd()
	if err != nil {
		return "", err
	}
	if root, ok := findUp(wd, "go.mod"); ok {
		return root, nil
	}
	if _, self, _, ok := runtime.Caller(0); ok {
		if root, ok := findUp(filepath.Dir(self), "go.mod"); ok {
			return root, nil
		}
	}
	return "", errors.New("no go.mod above the working directory " + wd)
}

// findUp returns the first of dir and its parents that holds name.
func findUp(dir, name string) (string, bool) {
	for {
		if _, err := os.Stat(filepath.Join(dir, name)); err == nil {
			return dir, true
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", false
		}
		dir = parent
	}
}
