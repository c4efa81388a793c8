package grade

import (
	"bytes"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/nslab/nslab/pkg/lab"
	"github.com/nslab/nslab/pkg/starter"
)

const pristineSrc = `package demo

import "github.com/nslab/nslab/pkg/lab"

// One is step 01.
func One() int {
	// BEGIN SOLUTION
	panic(lab.TODO("demo", "01"))
	// END SOLUTION
}

// Two is step 02.
func Two() string {
	// BEGIN SOLUTION
	panic(lab.TODO("demo", "02"))
	// END SOLUTION
}
`

func learnerSrc(one, two string) []byte {
	s := strings.Replace(pristineSrc, "\tpanic(lab.TODO(\"demo\", \"01\"))\n", one, 1)
	s = strings.Replace(s, "\tpanic(lab.TODO(\"demo\", \"02\"))\n", two, 1)
	return []byte(strings.Replace(s, `import "github.com/nslab/nslab/pkg/lab"`, "import (\n\t\"os\"\n\t_ \"evil\"\n\t\"example.com/x\"\n)", 1))
}

func TestTransplant(t *testing.T) {
	allow := Allow([]byte("module github.com/nslab/nslab\n\nrequire golang.org/x/sys v0.50.0\n"))
	tests := []struct {
		name, one, two string
		learner, stub  [2]bool   // Learner of each region
		problem        [2]string // a part of each Problem
	}{
		{name: "both written", one: "\treturn len(os.Args)\n", two: "\treturn \"x\"\n", learner: [2]bool{true, true}},
		{name: "a syntax error", one: "\treturn len(os.Args\n", two: "\treturn \"x\"\n", learner: [2]bool{false, true}, problem: [2]string{"does not compile: labs/demo/demo.go:12:20: missing ','"}},
		{name: "leaves its function", one: "\treturn 1\n}\n\nfunc init() {\n", two: "\treturn \"x\"\n", problem: [2]string{"leaves its function"}, learner: [2]bool{false, true}},
		{name: "line directive", one: "//line other.go:1\n\treturn 1\n", two: "\treturn \"x\"\n", problem: [2]string{"//line directive"}, learner: [2]bool{false, true}},
		{name: "stub kept", one: "\tpanic(lab.TODO(\"demo\", \"01\"))\n", two: "\treturn \"x\"\n", learner: [2]bool{false, true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, placed, err := Transplant("labs/demo/demo.go", []byte(pristineSrc), learnerSrc(tt.one, tt.two), allow, nil)
			if err != nil {
				t.Fatal(err)
			}
			for i, pl := range placed {
				if pl.Learner != tt.learner[i] || !strings.Contains(pl.Problem, tt.problem[i]) || (tt.problem[i] == "") != (pl.Problem == "") {
					t.Errorf("region %d: learner %v, problem %q; want %v, %q", i, pl.Learner, pl.Problem, tt.learner[i], tt.problem[i])
				}
			}
			if bytes.Contains(out, []byte(`"evil"`)) || bytes.Contains(out, []byte("example.com/x")) || bytes.Contains(out, []byte("func init")) {
				t.Errorf("the transplant let a blank, a foreign import or an init in:\n%s", out)
			}
		})
	}
	_, placed, _ := Transplant("labs/demo/demo.go", []byte(pristineSrc), nil, allow, nil)
	if !strings.Contains(placed[0].Problem, "labs/demo/demo.go is missing") {
		t.Errorf("a missing file: problem %q", placed[0].Problem)
	}
	_, placed, _ = Transplant("labs/demo/demo.go", []byte(pristineSrc), learnerSrc("\treturn 1\n", "\treturn \"\"\n"), allow, map[string]string{"One#1": "does not compile: x"})
	if placed[0].Learner || placed[0].Problem != "does not compile: x" || !placed[1].Learner {
		t.Errorf("a region the compiler blamed: %+v", placed)
	}
}

