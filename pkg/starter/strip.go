package starter

import (
	"bytes"
	"fmt"
	"go/format"
	"go/parser"
	"go/token"
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
