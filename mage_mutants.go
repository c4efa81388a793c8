//go:build mage

package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/magefile/mage/mg"

	"github.com/nslab/nslab/pkg/mutate"
)

// Mutants proves that each lab's graded steps fail a subtly wrong answer:
// it mutates the code of the solution regions (-lab=NAME for one lab, every
// lab by default), runs each mutant's step, and prints the mutants that
// survive. It fails when a survivor is not listed as equivalent in
// labs/LAB/testdata/equivalent-mutants.txt (see docs/mutants.md). With -v,
// every mutant is printed as it is judged. -funcs=A,B judges only the mutants
// of those solution functions (with -lab), the quick loop while a check is
// being strengthened.
func Mutants(ctx context.Context, lab *string, funcs *string) error {
	labs, err := labsNamed(lab)
	if err != nil {
		return err
	}
	var progress io.Writer
	if mg.Verbose() {
		progress = os.Stdout
	}
	var total mutantTotals
	var errs []error
	for _, l := range labs {
		r, err := mutate.RunLab(ctx, mutate.Config{Root: ".", Lab: l.Name, Progress: progress, Exec: sudoExec(), Funcs: funcNames(funcs)})
		if err != nil { // the other labs can still be judged
			fmt.Printf("lab %s: not judged: %v\n", l.Name, err)
			errs = append(errs, fmt.Errorf("mutants of lab %s: %w", l.Name, err))
			continue
		}
		printMutants(r)
		total.add(r)
	}
	if len(labs) > 1 {
		fmt.Printf("all labs: %s\n", total)
	}
	if total.notJudged > 0 {
		errs = append(errs, fmt.Errorf("%d mutants were not judged: their step was skipped or did not run", total.notJudged))
	}
	if total.survived > 0 {
		errs = append(errs, fmt.Errorf("%d mutants survive their step: strengthen the step's checks, or list an equivalent one in labs/LAB/%s", total.survived, mutate.EquivalentFile))
	}
	return errors.Join(errs...)
}

// printMutants prints a lab's survivors, its equivalent mutants apart,
// the equivalents listed that match no mutant any more, and its totals.
func printMutants(r *mutate.Report) {
	for _, res := range r.Results {
		switch res.Outcome {
		case mutate.Survived:
			fmt.Println(res.Mutant)
		case mutate.KnownEquivalent:
			fmt.Printf("equivalent: %s  # %s\n", res.Mutant, res.Detail)
		case mutate.NotJudged:
			fmt.Printf("not judged: %s: %s\n", res.Mutant, res.Detail)
		}
	}
	for _, e := range r.Stale {
		fmt.Printf("stale: %s: no mutant is this one any more; update or remove the line\n", e)
	}
	var t mutantTotals
	t.add(r)
	fmt.Printf("lab %s: %s (%.0fs)\n", r.Lab, t, r.Duration.Seconds())
}

type mutantTotals struct{ all, killed, notCompiling, equivalent, survived, notJudged int }

func (t *mutantTotals) add(r *mutate.Report) {
	t.all += len(r.Results)
	t.killed += r.Count(mutate.Killed)
	t.notCompiling += r.Count(mutate.NotCompiling)
	t.equivalent += r.Count(mutate.KnownEquivalent)
	t.survived += r.Count(mutate.Survived)
	t.notJudged += r.Count(mutate.NotJudged)
}

func (t mutantTotals) String() string {
	s := fmt.Sprintf("%d mutants, %d killed, %d not compiling, %d equivalent, %d survivors", t.all, t.killed, t.notCompiling, t.equivalent, t.survived)
	if t.notJudged > 0 {
		s += fmt.Sprintf(", %d not judged", t.notJudged)
	}
	return s
}

func funcNames(funcs *string) []string {
	if funcs == nil || *funcs == "" {
		return nil
	}
	return strings.Split(*funcs, ",")
}
