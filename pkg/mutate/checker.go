package mutate

import (
	"errors"
	"fmt"
	"go/ast"
	"go/parser"
	"go/types"
	"path/filepath"

	"golang.org/x/tools/go/packages"
)

// Checker type-checks mutants of one package without building it: a
// mutant the type checker rejects (an unused variable left by a removed
// statement, a string minus a string) is not compiling, and is never run.
type Checker struct {
	Pkg *packages.Package // the package, with syntax and types
}

// Load loads the package in dir (pattern "./labs/uts" relative to it)
// with its syntax and types, failing when it does not type-check.
func Load(dir, pattern string) (*Checker, error) {
	cfg := &packages.Config{Dir: dir, Mode: packages.NeedName | packages.NeedFiles | packages.NeedCompiledGoFiles |
		packages.NeedImports | packages.NeedTypes | packages.NeedTypesInfo | packages.NeedSyntax}
	pkgs, err := packages.Load(cfg, pattern)
	if err != nil {
		return nil, fmt.Errorf("load %s in %s: %w", pattern, dir, err)
	}
	if len(pkgs) != 1 {
		return nil, fmt.Errorf("load %s in %s: %d packages, want 1", pattern, dir, len(pkgs))
	}
	p := pkgs[0]
	if len(p.Errors) > 0 {
		return nil, fmt.Errorf("load %s in %s: %v", pattern, dir, p.Errors[0])
	}
	return &Checker{Pkg: p}, nil
}

// File is the parsed file at path (absolute) of the package.
func (c *Checker) File(path string) (*ast.File, error) {
	for i, name := range c.Pkg.CompiledGoFiles {
		if filepath.Clean(name) == filepath.Clean(path) {
			return c.Pkg.Syntax[i], nil
		}
	}
	return nil, fmt.Errorf("find %s among the files of package %s", path, c.Pkg.PkgPath)
}

// Check type-checks the package with the file at path replaced by src.
func (c *Checker) Check(path string, src []byte) error {
	var files []*ast.File
	for i, name := range c.Pkg.CompiledGoFiles {
		if filepath.Clean(name) != filepath.Clean(path) {
			files = append(files, c.Pkg.Syntax[i])
			continue
		}
		f, err := parser.ParseFile(c.Pkg.Fset, name, src, parser.SkipObjectResolution)
		if err != nil {
			return err
		}
		files = append(files, f)
	}
	var first error
	conf := types.Config{Importer: importerOf(c.Pkg.Types), Error: func(err error) {
		if first == nil {
			first = err
		}
	}}
	conf.Check(c.Pkg.PkgPath, c.Pkg.Fset, files, nil)
	return first
}

// importer answers the type checker with the imports of the package as
// it was loaded: a mutant imports nothing new.
type importer map[string]*types.Package

func importerOf(p *types.Package) importer {
	m := importer{}
	for _, imp := range p.Imports() {
		m[imp.Path()] = imp
	}
	return m
}

func (m importer) Import(path string) (*types.Package, error) {
	if p, ok := m[path]; ok {
		return p, nil
	}
	return nil, errors.New("import " + path + ": not among the package's imports")
}
