package mutate

import (
	"errors"
	"go/parser"
	"go/token"
	"os/exec"
	"strings"
	"testing"
)

func TestClassify(t *testing.T) {
	exit := exec.Command("false").Run() // an *exec.ExitError
	tests := []struct {
		name    string
		out     string
		err     error
		want    Outcome
		wantErr bool
	}{
		{name: "passed", out: "--- PASS: TestUTS/02_set_names (0.2s)\nok", want: Survived},
		{name: "failed", out: "--- FAIL: TestUTS/02_set_names (0.2s)\nFAIL", err: exit, want: Killed},
		{name: "test binary died", out: "panic: test timed out\nFAIL", err: exit, want: Killed},
		{name: "build failed", out: "# labs/uts\nuts.go:3: x declared and not used\nFAIL\tgithub.com/nslab/nslab/labs/uts [build failed]", err: exit, want: NotCompiling},
		{name: "skipped", out: "--- SKIP: TestUTS/02_set_names (0.0s)\nok", wantErr: true},
		{name: "no such step", out: "testing: warning: no tests to run\nok", wantErr: true},
		{name: "go missing", err: errors.New("exec: \"go\": executable file not found in $PATH"), wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Classify(tt.out, tt.err, "TestUTS", "02")
			if tt.wantErr {
				tt.want = NotJudged
			}
			if (err != nil) != tt.wantErr || got != tt.want {
				t.Errorf("Classify(%q) = %v, %v; want %v, error %v", tt.out, got, err, tt.want, tt.wantErr)
			}
		})
	}
}

func TestArgs(t *testing.T) {
	got := strings.Join(Target{Pkg: "./labs/uts", Test: "TestUTS"}.Args("02", "/tmp/o.json"), " ")
	want := "test -count=1 -v -ldflags=-w -timeout=5m -overlay /tmp/o.json -run ^TestUTS$/^02_ ./labs/uts"
	if got != want {
		t.Errorf("Args = %q, want %q", got, want)
	}
}

func TestParseEquivalents(t *testing.T) {
	const list = `# comment

labs/uts/uts.go:71 nil-error return fmt.Errorf("uname: %w", err) -> return nil  # uname(2) cannot fail here
`
	eqs, err := ParseEquivalents("list", strings.NewReader(list))
	want := Equivalent{File: "labs/uts/uts.go", Line: 71, Operator: OpNilError, Original: `return fmt.Errorf("uname: %w", err)`, Mutated: "return nil", Reason: "uname(2) cannot fail here"}
	if err != nil || len(eqs) != 1 || eqs[0] != want {
		t.Fatalf("ParseEquivalents = %+v, %v; want [%+v]", eqs, err, want)
	}
	m := Mutant{File: want.File, Line: 71, Operator: OpNilError, Original: want.Original, Mutated: want.Mutated}
	if !eqs[0].Matches(m) {
		t.Errorf("%v does not match %v", eqs[0], m)
	}
	m.Line = 72
	if eqs[0].Matches(m) {
		t.Errorf("%v matches a mutant of another line", eqs[0])
	}
}

func TestParseEquivalentsErrors(t *testing.T) {
	for _, line := range []string{
		"labs/uts/uts.go:71 nil-error return err -> return nil",       // no reason
		"labs/uts/uts.go nil-error return err -> return nil  # why",   // no line
		"labs/uts/uts.go:x nil-error return err -> return nil  # why", // bad line
		"labs/uts/uts.go:71 nil-error return err return nil  # why",   // no arrow
		"labs/uts/uts.go:71 nil-error return err -> return nil  #   ", // empty reason
	} {
		if _, err := ParseEquivalents("list", strings.NewReader(line)); err == nil || !strings.Contains(err.Error(), "list:1:") {
			t.Errorf("ParseEquivalents(%q) = %v; want an error at list:1", line, err)
		}
	}
}

func TestExcuse(t *testing.T) {
	m := Mutant{File: "a.go", Line: 3, Operator: OpNegate, Original: "if x {", Mutated: "if !x {"}
	results := []Result{{Mutant: m, Outcome: Survived}}
	eqs := []Equivalent{
		{File: "a.go", Line: 3, Operator: OpNegate, Original: "if x {", Mutated: "if !x {", Reason: "x is always true"},
		{File: "a.go", Line: 9, Operator: OpConst, Original: "n := 1", Mutated: "n := 2", Reason: "gone"},
	}
	stale := excuse(results, eqs)
	if results[0].Outcome != KnownEquivalent || results[0].Detail != "x is always true" || len(stale) != 1 || stale[0].Line != 9 {
		t.Errorf("excuse: %+v, stale %+v; want the survivor equivalent and line 9 stale", results[0], stale)
	}
}

func TestGradedTest(t *testing.T) {
	tests := []struct{ name, src, want string }{
		{"one line", "package x_test\nfunc TestUTS(t *testing.T) { labtest.Grade(t, uts.Lab) }", "TestUTS"},
		{"in a body", "package x_test\nfunc TestOther(t *testing.T) {}\nfunc TestTime(t *testing.T) {\n\tneed(t)\n\tlabtest.Grade(t, timens.Lab)\n}", "TestTime"},
		{"none", "package x_test\nfunc TestShape(t *testing.T) { labtest.CheckLab(t, uts.Lab, 50) }", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := parser.ParseFile(token.NewFileSet(), "x_test.go", tt.src, 0)
			if err != nil {
				t.Fatal(err)
			}
			if got, _ := GradedTest(f); got != tt.want {
				t.Errorf("GradedTest = %q, want %q", got, tt.want)
			}
		})
	}
}
