package starter

import (
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/nslab/nslab/pkg/lab"
)

func TestStepOf(t *testing.T) {
	tests := []struct {
		name, doc, want string
		ok              bool
	}{
		{name: "two digits", doc: "StartInNewUTS is step 01: start args…", want: "01", ok: true},
		{name: "one digit", doc: "Send is step 3: put text…", want: "03", ok: true},
		{name: "second line", doc: "Lookup finds objects.\nIt is step 06 of the lab.", want: "06", ok: true},
		{name: "none", doc: "Helper does things.", ok: false},
		{name: "three digits", doc: "X is step 123", ok: false},
		{name: "empty", doc: "", ok: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := StepOf(tt.doc)
			if got != tt.want || ok != tt.ok {
				t.Errorf("StepOf(%q) = %q, %v; want %q, %v", tt.doc, got, ok, tt.want, tt.ok)
			}
		})
	}
}

func TestLabOf(t *testing.T) {
	tests := []struct {
		rel, want string
		ok        bool
	}{
		{"labs/uts/uts.go", "uts", true},
		{"labs/network/sub/veth.go", "network", true},
		{"labs/doc.go", "", false},
		{"pkg/lab/lab.go", "", false},
		{"mylabs/uts/uts.go", "", false},
	}
	for _, tt := range tests {
		got, ok := LabOf(tt.rel)
		if got != tt.want || ok != tt.ok {
			t.Errorf("LabOf(%q) = %q, %v; want %q, %v", tt.rel, got, ok, tt.want, tt.ok)
		}
	}
}

const header = `package demo

import (
	"fmt"
	"os"
	"strings"
)

`

func TestRegionsErrors(t *testing.T) {
	tests := []struct {
		name, body string
		line       int
		msg        string
	}{
		{name: "unclosed", line: 11, msg: "never closed", body: `// Read is step 01.
func Read() string {
	// BEGIN SOLUTION
	return ""
}
`},
		{name: "nested", line: 12, msg: "nested BEGIN SOLUTION: the region opened at line 11", body: `// Read is step 01.
func Read() string {
	// BEGIN SOLUTION
	// BEGIN SOLUTION
	return ""
	// END SOLUTION
	// END SOLUTION
}
`},
		{name: "end first", line: 11, msg: "END SOLUTION without a BEGIN", body: `// Read is step 01.
func Read() string {
	// END SOLUTION
	return ""
}
`},
		{name: "no step", line: 11, msg: "doc comment of Read does not say which step", body: `// Read reads.
func Read() string {
	// BEGIN SOLUTION
	return ""
	// END SOLUTION
}
`},
		{name: "outside a function", line: 9, msg: "outside a function body", body: `// BEGIN SOLUTION
var x = 1

// END SOLUTION
`},
		{name: "shares a line", line: 11, msg: "alone on its line", body: `// Read is step 01.
func Read() string {
	return "" // BEGIN SOLUTION
	// END SOLUTION
}
`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Regions("labs/demo/demo.go", []byte(header+tt.body), "demo")
			var me *MarkerError
			if !errors.As(err, &me) {
				t.Fatalf("Regions() error = %v; want a *MarkerError", err)
			}
			if me.File != "labs/demo/demo.go" || me.Line != tt.line || !strings.Contains(me.Msg, tt.msg) {
				t.Errorf("Regions() error = %v; want labs/demo/demo.go:%d: …%s…", err, tt.line, tt.msg)
			}
		})
	}
}

const reference = header + `// Hostname is step 01: read the host name.
func Hostname() (string, error) {
	// BEGIN SOLUTION
	b, err := os.ReadFile("/proc/sys/kernel/hostname")
	return strings.TrimSpace(string(b)), err
	// END SOLUTION
}

// Greet is not a step: it stays as it is.
func Greet(name string) string { return fmt.Sprintf("hello %s", name) }

// Count is step 2: count to n.
func Count(n int) (total int) {
	if n < 0 {
		// BEGIN SOLUTION
		return 0
		// END SOLUTION
	}
	return n
}
`

