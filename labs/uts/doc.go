// Package uts is the UTS namespace lab: a hostname and a domain name of one's
// own (uts_namespaces(7)).
//
// The learner's code sits between "// BEGIN SOLUTION" and "// END SOLUTION";
// each such function's doc comment names its step. The graded tests are
// TestUTS/NN_slug in uts_test.go; the steps, narrated, are in steps.go.
//
// Privilege: root, or unprivileged user namespaces (pkg/spawn adds one).
package uts
