package lab

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/nslab/nslab/pkg/ns"
)

// Proc is one process a step showed in its namespace tables, as the
// diagram of a lab draws it: the namespaces it does not share with the lab
// host, and the processes of the same step it shares some of them with.
type Proc struct {
	Name   string    // the column's title without its "(PID n)": "child", "holder A"
	New    []ns.Kind // in the order of ns.Kinds; a *_for_children kind only where it differs from its base
	Shares []Shared  `json:",omitempty"`
}

// Shared says that a process shares namespaces of kinds with an earlier
// process of its step, both of them apart from the lab host.
type Shared struct {
	With  string
	Kinds []ns.Kind
}

// EnvDiagrams names a directory where each lab's graded test, when every
// step passed, writes its diagram (LAB.mmd): go tool mage diagrams sets it.
const EnvDiagrams = "NSLAB_DIAGRAMS"

var pidSuffix = regexp.MustCompile(`\s*\((PID|TID) [^)]*\)`)

// procsOf turns the tables a step's check printed into its processes, each
// compared with base, the lab host (the runner). A process that shares
// every namespace with the lab host is left out; one shown in several
// tables (under the same title) counts once.
func procsOf(base ns.Set, tables [][]Column) []Proc {
	var procs []Proc
	index := map[string]int{}
	for _, cols := range tables {
		for j, c := range cols {
			name := pidSuffix.ReplaceAllString(c.Title, "")
			fresh := newKinds(base, c.Set)
			if len(fresh) == 0 {
				continue
			}
			i, seen := index[name]
			if !seen {
				i = len(procs)
				index[name] = i
				procs = append(procs, Proc{Name: name, New: fresh})
			}
			for _, o := range cols[:j] {
				other := pidSuffix.ReplaceAllString(o.Title, "")
				if kinds := sharedKinds(fresh, c.Set, o.Set); other != name && len(kinds) > 0 {
					procs[i].share(other, kinds)
				}
			}
		}
	}
	return procs
}

func (p *Proc) share(with string, kinds []ns.Kind) {
	for _, s := range p.Shares {
		if s.With == with {
			return
		}
	}
	p.Shares = append(p.Shares, Shared{With: with, Kinds: kinds})
}

// newKinds lists the kinds whose namespace in s is not base's, leaving out
// pid_for_children (time_for_children) where it is the new pid (time)
// namespace itself.
func newKinds(base, s ns.Set) []ns.Kind {
	var out []ns.Kind
	for _, k := range ns.Diff(base, s) {
		id, ok := s.Get(k)
		if !ok {
			continue
		}
		if b := k.Base(); b != k {
			if own, ok := s.Get(b); ok && own.Equal(id) && slices.Contains(out, b) {
				continue
			}
		}
		out = append(out, k)
	}
	return out
}

// sharedKinds lists the kinds of fresh whose namespace a and b share.
func sharedKinds(fresh []ns.Kind, a, b ns.Set) []ns.Kind {
	var out []ns.Kind
	for _, k := range fresh {
		x, okx := a.Get(k)
		y, oky := b.Get(k)
		if okx && oky && x.Equal(y) {
			out = append(out, k)
		}
	}
	return out
}

// The markers around a lab page's diagram: the block between them is made
// by Diagram and replaced by SpliceDiagram.
const (
	diagramBegin = "<!-- BEGIN DIAGRAM: the namespaces the steps build, drawn from a run of the reference by `go tool mage diagrams`; do not edit -->"
	diagramEnd   = "<!-- END DIAGRAM -->"
)

// Diagram draws, in Mermaid (which GitHub renders), the namespaces the
// steps of l build: a box per step that showed a process in namespaces of
// its own, each process with the kinds it does not share with the lab host,
// and a dotted line between processes of a step that share some of theirs.
// procs holds each step's processes, by step ID, as a graded run recorded
// them (Outcome.Procs).
func Diagram(l *Lab, procs map[string][]Proc) string {
	var b strings.Builder
	b.WriteString("```mermaid\nflowchart LR\n")
	var links []string
	for _, s := range l.Steps {
		ps := procs[s.ID]
		if len(ps) == 0 {
			continue
		}
		fmt.Fprintf(&b, "  subgraph s%s[%s]\n", s.ID, quote("Step "+s.ID+": "+s.Title))
		ids := map[string]string{}
		for i, p := range ps {
			id := fmt.Sprintf("s%sp%d", s.ID, i+1)
			ids[p.Name] = id
			fmt.Fprintf(&b, "    %s[%s]\n", id, quote(p.Name+"<br/>new: "+kindList(p.New)))
		}
		b.WriteString("  end\n")
		for _, p := range ps {
			for _, sh := range p.Shares {
				if with, ok := ids[sh.With]; ok {
					links = append(links, fmt.Sprintf("  %s -. shares %s .- %s\n", with, kindList(sh.Kinds), ids[p.Name]))
				}
			}
		}
	}
	for _, link := range links {
		b.WriteString(link)
	}
	b.WriteString("```\n")
	return b.String()
}

func kindList(kinds []ns.Kind) string {
	s := make([]string, len(kinds))
	for i, k := range kinds {
		s[i] = string(k)
	}
	return strings.Join(s, ", ")
}

// quote makes s a Mermaid label: in double quotes, with the quotes it holds
// written as the entity Mermaid knows.
func quote(s string) string {
	return `"` + strings.ReplaceAll(s, `"`, "#quot;") + `"`
}

// DiagramBlock is what a lab's page holds between its diagram markers: a
// line saying how to read the diagram, and the diagram.
func DiagramBlock(diagram string) string {
	return diagramBegin + "\n\nWhat the steps build: each box is a step, each process in it names the namespaces it does not\n" +
		"share with the lab host, and a dotted line joins two processes of a step that share some of theirs.\n\n" +
		diagram + "\n" + diagramEnd
}

// ErrNoDiagram is PageDiagram's error for a page without the markers.
var ErrNoDiagram = errors.New("no diagram between " + diagramBegin + " and " + diagramEnd)

// PageDiagram returns the block between a page's diagram markers, the
// markers included.
func PageDiagram(page string) (string, error) {
	i := strings.Index(page, diagramBegin)
	j := strings.Index(page, diagramEnd)
	if i < 0 || j < i {
		return "", ErrNoDiagram
	}
	return page[i : j+len(diagramEnd)], nil
}

// SpliceDiagram puts block (DiagramBlock) into page: in place of the one it
// has, or else right after its title, the first line.
func SpliceDiagram(page, block string) string {
	if old, err := PageDiagram(page); err == nil {
		return strings.Replace(page, old, block, 1)
	}
	title, rest, _ := strings.Cut(page, "\n")
	return title + "\n\n" + block + "\n" + rest
}
