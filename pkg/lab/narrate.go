package lab

import (
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/nslab/nslab/pkg/ns"
)

// Narrator prints what a step does, for a learner watching the lab run.
type Narrator struct {
	w io.Writer
	// tables are the namespace tables printed, and base the lab host's
	// namespaces, for the lab's diagram (Outcome.Procs).
	tables [][]Column
	base   *ns.Set
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

// Expect narrates a check like Check and returns it as an error when it
// failed, for a step's Run to return.
func (n *Narrator) Expect(ok bool, format string, args ...any) error {
	n.Check(ok, format, args...)
	if !ok {
		return fmt.Errorf(format, args...)
	}
	return nil
}

// Failf narrates a failed check and returns it as the step's error:
// Expect(false, format, args...).
func (n *Narrator) Failf(format string, args ...any) error {
	return n.Expect(false, format, args...)
}

// ComparePID reads the namespaces of the caller and of process pid, prints
// them side by side, and returns both.
func (n *Narrator) ComparePID(pid int, title string) (host, child ns.Set, err error) {
	if host, err = ns.Of(ns.Self); err != nil {
		return host, child, err
	}
	if child, err = ns.Of(pid); err != nil {
		return host, child, err
	}
	n.Compare(host, child, title)
	return host, child, nil
}

// NewKindsOnly narrates and checks the first step of every lab: process pid
// is in a new namespace of each of kinds, and shares every other kind with
// the caller, but for the user namespace pkg/spawn adds for a caller that
// is not root.
func (n *Narrator) NewKindsOnly(pid int, title string, kinds ...ns.Kind) error {
	host, child, err := n.ComparePID(pid, title)
	if err != nil {
		return err
	}
	if err := CheckNewKinds(host, child, kinds...); err != nil {
		n.Check(false, "%v", err)
		return err
	}
	n.Check(true, "new: %v; every other kind is shared with the caller", kinds)
	return nil
}

func unprivileged() bool { return os.Geteuid() != 0 }

// CheckNewKinds returns an error naming the first kind that is shared but
// should be new, or new but should be shared. A user namespace is allowed to
// differ when the caller is not root (pkg/spawn adds one).
func CheckNewKinds(host, child ns.Set, kinds ...ns.Kind) error {
	for _, k := range ns.Kinds() {
		h, _ := host.Get(k)
		c, _ := child.Get(k)
		isNew := slices.ContainsFunc(kinds, func(x ns.Kind) bool { return x.Base() == k.Base() })
		switch {
		case isNew && h.Equal(c):
			return fmt.Errorf("the child's %s namespace %s is the caller's; want a new one (did the Config's New include ns.%s?)", k, c, goName(k.Base()))
		case !isNew && !h.Equal(c) && !(k == ns.User && unprivileged()):
			return fmt.Errorf("the child's %s namespace is %s, the caller's %s; want it shared (only the kinds asked for, %v, are new)", k, c, h, kinds)
		}
	}
	return nil
}

// goName is the name of the ns constant of kind k, for messages: UTS, Mnt, PIDForChildren.
func goName(k ns.Kind) string {
	switch k {
	case ns.UTS, ns.IPC, ns.PID:
		return strings.ToUpper(string(k))
	}
	return strings.ToUpper(string(k[:1])) + string(k[1:])
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
	n.tables = append(n.tables, cols)
	n.w.Write([]byte(FormatTable(cols...)))
}

// procs are the processes of the tables printed, compared with the lab
// host's namespaces; nil before those are known.
func (n *Narrator) procs() []Proc {
	if n.base == nil {
		return nil
	}
	return procsOf(*n.base, n.tables)
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

// FormatTable renders Table's output; it is pure, for tests. Only the kinds
// whose namespaces differ get a row; the shared ones are named on one line
// after them, so that what a step changed stands out.
func FormatTable(cols ...Column) string {
	var b strings.Builder
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	head := []string{"   kind"}
	for _, c := range cols {
		head = append(head, c.Title)
	}
	fmt.Fprintln(tw, strings.Join(head, "\t")+"\t")
	var shared []string
	for _, k := range ns.Kinds() {
		row, differs := tableRow(k, cols)
		switch {
		case row == nil:
		case differs:
			fmt.Fprintln(tw, "   "+strings.Join(append(row, "<- differs"), "\t"))
		default:
			shared = append(shared, string(k))
		}
	}
	tw.Flush()
	if len(shared) > 0 {
		fmt.Fprintf(&b, "   shared by all %d: %s\n", len(cols), strings.Join(shared, " "))
	}
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
