// Package grade turns the output of go test -json over the labs into
// scores: each graded subtest (TestUTS/01_new_namespace) is mapped to its
// lab and step by name, and is worth the step's points when it passes. A
// step whose test did not run (the package did not build, the test was
// skipped for lack of privilege, the test binary panicked or timed out)
// scores 0 and says why.
//
// From a [Report] the package writes a table for the learner, results.json
// in the shape GitHub Classroom's grading reporter and Exercism-style test
// runners read, and, in GitHub Actions, a job summary, error annotations on
// the learner's code and the base64 result for the Classroom reporter. The
// learner's own test output only reaches the workflow log between
// ::stop-commands:: and its resume token, so it cannot forge workflow
// commands (see [Guard]).
//
// Run needs what the labs' tests need (root or user namespaces); the
// rest of the package is pure and reads recorded streams.
package grade
