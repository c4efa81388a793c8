package starter

import (
	"bytes"
	"fmt"
	"go/ast"
	"go/format"
	"go/parser"
	"go/token"
	"regexp"
	"slices"
	"strings"

	"golang.org/x/tools/go/ast/astutil"
	"golang.org/x/tools/imports"
)

// LabImport is the import path of the package that defines lab.TODO.
const LabImport = "github.com/nslab/nslab/pkg/lab"

// Stub is the statement a region of step of lab becomes.
func Stub(lab, step string) string { return fmt.Sprintf("panic(lab.TODO(%q, %q))", lab, step) }

// Strip returns src, a Go file of lab labName read from file, with the body
// of every solution region replaced by its stub, pkg/lab imported and the
// imports nothing uses any more removed. It also returns the regions, with
// their lines in the stripped file. file should be the real path of the
// source: imports reads the other files of its package to tell their names
// from missing imports.
func Strip(file string, src []byte, labName string) ([]byte, []Region, error) {
	regions, err := Regions(file, src, labName)
	if err != nil || len(regions) == 0 {
		return src, regions, err
	}
	stripped := replace(src, regions)
	out, err := fixImports(file, stripped)
	if err != nil {
		return nil, nil, err
	}
	if out, err = guardLabImport(file, out); err != nil {
		return nil, nil, err
	}
	// Lines moved: read the regions again from what will be written.
	regions, err = Regions(file, out, labName)
	return out, regions, err
}

// replace keeps each region's markers and puts the stub between them,
// indented like the BEGIN marker.
func replace(src []byte, regions []Region) []byte {
	lines := strings.Split(string(src), "\n")
	var out []string
	next := 0 // index into lines
	for _, r := range regions {
		out = append(out, lines[next:r.Begin]...) // through the BEGIN line
		begin := lines[r.Begin-1]
		indent := begin[:len(begin)-len(strings.TrimLeft(begin, " \t"))]
		out = append(out, indent+Stub(r.Lab, r.Step))
		next = r.End - 1 // the END line
	}
	out = append(out, lines[next:]...)
	return []byte(strings.Join(out, "\n"))
}

// fixImports adds the import of pkg/lab the stubs use and removes those
// nothing uses any more.
func fixImports(file string, src []byte) ([]byte, error) {
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, file, src, parser.ParseComments)
	if err != nil {
		return nil, fmt.Errorf("parse %s after stripping: %w", file, err)
	}
	astutil.AddImport(fset, f, LabImport)
	var buf bytes.Buffer
	if err := format.Node(&buf, fset, f); err != nil {
		return nil, fmt.Errorf("format %s after stripping: %w", file, err)
	}
	out, err := imports.Process(file, buf.Bytes(), &imports.Options{Comments: true, TabIndent: true, TabWidth: 8})
	if err != nil {
		return nil, fmt.Errorf("remove unused imports of %s: %w", file, err)
	}
	return out, nil
}

// Guard is the line that keeps pkg/lab imported in a stripped file whose
// only use of it is in the stubs: without it, a learner who replaces the
// last stub of the file gets "imported and not used" for an import they
// never wrote.
const Guard = "var _ = lab.TODO"

const guardComment = `// lab.TODO is what the stubs below panic with. This line keeps pkg/lab
// imported once you have replaced every stub of this file.
`

// guardLabImport adds Guard after the imports of src when pkg/lab is used
// nowhere but in its solution regions.
func guardLabImport(file string, src []byte) ([]byte, error) {
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, file, src, parser.ParseComments|parser.SkipObjectResolution)
	if err != nil {
		return nil, fmt.Errorf("parse %s after stripping: %w", file, err)
	}
	name := importName(f, LabImport)
	if name == "" {
		return src, nil
	}
	regions, err := Regions(file, src, "")
	if err != nil {
		return nil, err
	}
	if usedOutside(fset, f, name, regions) {
		return src, nil
	}
	var last ast.Decl
	for _, d := range f.Decls {
		if g, ok := d.(*ast.GenDecl); ok && g.Tok == token.IMPORT {
			last = g
		}
	}
	at := fset.Position(last.End()).Offset
	guard := "\n\n" + guardComment + strings.Replace(Guard, "lab.", name+".", 1)
	out := append([]byte{}, src[:at]...)
	out = append(out, guard...)
	return format.Source(append(out, src[at:]...))
}

var guardLine = regexp.MustCompile(`^var _ = \w+\.TODO$`)

// GuardLines returns the lines (from 1) of src that Strip's guard takes: its
// comment, the Guard line and the blank line after them. The grader leaves
// them out when it compares a learner's file with the course's: a learner
// may keep the guard, or delete it (or only its line) once every stub of
// the file is replaced.
func GuardLines(src []byte) map[int]bool {
	lines := strings.Split(string(src), "\n")
	comment := strings.Split(strings.TrimSuffix(guardComment, "\n"), "\n")
	out := map[int]bool{}
	for i, l := range lines {
		if guardLine.MatchString(strings.TrimSpace(l)) || slices.Contains(comment, l) {
			out[i+1] = true
			if i+1 < len(lines) && strings.TrimSpace(lines[i+1]) == "" {
				out[i+2] = true
			}
		}
	}
	return out
}

// importName is the name path is imported under in f; "" when f does not
// import it.
func importName(f *ast.File, path string) string {
	for _, imp := range f.Imports {
		if strings.Trim(imp.Path.Value, `"`) != path {
			continue
		}
		if imp.Name != nil {
			return imp.Name.Name
		}
		return path[strings.LastIndex(path, "/")+1:]
	}
	return ""
}

// usedOutside reports whether f refers to the package imported as name
// outside the solution regions.
func usedOutside(fset *token.FileSet, f *ast.File, name string, regions []Region) bool {
	used := false
	ast.Inspect(f, func(n ast.Node) bool {
		sel, ok := n.(*ast.SelectorExpr)
		if !ok || used {
			return !used
		}
		if id, ok := sel.X.(*ast.Ident); ok && id.Name == name {
			line := fset.Position(sel.Pos()).Line
			in := false
			for _, r := range regions {
				in = in || line > r.Begin && line < r.End
			}
			used = !in
		}
		return true
	})
	return used
}
