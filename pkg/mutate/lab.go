package mutate

import (
	"context"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"time"
)

// Config is one lab's mutation run.
type Config struct {
	Root     string    // the module's root directory
	Lab      string    // the lab's name: its package is labs/<Lab>
	Workers  int       // go test processes at once; 0 means GOMAXPROCS
	Env      []string  // added to go test's environment; NSLAB_STEP_TIMEOUT=20s unless set here or in ours
	Progress io.Writer // a line per mutant judged; nil means none
	Exec     string    // a go test -exec program ("sudo -n" where namespaces need root); "" for none
	Funcs    []string  // only the mutants of these solution functions; nil means every one
}

// Report is what became of a lab's mutants.
type Report struct {
	Lab      string
	Results  []Result     // every mutant, in source order
	Stale    []Equivalent // listed as equivalent, but no mutant is that one any more
	Duration time.Duration
}

// Count is the number of results with outcome o.
func (r *Report) Count(o Outcome) int {
	n := 0
	for _, res := range r.Results {
		if res.Outcome == o {
			n++
		}
	}
	return n
}

// RunLab makes the mutants of a lab's solution regions and runs each
// one's step. It fails before any mutant runs when the lab's graded test
// fails as it is: then every mutant would look killed.
func RunLab(ctx context.Context, c Config) (*Report, error) {
	start := time.Now()
	root, err := filepath.Abs(c.Root)
	if err != nil {
		return nil, err
	}
	dir := filepath.Join(root, "labs", c.Lab)
	t, err := target(root, dir, c)
	if err != nil {
		return nil, err
	}
	if err := baseline(ctx, t); err != nil {
		return nil, err
	}
	results, err := labMutants(root, dir, c.Lab)
	if err != nil {
		return nil, err
	}
	if results, err = onlyFuncs(results, c.Funcs); err != nil {
		return nil, err
	}
	runAll(ctx, t, results, c.Workers, c.Progress)
	eqs, err := ReadEquivalents(filepath.Join(dir, EquivalentFile))
	if err != nil {
		return nil, err
	}
	r := &Report{Lab: c.Lab, Results: results, Stale: excuse(results, eqs)}
	if len(c.Funcs) > 0 {
		r.Stale = nil // the other functions' mutants were not made
	}
	r.Duration = time.Since(start)
	return r, nil
}

// target finds the lab's graded test and sets the step time limit.
func target(root, dir string, c Config) (Target, error) {
	test, err := gradedTest(dir)
	if err != nil {
		return Target{}, err
	}
	env := c.Env
	if os.Getenv("NSLAB_STEP_TIMEOUT") == "" && !hasVar(env, "NSLAB_STEP_TIMEOUT") {
		env = append(env, "NSLAB_STEP_TIMEOUT=20s") // a mutant that hangs fails its step in 20s
	}
	return Target{Root: root, Pkg: "./labs/" + c.Lab, Test: test, Env: env, Exec: c.Exec}, nil
}

func hasVar(env []string, name string) bool {
	for _, kv := range env {
		if strings.HasPrefix(kv, name+"=") {
			return true
		}
	}
	return false
}

// baseline runs the lab's graded test as it is: every step must pass.
func baseline(ctx context.Context, t Target) error {
	out, err := t.goTest(ctx, "", "", "")
	if err != nil || !strings.Contains(string(out), "--- PASS: "+t.Test+" ") {
		return fmt.Errorf("run %s of %s without mutants: it does not pass, so no mutant can be judged (%v): %s", t.Test, t.Pkg, err, failure(string(out)))
	}
	return nil
}

// gradedTest is the name of the test function of the lab's _test.go
// files that calls labtest.Grade.
func gradedTest(dir string) (string, error) {
	files, err := filepath.Glob(filepath.Join(dir, "*_test.go"))
	if err != nil {
		return "", err
	}
	for _, name := range files {
		f, err := parser.ParseFile(token.NewFileSet(), name, nil, parser.SkipObjectResolution)
		if err != nil {
			return "", fmt.Errorf("parse %s: %w", name, err)
		}
		if test, ok := GradedTest(f); ok {
			return test, nil
		}
	}
	return "", fmt.Errorf("find the graded test in %s: no Test function calls labtest.Grade", dir)
}

// GradedTest is the Test function of f whose body calls labtest.Grade.
func GradedTest(f *ast.File) (string, bool) {
	for _, d := range f.Decls {
		fd, ok := d.(*ast.FuncDecl)
		if ok && fd.Body != nil && strings.HasPrefix(fd.Name.Name, "Test") && callsGrade(fd.Body) {
			return fd.Name.Name, true
		}
	}
	return "", false
}

func callsGrade(body *ast.BlockStmt) bool {
	found := false
	ast.Inspect(body, func(n ast.Node) bool {
		if sel, ok := n.(*ast.SelectorExpr); ok {
			if x, ok := sel.X.(*ast.Ident); ok && x.Name == "labtest" && sel.Sel.Name == "Grade" {
				found = true
			}
		}
		return !found
	})
	return found
}

// runAll judges the mutants not yet known not to compile, workers at a time.
func runAll(ctx context.Context, t Target, results []Result, workers int, progress io.Writer) {
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	var mu sync.Mutex
	var wg sync.WaitGroup
	sem := make(chan struct{}, workers)
	for i := range results {
		if results[i].Outcome == NotCompiling {
			continue
		}
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			results[i] = t.Run(ctx, results[i].Mutant)
			if progress != nil {
				mu.Lock()
				fmt.Fprintf(progress, "  %-13s %s (%.1fs)\n", results[i].Outcome, results[i].Mutant, results[i].Duration.Seconds())
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
}

// excuse marks the survivors listed as equivalent, and returns the
// listed ones that no mutant matched.
func excuse(results []Result, eqs []Equivalent) (stale []Equivalent) {
	for _, e := range eqs {
		matched := false
		for i := range results {
			if e.Matches(results[i].Mutant) {
				matched = true
				if results[i].Outcome == Survived {
					results[i].Outcome, results[i].Detail = KnownEquivalent, e.Reason
				}
			}
		}
		if !matched {
			stale = append(stale, e)
		}
	}
	return stale
}

// onlyFuncs keeps the results whose mutant is in one of funcs; every
// name must be a solution function of the lab.
func onlyFuncs(results []Result, funcs []string) ([]Result, error) {
	if len(funcs) == 0 {
		return results, nil
	}
	want := map[string]bool{}
	for _, f := range funcs {
		want[f] = false
	}
	var out []Result
	for _, r := range results {
		if _, ok := want[r.Mutant.Func]; ok {
			want[r.Mutant.Func] = true
			out = append(out, r)
		}
	}
	for f, seen := range want {
		if !seen {
			return nil, fmt.Errorf("select mutants of function %s: no solution region of the lab is that function, or it has no mutants", f)
		}
	}
	return out, nil
}
