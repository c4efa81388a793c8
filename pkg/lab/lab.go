package lab

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"
)

// Lab is one namespace's lab: its steps in the order a learner takes them.
type Lab struct {
	Name    string // the word a learner knows: uts, ipc, mount, pid, network, user
	Title   string // "UTS namespaces: a hostname of one's own"
	Summary string // one paragraph shown before the first step
	Steps   []*Step
}

// Step is one graded step of a lab.
type Step struct {
	ID      string   // "01", "02", …: the order, and the prefix of the test name
	Slug    string   // "new_namespace": the rest of the test name
	Title   string   // "A child in a new UTS namespace"
	Points  int      // what the step is worth in grading
	Explain string   // one line shown while the step runs
	Hints   []string // tiered: the first is gentle, the last nearly gives it away
	// Cgroup gives the step's lab host a cgroup v2 directory of its own
	// (labhost.Options.Cgroup). Where none can be made, the step is skipped
	// with the reason.
	Cgroup bool
	// Do is the step's scenario (see lab.Do): its run half calls the
	// learner's code in a lab host, its check half makes the verdict in the harness.
	Do Scenario
	// Run is the old shape of a step, for a lab not yet in the new one: it
	// performs the step with the learner's code and narrates it, in the lab
	// host; an error means the kernel did not do what the step expects.
	Run func(ctx context.Context, n *Narrator) error
}

// Doc is the path of the lab's page, from the repository root.
func (l *Lab) Doc() string { return "docs/labs/" + l.Name + ".md" }

// Anchor returns the step's section: docs/labs/uts.md#step-01.
func (l *Lab) Anchor(s *Step) string { return l.Doc() + "#" + s.AnchorID() }

// AnchorID is the id of the step's section in the lab's page: step-01.
func (s *Step) AnchorID() string { return "step-" + s.ID }

// TestName is the name of the step's graded subtest: 01_new_namespace.
func (s *Step) TestName() string { return s.ID + "_" + s.Slug }

// TestFunc is the graded test function of the lab: the kernel's
// abbreviations in capitals (TestUTS, TestIPC, TestPID), other names
// capitalised (TestMount, TestNetwork).
func (l *Lab) TestFunc() string {
	if len(l.Name) <= 3 {
		return "Test" + strings.ToUpper(l.Name)
	}
	return "Test" + strings.ToUpper(l.Name[:1]) + l.Name[1:]
}

// Step returns the step with the given ID ("1" and "01" both work).
func (l *Lab) Step(id string) (*Step, error) {
	if len(id) == 1 {
		id = "0" + id
	}
	for _, s := range l.Steps {
		if s.ID == id {
			return s, nil
		}
	}
	ids := make([]string, len(l.Steps))
	for i, s := range l.Steps {
		ids[i] = s.ID
	}
	return nil, fmt.Errorf("lab %s has no step %q (steps: %s)", l.Name, id, strings.Join(ids, " "))
}

// Points returns the lab's total.
func (l *Lab) Points() int {
	total := 0
	for _, s := range l.Steps {
		total += s.Points
	}
	return total
}

// Order returns the course order of the labs, known or still to come.
func Order() []string {
	return []string{"uts", "ipc", "mount", "pid", "network", "user", "cgroup", "time", "container"}
}

var registry = struct {
	sync.Mutex
	labs map[string]*Lab
}{labs: map[string]*Lab{}}

// Register adds a lab to the course. Call it from the lab package's init.
func Register(l *Lab) {
	registry.Lock()
	defer registry.Unlock()
	if _, dup := registry.labs[l.Name]; dup {
		panic("lab: lab " + l.Name + " registered twice")
	}
	registry.labs[l.Name] = l
}

// All returns the registered labs in course order.
func All() []*Lab {
	registry.Lock()
	defer registry.Unlock()
	labs := make([]*Lab, 0, len(registry.labs))
	for _, l := range registry.labs {
		labs = append(labs, l)
	}
	sort.Slice(labs, func(i, j int) bool { return rank(labs[i].Name) < rank(labs[j].Name) })
	return labs
}

func rank(name string) int {
	order := Order()
	if i := slices.Index(order, name); i >= 0 {
		return i
	}
	return len(order)
}

// Get returns the lab called name.
func Get(name string) (*Lab, error) {
	registry.Lock()
	l, ok := registry.labs[name]
	registry.Unlock()
	if ok {
		return l, nil
	}
	names := []string{}
	for _, l := range All() {
		names = append(names, l.Name)
	}
	return nil, fmt.Errorf("no lab %q (labs: %s)", name, strings.Join(names, " "))
}
