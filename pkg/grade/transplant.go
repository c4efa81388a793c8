package grade

import (
	"bytes"
	"fmt"
	"go/ast"
	"go/format"
	"go/parser"
	"go/scanner"
	"go/token"
	"sort"
	"strconv"
	"strings"

	"golang.org/x/tools/go/ast/astutil"

	"github.com/nslab/nslab/pkg/starter"
)

// File is one file of a course tree.
type File struct {
	Data []byte
	Exec bool // the mode has an execute bit
}

// Tree is a course tree in memory: slash-separated paths relative to the
// module root, to their files.
type Tree map[string]File

// Paths returns the paths of t, sorted.
func (t Tree) Paths() []string {
	paths := make([]string, 0, len(t))
	for p := range t {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	return paths
}

// Change is a file of a learner's tree that differs from the pristine copy
// outside the solution regions.
type Change struct {
	Path string `json:"path"`
	How  string `json:"how"` // edited, added or removed
}

func (c Change) String() string { return c.Path + " (" + c.How + ")" }

// Tampering lists the files of learner that differ from pristine outside
// the solution regions and the import declarations of the labs' Go files
// (a solution needs its imports), sorted by path. The paths the starter
// edition leaves out (starter.Dropped) may be missing.
func Tampering(pristine, learner Tree) []Change {
	var out []Change
	for _, p := range pristine.Paths() {
		l, ok := learner[p]
		switch {
		case !ok && !dropped(p):
			out = append(out, Change{p, "removed"})
		case ok && !bytes.Equal(skeleton(p, pristine[p].Data), skeleton(p, l.Data)):
			out = append(out, Change{p, "edited"})
		}
	}
	for _, p := range learner.Paths() {
		if _, ok := pristine[p]; !ok {
			out = append(out, Change{p, "added"})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out
}

func dropped(p string) bool {
	for _, d := range starter.Dropped() {
		if p == d || strings.HasSuffix(d, "/") && strings.HasPrefix(p, d) {
			return true
		}
	}
	return false
}

// labFile reports whether p is a Go file of a lab that may hold regions.
func labFile(p string) bool {
	_, ok := starter.LabOf(p)
	return ok && strings.HasSuffix(p, ".go") && !strings.HasSuffix(p, "_test.go")
}

// skeleton is a lab's Go file without its regions' bodies, its import
// declarations and the starter's guard of pkg/lab's import
// (starter.GuardLines); any other file as it is. A file whose markers are broken
// stays whole, so that it differs.
func skeleton(p string, src []byte) []byte {
	if !labFile(p) {
		return src
	}
	bodies, err := starter.Bodies(p, src)
	if err != nil {
		return src
	}
	lines := strings.Split(string(src), "\n")
	drop := importLines(src)
	for l := range starter.GuardLines(src) {
		drop[l] = true
	}
	var keep []string
	for i, l := range lines {
		if !inRegion(bodies, i+1) && !drop[i+1] {
			keep = append(keep, l)
		}
	}
	return []byte(strings.Join(keep, "\n"))
}

func inRegion(bodies []starter.Body, line int) bool {
	for _, b := range bodies {
		if line > b.Begin && line < b.End {
			return true
		}
	}
	return false
}

// importLines returns the lines of src's import declarations, read even
// when the rest of the file does not parse.
func importLines(src []byte) map[int]bool {
	fset := token.NewFileSet()
	f, _ := parser.ParseFile(fset, "", src, parser.ImportsOnly)
	lines := map[int]bool{}
	if f == nil {
		return lines
	}
	for _, d := range f.Decls {
		if g, ok := d.(*ast.GenDecl); ok && g.Tok == token.IMPORT {
			for l := fset.Position(g.Pos()).Line; l <= fset.Position(g.End()).Line; l++ {
				lines[l] = true
			}
		}
	}
	return lines
}

// Placed is a solution region of the pristine copy after a transplant.
type Placed struct {
	Lab, Step, File, Func string
	Key                   string // Func#n, see starter.Body.Key
	Learner               bool   // it holds the learner's code; else its stub
	Problem               string // why it holds the stub though the learner wrote something: does not compile, …
}

// Transplant returns pristine, a lab's Go file at path p, with the body of
// each solution region replaced by the learner's region of the same
// function (by key) from learner (nil when the learner has no such file)
// and learner's imports that allow accepts added (the caller removes those
// nothing uses). A region the learner lacks, or whose code does not parse
// as statements of its function, or is in stub (key to the problem), gets
// its stub.
func Transplant(p string, pristine, learner []byte, allow func(string) bool, stub map[string]string) ([]byte, []Placed, error) {
	lab, _ := starter.LabOf(p)
	regions, err := starter.Regions(p, pristine, lab)
	if err != nil {
		return nil, nil, fmt.Errorf("the pristine copy's %s: %w", p, err)
	}
	pbodies, err := starter.Bodies(p, pristine)
	if err != nil || len(pbodies) != len(regions) {
		return nil, nil, fmt.Errorf("the pristine copy's %s: the regions read by lines and by parsing disagree (%v)", p, err)
	}
	mine, why := learnerBodies(p, learner)
	keys := starter.Keys(pbodies)
	placed := make([]Placed, len(regions))
	bodies := make([]string, len(regions))
	for i, r := range regions {
		placed[i] = Placed{Lab: lab, Step: r.Step, File: p, Func: r.Func, Key: keys[i]}
		bodies[i] = bodyFor(p, &placed[i], mine, why, stub)
	}
	out := replaceBodies(pristine, pbodies, bodies)
	if out, err = addImports(p, out, learner, allow); err != nil {
		return nil, nil, err
	}
	return out, placed, nil
}

// learnerBodies indexes the learner's regions by key; why says why there
// are none.
func learnerBodies(p string, src []byte) (map[string]starter.Body, string) {
	if src == nil {
		return nil, p + " is missing"
	}
	bodies, err := starter.Bodies(p, src)
	if err != nil {
		return nil, "its markers are broken: " + err.Error()
	}
	m := map[string]starter.Body{}
	for i, k := range starter.Keys(bodies) {
		m[k] = bodies[i]
	}
	return m, ""
}

// bodyFor chooses the body of one region and says in pl where it came from.
func bodyFor(p string, pl *Placed, mine map[string]starter.Body, why string, stub map[string]string) string {
	stubText := starter.Stub(pl.Lab, pl.Step) + "\n"
	b, ok := mine[pl.Key]
	switch {
	case why != "":
		pl.Problem = "no solution region found: " + why
	case !ok:
		pl.Problem = fmt.Sprintf("no solution region found in %s of %s (its markers were removed or moved)", pl.Func, p)
	case stub[pl.Key] != "":
		pl.Problem = stub[pl.Key]
	case isStub(b.Text):
		return stubText // not written yet: no problem to report
	default:
		if err := checkBody(p, b); err != nil {
			pl.Problem = err.Error()
			return stubText
		}
		pl.Learner = true
		return b.Text
	}
	return stubText
}

func isStub(text string) bool {
	return strings.HasPrefix(strings.TrimSpace(text), "panic(lab.TODO(") && strings.Count(strings.TrimSpace(text), "\n") == 0
}

// checkBody requires a region's code to parse as statements of its
// function, without leaving it and without line directives (which would
// move compiler errors to other regions).
func checkBody(p string, b starter.Body) error {
	src := "package p\nfunc _() {\n" + b.Text + "}\n"
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, "", src, parser.ParseComments|parser.SkipObjectResolution)
	if list, ok := err.(scanner.ErrorList); ok && len(list) > 0 {
		e := list[0]
		return fmt.Errorf("does not compile: %s:%d:%d: %s", p, b.Begin+e.Pos.Line-2, e.Pos.Column, e.Msg)
	}
	if err != nil {
		return fmt.Errorf("does not compile: %s:%d: %v", p, b.Begin, err)
	}
	if len(f.Decls) != 1 {
		return fmt.Errorf("does not compile: %s:%d: the region of %s leaves its function (only code inside the function counts)", p, b.Begin, b.Func)
	}
	for _, g := range f.Comments {
		for _, c := range g.List {
			if strings.HasPrefix(c.Text, "//line ") || strings.HasPrefix(c.Text, "/*line ") {
				return fmt.Errorf("does not compile: %s:%d: a //line directive in a solution region is not allowed", p, b.Begin+fset.Position(c.Pos()).Line-2)
			}
		}
	}
	return nil
}

// replaceBodies puts bodies[i] between the markers of region old[i].
func replaceBodies(src []byte, old []starter.Body, bodies []string) []byte {
	lines := strings.SplitAfter(string(src), "\n")
	var b strings.Builder
	next := 0
	for i, r := range old {
		b.WriteString(strings.Join(lines[next:r.Begin], ""))
		b.WriteString(bodies[i])
		next = r.End - 1
	}
	b.WriteString(strings.Join(lines[next:], ""))
	return []byte(b.String())
}

// addImports adds to src the imports of learner that allow accepts, but
// for blank, dot and cgo imports.
func addImports(p string, src, learner []byte, allow func(string) bool) ([]byte, error) {
	specs := importSpecs(learner)
	if len(specs) == 0 {
		return src, nil
	}
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, p, src, parser.ParseComments)
	if err != nil {
		return nil, fmt.Errorf("parse %s after the transplant: %w", p, err)
	}
	for _, s := range specs {
		if allow(s.path) {
			astutil.AddNamedImport(fset, f, s.name, s.path)
		}
	}
	var buf bytes.Buffer
	if err := format.Node(&buf, fset, f); err != nil {
		return nil, fmt.Errorf("print %s after the transplant: %w", p, err)
	}
	return buf.Bytes(), nil
}

type importSpec struct{ name, path string }

func importSpecs(src []byte) []importSpec {
	if src == nil {
		return nil
	}
	f, _ := parser.ParseFile(token.NewFileSet(), "", src, parser.ImportsOnly)
	if f == nil {
		return nil
	}
	var out []importSpec
	for _, s := range f.Imports {
		path, err := strconv.Unquote(s.Path.Value)
		name := ""
		if s.Name != nil {
			name = s.Name.Name
		}
		if err != nil || path == "C" || name == "_" || name == "." {
			continue
		}
		out = append(out, importSpec{name, path})
	}
	return out
}

// Allow returns the import rule of a transplant: the standard library, the
// course's own packages and those of the modules its go.mod requires.
func Allow(gomod []byte) func(string) bool {
	var prefixes []string
	for _, l := range strings.Split(string(gomod), "\n") {
		f := strings.Fields(strings.TrimPrefix(strings.TrimSpace(l), "require "))
		switch {
		case len(f) >= 2 && strings.TrimSpace(l) != "" && strings.HasPrefix(f[1], "v") && strings.Contains(f[0], "."):
			prefixes = append(prefixes, f[0])
		case len(f) == 2 && f[0] == "module":
			prefixes = append(prefixes, f[1])
		}
	}
	return func(path string) bool {
		if !strings.Contains(strings.Split(path, "/")[0], ".") {
			return true // the standard library
		}
		for _, p := range prefixes {
			if path == p || strings.HasPrefix(path, p+"/") {
				return true
			}
		}
		return false
	}
}