const want = `package demo

import (
	"fmt"

	"github.com/nslab/nslab/pkg/lab"
)

// lab.TODO is what the stubs below panic with. This line keeps pkg/lab
// imported once you have replaced every stub of this file.
var _ = lab.TODO

// Hostname is step 01: read the host name.
func Hostname() (string, error) {
	// BEGIN SOLUTION
	panic(lab.TODO("demo", "01"))
	// END SOLUTION
}

// Greet is not a step: it stays as it is.
func Greet(name string) string { return fmt.Sprintf("hello %s", name) }

// Count is step 2: count to n.
func Count(n int) (total int) {
	if n < 0 {
		// BEGIN SOLUTION
		panic(lab.TODO("demo", "02"))
		// END SOLUTION
	}
	return n
}
`

func TestStrip(t *testing.T) {
	file := filepath.Join(t.TempDir(), "demo.go")
	got, regions, err := Strip(file, []byte(reference), "demo")
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != want {
		t.Errorf("Strip() =\n%s\nwant\n%s", got, want)
	}
	wantRegions := []Region{
		{File: file, Lab: "demo", Step: "01", Func: "Hostname", Begin: 15, End: 17},
		{File: file, Lab: "demo", Step: "02", Func: "Count", Begin: 26, End: 28},
	}
	if len(regions) != len(wantRegions) {
		t.Fatalf("Strip() regions = %+v; want %+v", regions, wantRegions)
	}
	for i := range regions {
		if regions[i] != wantRegions[i] {
			t.Errorf("region %d = %+v; want %+v", i, regions[i], wantRegions[i])
		}
	}
	again, _, err := Strip(file, got, "demo")
	if err != nil || string(again) != string(got) {
		t.Errorf("stripping the starter again gave %v and\n%s\nwant it unchanged", err, again)
	}
}

func TestStripLeavesFilesWithoutRegions(t *testing.T) {
	src := []byte(header + "var _ = fmt.Sprint\nvar _ = os.Args\nvar _ = strings.Fields\n")
	got, regions, err := Strip("demo.go", src, "demo")
	if err != nil || len(regions) != 0 || string(got) != string(src) {
		t.Errorf("Strip() of a file without regions = %d regions, %v, changed %v; want it untouched", len(regions), err, string(got) != string(src))
	}
}

func TestCheck(t *testing.T) {
	demo := &lab.Lab{Name: "demo", Steps: []*lab.Step{{ID: "01", Title: "one"}, {ID: "02", Title: "two"}}}
	one := Region{File: "labs/demo/a.go", Lab: "demo", Step: "01", Func: "A", Begin: 3}
	two := Region{File: "labs/demo/a.go", Lab: "demo", Step: "02", Func: "B", Begin: 9}
	tests := []struct {
		name    string
		regions []Region
		msg     string
	}{
		{name: "every step", regions: []Region{one, two, two}},
		{name: "a step without a region", regions: []Region{one}, msg: "lab demo step 02 (two) has no solution region"},
		{name: "an unknown step", regions: []Region{one, two, {File: "labs/demo/b.go", Lab: "demo", Step: "07", Func: "C", Begin: 5}}, msg: `labs/demo/b.go:5: C: lab demo has no step "07"`},
		{name: "an unknown lab", regions: []Region{one, two, {File: "labs/x/x.go", Lab: "x", Step: "01", Func: "X", Begin: 1}}, msg: "lab x, which is not registered"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := Check(tt.regions, []*lab.Lab{demo})
			if tt.msg == "" && err != nil || tt.msg != "" && (err == nil || !strings.Contains(err.Error(), tt.msg)) {
				t.Errorf("Check() = %v; want %q", err, tt.msg)
			}
		})
	}
}

// TestLabsStrip strips every Go file of the repository's labs, as the
// starter edition does, and checks that each region became its stub.
func TestLabsStrip(t *testing.T) {
	_, self, _, _ := runtime.Caller(0)
	files, err := filepath.Glob(filepath.Join(filepath.Dir(self), "..", "..", "labs", "*", "*.go"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no lab sources found (%v)", err)
	}
	total := 0
	for _, file := range files {
		src, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		got, regions, err := Strip(file, src, filepath.Base(filepath.Dir(file)))
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range regions {
			if stub := Stub(r.Lab, r.Step); r.End != r.Begin+2 || !strings.Contains(string(got), stub) {
				t.Errorf("%s:%d: region of %s is not the single line %s", file, r.Begin, r.Func, stub)
			}
		}
		total += len(regions)
	}
	if total == 0 {
		t.Error("no solution regions in labs/*")
	}
}
