// Package labtest holds what every lab's tests share: a TestMain that runs
// the spawn shim and proves the host was left as found, a skip with the
// exact reason when namespaces cannot be made here, the runner of graded
// steps that turns an unwritten step into a clean failure, CheckLab, the
// check of a lab's steps against its docs page, and the table helpers of
// the labs' lab_test.go (FailsWith, Parses, Edits).
package labtest

import (
	"fmt"
	"os"
	"reflect"
	"strings"
	"testing"

	"github.com/nslab/nslab/pkg/host"
	"github.com/nslab/nslab/pkg/lab"
	"github.com/nslab/nslab/pkg/labhost"
	"github.com/nslab/nslab/pkg/ns"
	"github.com/nslab/nslab/pkg/spawn"
)

// Main is the TestMain of a lab package. In a child of the test binary (a
// lab host's init, a step's runner, a lab's own children) it runs that child
// and never returns. In the test binary itself, the harness, it snapshots
// the machine before the tests and after them, and fails the run if anything
// the lab host protects differs: the harness never runs learner code and
// never moves its own threads for long, so the snapshot sees the machine.
func Main(m *testing.M) {
	spawn.Init()
	before, err := host.Take()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	code := m.Run()
	after, err := host.Take()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	if diff := host.Diff(before, after); len(diff) > 0 {
		fmt.Fprintf(os.Stderr, "FAIL: the machine changed while the tests ran; this is a bug of the course, not of your code (see docs/safety.md#machine-changed):\n  %s\n", strings.Join(diff, "\n  "))
		code = 1
	}
	os.Exit(code)
}

// Grade runs the graded subtest of every step of l, in order, each named
// so that a grader maps it to the step (TestUTS/01_new_namespace): the
// step's learner code runs in a process of its own in a lab host that no
// other step has changed (see lab.Hosts), its check here. The subtest logs
// what the step narrated and what its code printed (shown on failure, or
// with -v), and fails with the check's error and the step's section of the
// docs.
func Grade(t *testing.T, l *lab.Lab) {
	t.Helper()
	if err := labhost.Check(); err != nil {
		t.Skipf("skip: no lab host can be made here: %v", err)
	}
	rec := &diagramRecorder{procs: map[string][]lab.Proc{}}
	t.Cleanup(func() { rec.write(t, l) })
	hosts := lab.NewHosts() // a lab host that a step left as it was made serves another
	t.Cleanup(func() {
		made, reused := hosts.Counts()
		t.Logf("lab hosts: %d made, %d lent again after a step left one as it was made", made, reused)
		hosts.Close()
	})
	for _, s := range l.Steps {
		t.Run(s.TestName(), func(t *testing.T) {
			t.Parallel()
			var narration strings.Builder
			o := hosts.Exec(t.Context(), l, s, lab.NewNarrator(&narration))
			rec.add(s.ID, o)
			if o.Skip != "" {
				t.Skipf("skip: %s", o.Skip)
			}
			if narration.Len() > 0 {
				t.Logf("what the step checked:\n%s", narration.String())
			}
			if o.Output != "" {
				t.Logf("what the step's code printed:\n%s", o.Output)
			}
			if o.Err != nil {
				Failf(t, l, s.ID, "%v", o.Err)
			}
		})
	}
}

// Need skips t, printing the exact reason, when the caller cannot create
// namespaces of these kinds here (no root and no user namespaces, or a kernel
// without the kind).
func Need(t testing.TB, kinds ...ns.Kind) {
	t.Helper()
	if err := spawn.Check(kinds...); err != nil {
		t.Skipf("skip: %v", err)
	}
}

// NeedRoot skips t when the caller is not root, saying why the step needs it.
func NeedRoot(t testing.TB, why string) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skipf("skip: needs root: %s", why)
	}
}

// Step runs the graded subtest of one step, named so that a grader maps it
// to the step: TestUTS/01_new_namespace. An unwritten step (lab.TODO) fails
// with its message instead of crashing the test binary.
func Step(t *testing.T, l *lab.Lab, id string, fn func(t *testing.T)) {
	t.Helper()
	s, err := l.Step(id)
	if err != nil {
		t.Fatal(err)
	}
	t.Run(s.TestName(), func(t *testing.T) {
		err := lab.Recover(func() error { fn(t); return nil })
		if err != nil {
			t.Fatalf("%v", err)
		}
	})
}

