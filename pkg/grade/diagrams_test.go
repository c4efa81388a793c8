package grade

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nslab/nslab/pkg/lab"
)

func TestDiagrams(t *testing.T) {
	root, drawn := t.TempDir(), t.TempDir()
	l := demo()
	page := filepath.Join(root, l.Doc())
	if err := os.MkdirAll(filepath.Dir(page), 0o755); err != nil {
		t.Fatal(err)
	}
	write := func(path, text string) {
		t.Helper()
		if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(page, "# Lab: demo\n\nIntro.\n")
	labs := []*lab.Lab{l}

	if err := Diagrams(drawn, root, labs, false); err == nil || !strings.Contains(err.Error(), "lab demo: no diagram was drawn") {
		t.Fatalf("Diagrams without a drawing = %v; want it to say none was drawn", err)
	}
	write(filepath.Join(drawn, "demo.mmd"), "```mermaid\nflowchart LR\n```\n")
	if err := Diagrams(drawn, root, labs, false); err == nil || !strings.Contains(err.Error(), "docs/labs/demo.md: its diagram is not what the steps build") {
		t.Fatalf("Diagrams of a page without the drawing = %v; want it to name the page", err)
	}
	if err := Diagrams(drawn, root, labs, true); err != nil {
		t.Fatalf("Diagrams writing the page: %v", err)
	}
	if err := Diagrams(drawn, root, labs, false); err != nil {
		t.Errorf("Diagrams of the page just written: %v; want nil", err)
	}
	b, err := os.ReadFile(page)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(b), "# Lab: demo\n\n<!-- BEGIN DIAGRAM") || !strings.HasSuffix(string(b), "<!-- END DIAGRAM -->\n\nIntro.\n") {
		t.Errorf("the page written:\n%s\nwant the diagram between the title and the intro", b)
	}
}
