package lab

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/nslab/nslab/pkg/ns"
)

// Narrator prints what a step does, for a learner watching the lab run.
type Narrator struct {
	w io.Writer
}

// NewNarrator narrates to w; io.Discard silences it (as in tests).
func NewNarrator(w io.Writer) *Narrator { return &Narrator{w: w} }

// Say prints one line of explanation.
func (n *Narrator) Say(format string, args ...any) {
	fmt.Fprintf(n.w, "   "+format+"\n", args...)
}

// Check prints a line saying that the kernel did (or did not) what was expected.
func (n *Narrator) Check(ok bool, format string, args ...any) {
	mark := "ok  "
	if !ok {
		mark = "FAIL"
	}
	fmt.Fprintf(n.w, "   %s %s\n", mark, fmt.Sprintf(format, args...))
}

// Column is one process's namespaces with a heading, for Table.
type Column struct {
	Title string // "host (PID 4242)"
	Set   ns.Set
}

// Table prints the namespace tables of several processes side by side, the
// view of ls -l /proc/PID/ns, and marks the kinds whose namespaces differ
// from the first column's.
func (n *Narrator) Table(cols ...Column) {
	n.w.Write([]byte(FormatTable(cols...)))
}

// Compare prints the table of the caller (the host) and a child.
func (n *Narrator) Compare(host, child ns.Set, childTitle string) {
	n.Table(Column{Title: fmt.Sprintf("host (PID %v)", pidOf(host)), Set: host},
		Column{Title: fmt.Sprintf("%s (PID %d)", childTitle, child.PID), Set: child})
}

func pidOf(s ns.Set) any {
	if s.PID == ns.Self {
		return "self"
	}
	return s.PID
}

// FormatTable renders Table's output; it is pure, for tests.
func FormatTable(cols ...Column) string {
	var b strings.Builder
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	head := []string{"   kind"}
	for _, c := range cols {
		head = append(head, c.Title)
	}
	fmt.Fprintln(tw, strings.Join(head, "\t")+"\t")
	for _, k := range ns.Kinds {
		row, differs := tableRow(k, cols)
		if row == nil {
			continue
		}
		mark := ""
		if differs {
			mark = "<- differs"
		}
		fmt.Fprintln(tw, "   "+strings.Join(append(row, mark), "\t"))
	}
	tw.Flush()
	return b.String()
}

func tableRow(k ns.Kind, cols []Column) ([]string, bool) {
	row := []string{string(k)}
	present, differs := false, false
	first, _ := cols[0].Set.Get(k)
	for _, c := range cols {
		id, ok := c.Set.Get(k)
		if !ok {
			row = append(row, "-")
			continue
		}
		present = true
		row = append(row, id.String())
		differs = differs || !id.Equal(first)
	}
	if !present || slices.Contains(cols[0].Set.Absent, k) && !differs {
		return nil, false
	}
	return row, differs
}
