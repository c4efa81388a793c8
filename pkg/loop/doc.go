// Package loop is the learner's loop around the graded tests: the argument
// forms of the course's mage targets (Args), a progress table per lab
// (WriteProgress), and watch, which re-runs the step at hand each time a
// file of its lab changes (Watch).
//
// Everything here grades through pkg/grade, that is through the labs' own
// graded tests (go test -json): there is no second way of judging a step.
package loop
