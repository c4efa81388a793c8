// Package mutate proves that the graded tests of a lab catch a subtly wrong
// answer, not only an empty one: it makes mutants of the code inside the
// solution regions (a negated or shifted condition, another operator, an
// integer off by one, a statement removed, two arguments swapped, a nil error
// or a zero value returned), runs each mutant's step, and reports the
// mutants that survive it (see docs/mutants.md).
//
// Generate is pure: it works on a parsed file and, for the operators that
// need types, on go/types information. Run builds and runs the step's graded
// subtest once per mutant with go test -overlay, as the caller: the mutant
// is learner code, so it only ever runs inside the lab hosts of pkg/labhost.
package mutate