// Steps runs the graded subtests of every step of l, in order: fns[i] is
// the test of l.Steps[i] (see Step). It fails when fns and the steps differ
// in number, so that no step goes ungraded.
func Steps(t *testing.T, l *lab.Lab, fns ...func(t *testing.T)) {
	t.Helper()
	if err := sameCount(l, len(fns)); err != nil {
		t.Fatal(err)
	}
	for i, fn := range fns {
		Step(t, l, l.Steps[i].ID, fn)
	}
}

// sameCount says whether n step tests fit lab l.
func sameCount(l *lab.Lab, n int) error {
	if n != len(l.Steps) {
		return fmt.Errorf("lab %s has %d steps, but %d step tests were given", l.Name, len(l.Steps), n)
	}
	return nil
}

// NewKindsOnly fails step id unless process pid is in a new namespace of
// each of kinds and shares every other kind with the test (but for the user
// namespace pkg/spawn adds when the test is not root).
func NewKindsOnly(t testing.TB, l *lab.Lab, id string, pid int, kinds ...ns.Kind) {
	t.Helper()
	host, err := ns.Of(ns.Self)
	if err != nil {
		t.Fatal(err)
	}
	child, err := ns.Of(pid)
	if err != nil {
		t.Fatal(err)
	}
	if err := lab.CheckNewKinds(host, child, kinds...); err != nil {
		Failf(t, l, id, "%v", err)
	}
}

// Failf fails t with the shape every lab failure has: what the kernel was
// expected to do, what was seen, and the step's section in the docs.
func Failf(t testing.TB, l *lab.Lab, id string, format string, args ...any) {
	t.Helper()
	s, err := l.Step(id)
	if err != nil {
		t.Fatal(err)
	}
	msg := fmt.Sprintf(format, args...)
	if !strings.Contains(msg, l.Anchor(s)) {
		msg += " (see " + l.Anchor(s) + ")"
	}
	t.Fatal(msg)
}

// FailsWith checks a verdict (the error of a check or judge half): nil
// where want is "", else an error with want in its message.
func FailsWith(t testing.TB, err error, want string) {
	t.Helper()
	switch {
	case want == "" && err != nil:
		t.Errorf("got %v; want it to pass", err)
	case want != "" && (err == nil || !strings.Contains(err.Error(), want)):
		t.Errorf("got %v; want an error with %q", err, want)
	}
}

// Parse is a case of Parses: a text, and what the parser must make of it
// (Want), or that it must fail (Bad).
type Parse[T any] struct {
	Name, Text string
	Want       T
	Bad        bool
}

// Parses runs parse (called what in messages) on each case, each in a
// subtest of its name. What a parse returns with its error is not looked
// at (the Go convention: a caller uses no other result once err is set).
func Parses[T any](t *testing.T, what string, parse func(string) (T, error), cases []Parse[T]) {
	t.Helper()
	for _, tt := range cases {
		t.Run(tt.Name, func(t *testing.T) {
			got, err := parse(tt.Text)
			if (err != nil) != tt.Bad || !tt.Bad && !reflect.DeepEqual(got, tt.Want) {
				t.Errorf("%s(%q) = %+v, %v; want %+v, error %v", what, tt.Text, got, err, tt.Want, tt.Bad)
			}
		})
	}
}

// Edit is a case of Edits: how it changes a good report (nil: not at
// all), and what the judge must then fail with ("" where it must pass).
type Edit[R any] struct {
	Name   string
	Change func(*R)
	Want   string
}

// Edits runs judge on a good report changed by each case, each in a
// subtest of its name. A check half is a judge too:
// func(r R) error { return check(c, r) }.
func Edits[R any](t *testing.T, good func() R, judge func(R) error, cases []Edit[R]) {
	t.Helper()
	for _, tt := range cases {
		t.Run(tt.Name, func(t *testing.T) {
			r := good()
			if tt.Change != nil {
				tt.Change(&r)
			}
			FailsWith(t, judge(r), tt.Want)
		})
	}
}
