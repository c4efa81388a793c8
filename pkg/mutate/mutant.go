package mutate

import (
	"bytes"
	"fmt"
	"go/ast"
	"go/token"
	"go/types"
	"sort"
	"strings"

	"github.com/nslab/nslab/pkg/starter"
)

// The operators, as reports and the list of equivalent mutants name them.
const (
	OpNegate   = "negate"           // == and !=, < and >=, > and <=, !x and x
	OpBoundary = "boundary"         // < and <=, > and >=
	OpArith    = "arithmetic"       // + and -, * and /, & and |, << and >>
	OpConst    = "off-by-one"       // an integer constant n becomes n+1 or n-1
	OpRemove   = "remove-statement" // an expression statement or assignment left out
	OpSwap     = "swap-arguments"   // two arguments of a call, of one type, swapped
	OpNilError = "nil-error"        // a returned error becomes nil
	OpZero     = "zero-value"       // the returned values become their zero values
)

// Mutant is one small change to the code of a solution region.
type Mutant struct {
	File      string // the path the source was read from
	Line      int    // the line changed, from 1
	Lab, Step string // of the region: "uts", "02"
	Func      string // the function whose body the region is
	Operator  string // OpNegate…
	Original  string // the line before the change, trimmed
	Mutated   string // the line after it, trimmed; "(removed)" when nothing is left
	Src       []byte // the whole mutated file
}

func (m Mutant) String() string {
	return fmt.Sprintf("%s:%d: step %s: %s: %s -> %s", m.File, m.Line, m.Step, m.Operator, m.Original, m.Mutated)
}

// edit replaces src[off:end] with text.
type edit struct {
	off, end int
	text     string
}

// candidate is a mutation before it is applied: its operator, where it
// is, and its edits (several, for a swap).
type candidate struct {
	op    string
	at    token.Pos
	edits []edit
}

// Generate returns the mutants of the code inside regions of f, parsed with
// fset from src. info (types of f's package, or nil) enables the operators
// that need types: swapped arguments must have identical types, and zero
// values are spelled from the result types. Mutants that would not compile
// are among them: the caller type-checks them (Checker) or builds them.
// Two candidates giving the same source are one mutant.
func Generate(fset *token.FileSet, f *ast.File, src []byte, regions []starter.Region, info *types.Info) []Mutant {
	var out []Mutant
	seen := map[string]bool{}
	for _, r := range regions {
		fd := funcAt(fset, f, r)
		if fd == nil {
			continue
		}
		g := &gen{fset: fset, src: src, info: info, region: r}
		for _, c := range g.walk(fd) {
			m := g.apply(c)
			if key := string(m.Src); !seen[key] {
				seen[key] = true
				out = append(out, m)
			}
		}
	}
	return out
}

// funcAt is the function declaration whose body holds region r.
func funcAt(fset *token.FileSet, f *ast.File, r starter.Region) *ast.FuncDecl {
	for _, d := range f.Decls {
		fd, ok := d.(*ast.FuncDecl)
		if ok && fd.Body != nil && fset.Position(fd.Body.Lbrace).Line <= r.Begin && fset.Position(fd.Body.Rbrace).Line >= r.End {
			return fd
		}
	}
	return nil
}

// apply makes the mutant of candidate c.
func (g *gen) apply(c candidate) Mutant {
	line := g.fset.Position(c.at).Line
	mutated := applyEdits(g.src, c.edits)
	m := Mutant{
		File: g.region.File, Line: line, Lab: g.region.Lab, Step: g.region.Step, Func: g.region.Func,
		Operator: c.op, Original: lineOf(g.src, line), Mutated: lineOf(mutated, line), Src: mutated,
	}
	if m.Mutated == "" {
		m.Mutated = "(removed)"
	}
	return m
}

// applyEdits returns src with the edits made; they must not overlap.
func applyEdits(src []byte, edits []edit) []byte {
	sorted := append([]edit(nil), edits...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].off > sorted[j].off })
	out := bytes.Clone(src)
	for _, e := range sorted {
		out = append(out[:e.off:e.off], append([]byte(e.text), out[e.end:]...)...)
	}
	return out
}

// lineOf is line n (from 1) of src, trimmed.
func lineOf(src []byte, n int) string {
	lines := strings.Split(string(src), "\n")
	if n < 1 || n > len(lines) {
		return ""
	}
	return strings.TrimSpace(lines[n-1])
}
