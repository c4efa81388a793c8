package lab

import (
	"strings"
	"testing"

	"github.com/nslab/nslab/pkg/ns"
)

// set makes a namespace set of inode numbers by kind (device 1).
func set(pid int, inodes map[ns.Kind]uint64) ns.Set {
	s := ns.Set{PID: pid, IDs: map[ns.Kind]ns.ID{}}
	for _, k := range ns.Kinds() {
		s.IDs[k] = ns.ID{Kind: k, Dev: 1, Inode: 100}
	}
	for k, ino := range inodes {
		s.IDs[k] = ns.ID{Kind: k, Dev: 1, Inode: ino}
	}
	return s
}

func TestProcsOf(t *testing.T) {
	base := set(7, nil)
	holder := set(12, map[ns.Kind]uint64{ns.UTS: 201})
	peer := set(13, map[ns.Kind]uint64{ns.UTS: 201, ns.IPC: 301})
	pidChild := set(14, map[ns.Kind]uint64{ns.PID: 401, ns.PIDForChildren: 401})
	thread := set(15, map[ns.Kind]uint64{ns.PIDForChildren: 402})
	tests := []struct {
		name   string
		tables [][]Column
		want   []Proc
	}{
		{name: "the lab host itself is left out", tables: [][]Column{{{Title: "host (PID 7)", Set: base}}}},
		{
			name:   "PIDs go, sharing is seen, a process counts once",
			tables: [][]Column{{{Title: "host (PID 7)", Set: base}, {Title: "holder (PID 12)", Set: holder}, {Title: "peer (PID 13) (PID 13)", Set: peer}}, {{Title: "peer (PID 13)", Set: peer}}},
			want: []Proc{
				{Name: "holder", New: []ns.Kind{ns.UTS}},
				{Name: "peer", New: []ns.Kind{ns.IPC, ns.UTS}, Shares: []Shared{{With: "holder", Kinds: []ns.Kind{ns.UTS}}}},
			},
		},
		{
			name:   "pid_for_children only where it is not the new pid namespace",
			tables: [][]Column{{{Title: "child (PID 14)", Set: pidChild}, {Title: "locked thread (TID 15)", Set: thread}}},
			want:   []Proc{{Name: "child", New: []ns.Kind{ns.PID}}, {Name: "locked thread", New: []ns.Kind{ns.PIDForChildren}}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := procsOf(base, tt.tables)
			if len(got) != len(tt.want) {
				t.Fatalf("procsOf = %+v; want %+v", got, tt.want)
			}
			for i := range got {
				if g, w := describeProc(got[i]), describeProc(tt.want[i]); g != w {
					t.Errorf("process %d = %s; want %s", i, g, w)
				}
			}
		})
	}
}

func describeProc(p Proc) string {
	s := p.Name + " new " + kindList(p.New)
	for _, sh := range p.Shares {
		s += "; shares " + kindList(sh.Kinds) + " with " + sh.With
	}
	return s
}

func TestDiagram(t *testing.T) {
	l := sampleLab()
	l.Steps[0].Title = `A "quoted" title`
	got := Diagram(l, map[string][]Proc{
		"01": {{Name: "holder", New: []ns.Kind{ns.UTS}}, {Name: "peer", New: []ns.Kind{ns.UTS}, Shares: []Shared{{With: "holder", Kinds: []ns.Kind{ns.UTS}}}}},
		"03": {{Name: "child", New: []ns.Kind{ns.PID, ns.UTS}}},
	})
	want := "```mermaid\nflowchart LR\n" +
		"  subgraph s01[\"Step 01: A #quot;quoted#quot; title\"]\n" +
		"    s01p1[\"holder<br/>new: uts\"]\n" +
		"    s01p2[\"peer<br/>new: uts\"]\n" +
		"  end\n" +
		"  subgraph s03[\"Step 03: Third\"]\n" +
		"    s03p1[\"child<br/>new: pid, uts\"]\n" +
		"  end\n" +
		"  s01p1 -. shares uts .- s01p2\n" +
		"```\n"
	if got != want {
		t.Errorf("Diagram =\n%s\nwant\n%s", got, want)
	}
}

func TestSpliceDiagram(t *testing.T) {
	page := "# Lab: demo\n\nIntro.\n\n## Step 01\n"
	if _, err := PageDiagram(page); err == nil {
		t.Fatal("PageDiagram of a page without markers: no error")
	}
	first := SpliceDiagram(page, DiagramBlock("```mermaid\nA\n```\n"))
	if !strings.HasPrefix(first, "# Lab: demo\n\n"+diagramBegin) || !strings.HasSuffix(first, diagramEnd+"\n\nIntro.\n\n## Step 01\n") {
		t.Fatalf("first splice: the block is not right after the title:\n%s", first)
	}
	second := SpliceDiagram(first, DiagramBlock("```mermaid\nB\n```\n"))
	if strings.Contains(second, "\nA\n") || strings.Count(second, diagramBegin) != 1 || !strings.Contains(second, "\nB\n") {
		t.Fatalf("second splice did not replace the block:\n%s", second)
	}
	if got, err := PageDiagram(second); err != nil || got != DiagramBlock("```mermaid\nB\n```\n") {
		t.Errorf("PageDiagram = %q, %v; want the block put in", got, err)
	}
}
