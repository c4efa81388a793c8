//go:build linux

package loop_test

import (
	"fmt"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"

	_ "github.com/nslab/nslab/labs/all"
	"github.com/nslab/nslab/pkg/lab"
)

// TestDocFigures: the figures docs/instructors.md gives (steps and points
// per lab, the totals, what the honesty check prints, the results.json
// example) are the labs' own, so they cannot drift from steps.go.
func TestDocFigures(t *testing.T) {
	raw, err := os.ReadFile("../../docs/instructors.md")
	if err != nil {
		t.Fatal(err)
	}
	doc := string(raw)
	steps, points := 0, 0
	var want []string
	for _, l := range lab.All() {
		steps, points = steps+len(l.Steps), points+l.Points()
		want = append(want, fmt.Sprintf("| [%s](labs/%s.md) | %d | %d |", l.Name, l.Name, len(l.Steps), l.Points()))
	}
	want = append(want,
		fmt.Sprintf("| **total** | **%d** | **%d** |", steps, points),
		fmt.Sprintf("starter edition: 0/%d points, %d of %d steps fail", points, steps, steps),
		fmt.Sprintf("reference: %d/%d points, %d of %d steps pass", points, points, steps, steps),
		fmt.Sprintf(`"score": 150, "max_score": %d,`, points),
	)
	for _, w := range want {
		if !strings.Contains(doc, w) {
			t.Errorf("docs/instructors.md has no %q (the labs' figures)", w)
		}
	}
	// No row for a lab that is not registered any more.
	rows := regexp.MustCompile(`(?m)^\| \[(\w+)\]\(labs/\w+\.md\) \| (\d+) \| (\d+) \|$`).FindAllStringSubmatch(doc, -1)
	if len(rows) != len(lab.All()) {
		t.Errorf("docs/instructors.md has %d lab rows; the course has %d labs", len(rows), len(lab.All()))
	}
	for _, r := range rows {
		if _, err := lab.Get(r[1]); err != nil {
			n, _ := strconv.Atoi(r[2])
			t.Errorf("docs/instructors.md lists lab %s (%d steps): %v", r[1], n, err)
		}
	}
}
