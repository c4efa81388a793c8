package mutate

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/nslab/nslab/pkg/starter"
)

// labMutants makes the mutants of every solution region of the lab in
// dir, the ones the type checker rejects already judged NotCompiling.
func labMutants(root, dir, lab string) ([]Result, error) {
	files, err := filepath.Glob(filepath.Join(dir, "*.go"))
	if err != nil {
		return nil, err
	}
	var checker *Checker
	var out []Result
	for _, path := range files {
		if strings.HasSuffix(path, "_test.go") {
			continue
		}
		src, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("read lab source: %w", err)
		}
		rel, _ := filepath.Rel(root, path) // path is under root
		regions, err := starter.Regions(filepath.ToSlash(rel), src, lab)
		if err != nil {
			return nil, err
		}
		if len(regions) == 0 {
			continue
		}
		if checker == nil {
			if checker, err = Load(root, "./labs/"+lab); err != nil {
				return nil, err
			}
		}
		rs, err := fileMutants(checker, path, src, regions)
		if err != nil {
			return nil, err
		}
		out = append(out, rs...)
	}
	return out, nil
}

// fileMutants makes the mutants of the regions of one file and type-checks each.
func fileMutants(c *Checker, path string, src []byte, regions []starter.Region) ([]Result, error) {
	f, err := c.File(path)
	if err != nil {
		return nil, err
	}
	var out []Result
	for _, m := range Generate(c.Pkg.Fset, f, src, regions, c.Pkg.TypesInfo) {
		r := Result{Mutant: m}
		if err := c.Check(path, m.Src); err != nil {
			r.Outcome, r.Detail = NotCompiling, err.Error()
		}
		out = append(out, r)
	}
	return out, nil
}
