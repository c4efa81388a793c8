package mutate

import (
	"go/ast"
	"go/parser"
	"go/token"
	"go/types"
	"strings"
	"testing"

	"github.com/nslab/nslab/pkg/starter"
)

// sample is a lab file in small: every operator has something to change
// in the regions, and nothing outside them may change.
const sample = `package sample

type Names struct{ Host string }

type child struct{}

func outside(a, b int) int { return a + b }

// Grow is step 01: a loop.
func Grow(n int, ok bool) int {
	// BEGIN SOLUTION
	x := 0
	for i := 0; i < n; i++ {
		x = x*2 + 1
	}
	if !ok {
		return x
	}
	if ok && x >= 3 {
		x = x << 1
	}
	return outside(x, n)
	// END SOLUTION
}

// Read is step 02: errors.
func Read(err error) (Names, error) {
	// BEGIN SOLUTION
	if err != nil {
		return Names{}, err
	}
	return Names{Host: "h"}, nil
	// END SOLUTION
}

// Start is step 03: a call that gives every result.
func Start() (*child, error) {
	// BEGIN SOLUTION
	return start()
	// END SOLUTION
}

func start() (*child, error) { return &child{}, nil }
`

// mutants generates the mutants of sample, with types when typed.
func mutants(t *testing.T, typed bool) []Mutant {
	t.Helper()
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, "sample.go", sample, parser.ParseComments)
	if err != nil {
		t.Fatal(err)
	}
	regions, err := starter.Regions("sample.go", []byte(sample), "sample")
	if err != nil {
		t.Fatal(err)
	}
	var info *types.Info
	if typed {
		info = &types.Info{Types: map[ast.Expr]types.TypeAndValue{}}
		if _, err := (&types.Config{}).Check("sample", fset, []*ast.File{f}, info); err != nil {
			t.Fatal(err)
		}
	}
	return Generate(fset, f, []byte(sample), regions, info)
}

func TestGenerate(t *testing.T) {
	tests := []struct {
		name, op, original, mutated, step string
	}{
		{"less negated", OpNegate, "for i := 0; i < n; i++ {", "for i := 0; i >= n; i++ {", "01"},
		{"less shifted", OpBoundary, "for i := 0; i < n; i++ {", "for i := 0; i <= n; i++ {", "01"},
		{"init off by one", OpConst, "for i := 0; i < n; i++ {", "for i := 1; i < n; i++ {", "01"},
		{"times", OpArith, "x = x*2 + 1", "x = x/2 + 1", "01"},
		{"plus", OpArith, "x = x*2 + 1", "x = x*2 - 1", "01"},
		{"constant down", OpConst, "x = x*2 + 1", "x = x*1 + 1", "01"},
		{"not removed", OpNegate, "if !ok {", "if ok {", "01"},
		{"and negated", OpNegate, "if ok && x >= 3 {", "if !(ok && x >= 3) {", "01"},
		{"greater or equal", OpNegate, "if ok && x >= 3 {", "if ok && x < 3 {", "01"},
		{"greater or equal shifted", OpBoundary, "if ok && x >= 3 {", "if ok && x > 3 {", "01"},
		{"shift", OpArith, "x = x << 1", "x = x >> 1", "01"},
		{"assignment removed", OpRemove, "x = x << 1", "(removed)", "01"},
		{"loop assignment removed", OpRemove, "x = x*2 + 1", "(removed)", "01"},
		{"arguments swapped", OpSwap, "return outside(x, n)", "return outside(n, x)", "01"},
		{"not equal", OpNegate, "if err != nil {", "if err == nil {", "02"},
		{"nil error", OpNilError, "return Names{}, err", "return Names{}, nil", "02"},
		{"zero value", OpZero, `return Names{Host: "h"}, nil`, "return Names{}, nil", "02"},
		{"call", OpNilError, "return start()", "return nil, nil", "03"},
	}
	ms := mutants(t, true)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, m := range ms {
				if m.Operator == tt.op && m.Original == tt.original && m.Mutated == tt.mutated {
					if m.Step != tt.step || m.File != "sample.go" || !strings.Contains(string(m.Src), tt.mutated) && tt.mutated != "(removed)" {
						t.Errorf("mutant %v: step %s, file %s; want step %s in sample.go", m, m.Step, m.File, tt.step)
					}
					return
				}
			}
			t.Errorf("no %s mutant %q -> %q among:\n%s", tt.op, tt.original, tt.mutated, list(ms))
		})
	}
}

func TestGenerateLeavesTheRest(t *testing.T) {
	for _, m := range mutants(t, true) {
		switch {
		case m.Line <= 11 || strings.Contains(m.Original, "SOLUTION"):
			t.Errorf("mutant outside the regions: %v", m)
		case m.Original == "return Names{}, err" && m.Operator == OpZero:
			t.Errorf("a zero value mutant of a return of zero values: %v", m)
		case m.Original == "return x" && m.Operator == OpNilError:
			t.Errorf("a nil-error mutant of a function without an error: %v", m)
		}
	}
}

func TestGenerateUntyped(t *testing.T) {
	for _, m := range mutants(t, false) {
		if m.Operator == OpSwap {
			t.Errorf("swap without types: %v", m)
		}
		if m.Operator == OpNilError && m.Original == "return start()" && m.Mutated != "return nil, nil" {
			t.Errorf("zero values from syntax: %v; want return nil, nil", m)
		}
	}
}

func TestGenerateUnique(t *testing.T) {
	seen := map[string]Mutant{}
	for _, m := range mutants(t, true) {
		if prev, ok := seen[string(m.Src)]; ok {
			t.Errorf("%v and %v make the same source", prev, m)
		}
		seen[string(m.Src)] = m
	}
}

func TestFormatLike(t *testing.T) {
	tests := []struct {
		lit  string
		v    int64
		want string
	}{
		{"7", 8, "8"}, {"0", -1, "-1"}, {"0o600", 0o601, "0o601"}, {"0600", 0o577, "0577"},
		{"0x10", 0x11, "0x11"}, {"0b10", 3, "0b11"}, {"0x0", -1, "-1"},
	}
	for _, tt := range tests {
		if got := formatLike(tt.lit, tt.v); got != tt.want {
			t.Errorf("formatLike(%q, %d) = %q, want %q", tt.lit, tt.v, got, tt.want)
		}
	}
}

func list(ms []Mutant) string {
	var b strings.Builder
	for _, m := range ms {
		b.WriteString("  " + m.String() + "\n")
	}
	return b.String()
}
