package starter

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"regexp"
	"strings"
)

// The marker comments, each alone on its line.
const (
	Begin = "// BEGIN SOLUTION"
	End   = "// END SOLUTION"
)

// Region is one solution region of a lab's source file.
type Region struct {
	File       string // the path it was read from
	Lab, Step  string // "uts", "01"
	Func       string // the function around it: StartInNewUTS
	Begin, End int    // lines of the two markers, from 1
}

// MarkerError is a problem with the markers of a file, at a line.
type MarkerError struct {
	File string
	Line int
	Msg  string
}

func (e *MarkerError) Error() string { return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Msg) }

// LabOf returns the lab a file belongs to from its path relative to the
// repository root: labs/<name>/... belongs to lab name.
func LabOf(rel string) (string, bool) {
	parts := strings.Split(filepath.ToSlash(rel), "/")
	if len(parts) < 3 || parts[0] != "labs" || parts[1] == "" {
		return "", false
	}
	return parts[1], true
}

var stepRe = regexp.MustCompile(`\bis step (\d{1,2})\b`)

// StepOf returns the step a doc comment names ("… is step 03: …" gives "03").
func StepOf(doc string) (string, bool) {
	m := stepRe.FindStringSubmatch(doc)
	if m == nil {
		return "", false
	}
	if len(m[1]) == 1 {
		return "0" + m[1], true
	}
	return m[1], true
}

// Regions returns the solution regions of src, a Go file of lab labName
// read from file. Unbalanced or nested markers, a marker sharing its line
// with code, a region outside a function body and a function whose doc
// comment names no step are errors naming the file and line.
func Regions(file string, src []byte, labName string) ([]Region, error) {
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, file, src, parser.ParseComments|parser.SkipObjectResolution)
	if err != nil {
		return nil, fmt.Errorf("parse %s: %w", file, err)
	}
	markers, err := findMarkers(fset, f, file, src)
	if err != nil {
		return nil, err
	}
	var regions []Region
	for i := 0; i+1 < len(markers); i += 2 {
		r := Region{File: file, Lab: labName, Begin: markers[i].line, End: markers[i+1].line}
		if err := r.locate(fset, f, markers[i].pos, markers[i+1].pos); err != nil {
			return nil, err
		}
		regions = append(regions, r)
	}
	return regions, nil
}

type marker struct {
	begin bool
	line  int
	pos   token.Pos
}

// findMarkers returns the markers in order, checked to alternate
// BEGIN, END, BEGIN, END….
func findMarkers(fset *token.FileSet, f *ast.File, file string, src []byte) ([]marker, error) {
	lines := strings.Split(string(src), "\n")
	var ms []marker
	for _, g := range f.Comments {
		for _, c := range g.List {
			text := strings.TrimSpace(c.Text)
			if text != Begin && text != End {
				continue
			}
			line := fset.Position(c.Pos()).Line
			if strings.TrimSpace(lines[line-1]) != text {
				return nil, &MarkerError{file, line, "a solution marker must be alone on its line"}
			}
			m := marker{begin: text == Begin, line: line, pos: c.Pos()}
			if err := checkOrder(ms, m, file); err != nil {
				return nil, err
			}
			ms = append(ms, m)
		}
	}
	if n := len(ms); n%2 == 1 {
		return nil, &MarkerError{file, ms[n-1].line, "BEGIN SOLUTION is never closed by an END SOLUTION"}
	}
	return ms, nil
}

func checkOrder(prev []marker, m marker, file string) error {
	open := len(prev)%2 == 1
	switch {
	case m.begin && open:
		return &MarkerError{file, m.line, fmt.Sprintf("nested BEGIN SOLUTION: the region opened at line %d is not closed yet", prev[len(prev)-1].line)}
	case !m.begin && !open:
		return &MarkerError{file, m.line, "END SOLUTION without a BEGIN SOLUTION before it"}
	}
	return nil
}

// locate fills in the function around the region and the step its doc
// comment names.
func (r *Region) locate(fset *token.FileSet, f *ast.File, begin, end token.Pos) error {
	for _, d := range f.Decls {
		fd, ok := d.(*ast.FuncDecl)
		if !ok || fd.Body == nil || begin < fd.Body.Lbrace || end > fd.Body.Rbrace {
			continue
		}
		r.Func = fd.Name.Name
		step, ok := StepOf(fd.Doc.Text())
		if !ok {
			return &MarkerError{r.File, r.Begin, fmt.Sprintf("the doc comment of %s does not say which step it is (\"%s is step NN: …\")", fd.Name.Name, fd.Name.Name)}
		}
		r.Step = step
		return nil
	}
	return &MarkerError{r.File, r.Begin, "solution region outside a function body"}
}
