package labtest

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/nslab/nslab/pkg/lab"
)

func demoLab() *lab.Lab {
	run := func(context.Context, *lab.Narrator) error { return nil }
	step := func(id, slug, title string, points int) *lab.Step {
		return &lab.Step{ID: id, Slug: slug, Title: title, Points: points, Explain: "e", Hints: []string{"h"}, Run: run}
	}
	return &lab.Lab{Name: "demo", Steps: []*lab.Step{step("01", "first", "First", 30), step("02", "second", "Second", 20)}}
}

var demoPage = lab.SpliceDiagram("# Demo\n", lab.DiagramBlock("```mermaid\nflowchart LR\n```\n")) + "\n<a id=\"step-01\"></a>\n## Step 01: First\n\ntext\n\n<a id=\"step-02\"></a>\n## Step 02: Second\n"

func TestShapeProblems(t *testing.T) {
	tests := []struct {
		name   string
		edit   func(l *lab.Lab)
		page   string
		points int
		want   []string // substrings, one per problem, in order
	}{
		{name: "good", page: demoPage, points: 50},
		{name: "points", page: demoPage, points: 100, want: []string{"lab demo is worth 50 points, want 100"}},
		{name: "order", page: demoPage, points: 50, edit: func(l *lab.Lab) { l.Steps[1].ID = "03" },
			want: []string{`lab demo, step 02 (docs/labs/demo.md): has ID "03", want "02"`, `step 02 (docs/labs/demo.md): the page has 0 times "<a id=\"step-03\"></a>"`}},
		{name: "slug", page: demoPage, points: 50, edit: func(l *lab.Lab) { l.Steps[1].Slug = "first" },
			want: []string{`step 02 (docs/labs/demo.md): slug "first" is also step 01's`}},
		{name: "incomplete", page: demoPage, points: 50, edit: func(l *lab.Lab) { l.Steps[0].Hints = nil },
			want: []string{"step 01 (docs/labs/demo.md): lacks a slug, a Do, an Explain, hints or points"}},
		{name: "title", page: demoPage, points: 50, edit: func(l *lab.Lab) { l.Steps[0].Title = "Other" },
			want: []string{`step 01 (docs/labs/demo.md): the page has 0 times "<a id=\"step-01\"></a>" followed by "## Step 01: Other"`}},
		{name: "anchor apart from heading", page: strings.Replace(demoPage, "</a>\n## Step 02", "</a>\n\n## Step 02", 1), points: 50,
			want: []string{"step 02 (docs/labs/demo.md): the page has 0 times"}},
		{name: "no diagram", page: strings.Replace(demoPage, "<!-- END DIAGRAM -->", "", 1), points: 50,
			want: []string{"lab demo (docs/labs/demo.md): no diagram between"}},
		{name: "section twice", page: demoPage + "\n<a id=\"step-01\"></a>\n## Step 01: First\n", points: 50,
			want: []string{"step 01 (docs/labs/demo.md): the page has 2 times"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := demoLab()
			if tt.edit != nil {
				tt.edit(l)
			}
			got := shapeProblems(l, tt.page, tt.points)
			if len(got) != len(tt.want) {
				t.Fatalf("shapeProblems = %q; want %d problems like %q", got, len(tt.want), tt.want)
			}
			for i := range got {
				if !strings.Contains(got[i], tt.want[i]) {
					t.Errorf("problem %d = %q; want it to contain %q", i, got[i], tt.want[i])
				}
			}
		})
	}
}

// recorder is a testing.TB that keeps the errors reported to it.
type recorder struct {
	testing.TB
	errs []string
}

func (r *recorder) Errorf(format string, args ...any) {
	r.errs = append(r.errs, fmt.Sprintf(format, args...))
}

func TestCheckLabAt(t *testing.T) {
	path := filepath.Join(t.TempDir(), "demo.md")
	if err := os.WriteFile(path, []byte(demoPage), 0o600); err != nil {
		t.Fatal(err)
	}
	r := &recorder{TB: t}
	checkLabAt(r, demoLab(), 50, path)
	if len(r.errs) != 0 {
		t.Errorf("checkLabAt(a good lab) reported %q; want nothing", r.errs)
	}
	if err := os.WriteFile(path, []byte(strings.ReplaceAll(demoPage, "Second", "Later")), 0o600); err != nil {
		t.Fatal(err)
	}
	r = &recorder{TB: t}
	checkLabAt(r, demoLab(), 50, path)
	if len(r.errs) != 1 || !strings.Contains(r.errs[0], "step 02 (docs/labs/demo.md)") {
		t.Errorf("checkLabAt(a page without step 02's heading) reported %q; want one error naming step 2 and the page", r.errs)
	}
	r = &recorder{TB: t}
	checkLabAt(r, demoLab(), 50, filepath.Join(filepath.Dir(path), "none.md"))
	if len(r.errs) != 1 || !strings.Contains(r.errs[0], "no such file") {
		t.Errorf("checkLabAt(a missing page) reported %q; want the read error", r.errs)
	}
}

func TestModuleRoot(t *testing.T) {
	root, err := moduleRoot()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "pkg", "lab", "labtest", "shape.go")); err != nil {
		t.Errorf("moduleRoot() = %s, which has no pkg/lab/labtest/shape.go: %v", root, err)
	}
}

func TestSteps(t *testing.T) {
	var ran []string
	record := func(t *testing.T) { ran = append(ran, t.Name()) }
	Steps(t, demoLab(), record, record)
	if want := []string{"TestSteps/01_first", "TestSteps/02_second"}; !slices.Equal(ran, want) {
		t.Errorf("Steps ran %q; want %q", ran, want)
	}
	if err := sameCount(demoLab(), 1); err == nil || !strings.Contains(err.Error(), "lab demo has 2 steps, but 1 step tests were given") {
		t.Errorf("sameCount(demo, 1) = %v; want an error saying 2 steps, 1 test", err)
	}
}
