package starter

import (
	"bytes"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"regexp"
	"strconv"
	"strings"
)

// Reset returns src, a Go file of lab labName, with the solution regions of
// step (and only those) put back to their stub, as Strip makes them. Every
// other line stays as it is, but for the imports: pkg/lab is added when the
// file no longer imports it, and an import that only the reset code used
// is removed, so the file still builds. It returns the regions of step in
// src before the reset (none: the file has no region of that step) and
// whether anything changed.
func Reset(file string, src []byte, labName, step string) (out []byte, reset []Region, changed bool, err error) {
	regions, err := Regions(file, src, labName)
	if err != nil {
		return nil, nil, false, err
	}
	for _, r := range regions {
		if r.Step == step {
			reset = append(reset, r)
		}
	}
	if len(reset) == 0 {
		return src, nil, false, nil
	}
	lines := strings.Split(string(src), "\n")
	var old strings.Builder
	for _, r := range reset {
		old.WriteString(strings.Join(lines[r.Begin:r.End-1], "\n") + "\n")
	}
	out = replace(src, reset)
	if out, err = fixResetImports(file, out, old.String()); err != nil {
		return nil, nil, false, err
	}
	return out, reset, !bytes.Equal(out, src), nil
}

var qualifier = regexp.MustCompile(`\b([A-Za-z_]\w*)\s*\.`)

// fixResetImports makes the imports of src right after a reset, touching
// nothing else: it adds pkg/lab when missing and removes each import that
// removed (the code taken out) used and nothing in src uses any more.
func fixResetImports(file string, src []byte, removed string) ([]byte, error) {
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, file, src, parser.ImportsOnly|parser.ParseComments)
	if err != nil {
		return nil, fmt.Errorf("parse %s after the reset: %w", file, err)
	}
	full, err := parser.ParseFile(fset, file, src, parser.SkipObjectResolution)
	if err != nil {
		return nil, fmt.Errorf("parse %s after the reset: %w", file, err)
	}
	usedBefore := map[string]bool{}
	for _, m := range qualifier.FindAllStringSubmatch(removed, -1) {
		usedBefore[m[1]] = true
	}
	usedNow := map[string]bool{}
	ast.Inspect(full, func(n ast.Node) bool {
		if sel, ok := n.(*ast.SelectorExpr); ok {
			if id, ok := sel.X.(*ast.Ident); ok {
				usedNow[id.Name] = true
			}
		}
		return true
	})
	// Cut the unused imports, from the last so that offsets stay right.
	type cut struct{ from, to int }
	var cuts []cut
	for _, d := range f.Decls {
		g, ok := d.(*ast.GenDecl)
		if !ok || g.Tok != token.IMPORT {
			continue
		}
		for _, sp := range g.Specs {
			imp := sp.(*ast.ImportSpec)
			path, _ := strconv.Unquote(imp.Path.Value)
			name := path[strings.LastIndex(path, "/")+1:]
			if imp.Name != nil {
				name = imp.Name.Name
			}
			if name == "_" || name == "." || !usedBefore[name] || usedNow[name] {
				continue
			}
			if !g.Lparen.IsValid() {
				c := lineSpan(fset, src, g)
				if c.to < len(src) && src[c.to] == '\n' {
					c.to++ // and the blank line after it
				}
				cuts = append(cuts, c)
				continue
			}
			cuts = append(cuts, lineSpan(fset, src, imp))
		}
	}
	for i := len(cuts) - 1; i >= 0; i-- {
		src = append(src[:cuts[i].from:cuts[i].from], src[cuts[i].to:]...)
	}
	if importName(f, LabImport) == "" {
		return addLabImport(file, src)
	}
	return src, nil
}

// lineSpan is the byte range of the whole lines node covers, newline included.
func lineSpan(fset *token.FileSet, src []byte, node ast.Node) struct{ from, to int } {
	from := fset.Position(node.Pos()).Offset
	to := fset.Position(node.End()).Offset
	for from > 0 && src[from-1] != '\n' {
		from--
	}
	for to < len(src) && src[to] != '\n' {
		to++
	}
	if to < len(src) {
		to++
	}
	return struct{ from, to int }{from, to}
}

// addLabImport imports pkg/lab in src: in the last parenthesized import
// block, or in an import line of its own after the package clause.
func addLabImport(file string, src []byte) ([]byte, error) {
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, file, src, parser.ImportsOnly)
	if err != nil {
		return nil, fmt.Errorf("parse %s after the reset: %w", file, err)
	}
	line := strconv.Quote(LabImport)
	var block *ast.GenDecl
	for _, d := range f.Decls {
		if g, ok := d.(*ast.GenDecl); ok && g.Tok == token.IMPORT && g.Lparen.IsValid() {
			block = g
		}
	}
	if block != nil {
		return splice(src, importAt(fset, src, block), "\t"+line+"\n"), nil
	}
	at := fset.Position(f.Name.End()).Offset
	return splice(src, at, "\n\nimport "+line), nil
}

// importAt is where pkg/lab's line goes in block, as gofmt would sort it:
// in the group of the module's own imports (the last group if none), before
// the first path that sorts after it.
func importAt(fset *token.FileSet, src []byte, block *ast.GenDecl) int {
	lineStart := func(p token.Pos) int {
		at := fset.Position(p).Offset
		for at > 0 && src[at-1] != '\n' {
			at--
		}
		return at
	}
	var groups [][]*ast.ImportSpec
	last := 0
	for _, sp := range block.Specs {
		imp := sp.(*ast.ImportSpec)
		line := fset.Position(imp.Pos()).Line
		if len(groups) == 0 || line > last+1 {
			groups = append(groups, nil)
		}
		groups[len(groups)-1] = append(groups[len(groups)-1], imp)
		last = fset.Position(imp.End()).Line
	}
	if len(groups) == 0 {
		return lineStart(block.Rparen)
	}
	group := groups[len(groups)-1]
	for _, g := range groups {
		for _, imp := range g {
			if strings.HasPrefix(strings.Trim(imp.Path.Value, `"`), "github.com/nslab/") {
				group = g
			}
		}
	}
	for _, imp := range group {
		if strings.Trim(imp.Path.Value, `"`) > LabImport {
			return lineStart(imp.Pos())
		}
	}
	end := fset.Position(group[len(group)-1].End()).Offset
	for end < len(src) && src[end] != '\n' {
		end++
	}
	return end + 1
}

func splice(src []byte, at int, text string) []byte {
	out := append([]byte{}, src[:at]...)
	out = append(out, text...)
	return append(out, src[at:]...)
}