func TestTampering(t *testing.T) {
	pristine := Tree{
		"labs/demo/demo.go":      {Data: []byte(pristineSrc)},
		"labs/demo/demo_test.go": {Data: []byte("package demo\n")},
		".ci/run":                {Data: []byte("#!/bin/sh\n")},
		"README.md":              {Data: []byte("hi\n")},
	}
	learner := Tree{
		"labs/demo/demo.go":      {Data: learnerSrc("\treturn 1\n", "\treturn \"\"\n")}, // regions and imports differ only
		"labs/demo/demo_test.go": {Data: []byte("package demo\n// mine\n")},
		"labs/demo/evil.go":      {Data: []byte("package demo\n")},
	}
	got := fmtChanges(Tampering(pristine, learner))
	want := "README.md (removed), labs/demo/demo_test.go (edited), labs/demo/evil.go (added)"
	if got != want {
		t.Errorf("Tampering() = %s; want %s", got, want)
	}
	learner["labs/demo/demo.go"] = File{Data: append(learnerSrc("\treturn 1\n", "\treturn \"\"\n"), "\nfunc helper() {}\n"...)}
	if got := fmtChanges(Tampering(pristine, learner)); !strings.Contains(got, "labs/demo/demo.go (edited)") {
		t.Errorf("a helper outside the regions: Tampering() = %s; want demo.go edited", got)
	}
}

// TestTamperingStarter: a learner's file as the starter edition made it
// (imports cut, pkg/lab's guard added), with or without the guard, is not
// tampered with compared to the course's own.
func TestTamperingStarter(t *testing.T) {
	_, self, _, _ := runtime.Caller(0)
	path := filepath.Join(filepath.Dir(self), "..", "..", "labs", "uts", "uts.go")
	ref, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	stripped, _, err := starter.Strip(path, ref, "uts")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(stripped, []byte(starter.Guard)) {
		t.Fatalf("the starter's uts.go has no guard line %q", starter.Guard)
	}
	unguarded := bytes.Replace(stripped, []byte(starter.Guard+"\n"), nil, 1)
	for name, src := range map[string][]byte{"starter": stripped, "without the guard": unguarded} {
		pristine := Tree{"labs/uts/uts.go": {Data: ref}}
		learner := Tree{"labs/uts/uts.go": {Data: src}}
		if got := fmtChanges(Tampering(pristine, learner)); got != "" {
			t.Errorf("%s: Tampering() = %s; want nothing", name, got)
		}
	}
}

func fmtChanges(cs []Change) string { return (&Report{Tampered: cs}).TamperedList() }

func TestRowsAndCSV(t *testing.T) {
	l := demo()
	r := load(t, "fail")
	r.Tampered = []Change{{"labs/demo/x.go", "added"}}
	rows := Rows([]Graded{{Learner: "ann", Report: r}, {Learner: "bob", Err: errString("the grade took longer than 1s")}}, []*lab.Lab{l})
	if len(rows) != 6 || rows[0].Status != "pass" || rows[1].Points != 0 || rows[0].Tampered != "labs/demo/x.go (added)" || rows[3].Status != "error" || !strings.Contains(rows[5].Message, "longer than") {
		t.Fatalf("Rows() = %+v", rows)
	}
	var b bytes.Buffer
	if err := WriteCSV(&b, rows); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(b.String(), "learner,lab,step,points,max_points,status,message,tampered\nann,demo,01,10,10,pass,,labs/demo/x.go (added)\n") {
		t.Errorf("CSV:\n%s", b.String())
	}
}

type errString string

func (e errString) Error() string { return string(e) }

func TestMistakeCaught(t *testing.T) {
	m, err := ParseMistake("x.txtar", "demo", []byte("d\n-- meta --\nstep: 02\nfunc: Two\nwant: the host's\n-- body.go --\n\treturn 1\n"))
	if err != nil {
		t.Fatal(err)
	}
	r := load(t, "fail") // 01 passes, 02 fails with "…is the host's…", 03 fails
	if err := m.Caught(r); err == nil || !strings.Contains(err.Error(), "step 03") {
		t.Errorf("Caught() = %v; want step 03 named (it must pass)", err)
	}
	r.Steps[2].Outcome = Pass
	if err := m.Caught(r); err != nil {
		t.Errorf("Caught() = %v; want caught", err)
	}
	r.Problems = []string{"labs/demo: the machine changed"}
	if err := m.Caught(r); err == nil {
		t.Error("Caught() with the machine changed = nil; want an escape")
	}
	if _, err := ParseMistake("y.txtar", "demo", []byte("-- meta --\nstep: 01\n")); err == nil {
		t.Error("ParseMistake accepted a mistake without func, want and body")
	}
}
