// Package uts is the UTS namespace lab: a hostname and a domain name of one's
// own (uts_namespaces(7)).
//
// The learner's code sits between "// BEGIN SOLUTION" and "// END SOLUTION"
// in uts.go; each such function's doc comment names its step. The graded
// tests are TestUTS/NN_slug in uts_test.go; the steps, narrated, are in
// steps.go; the children the lab starts are entrypoints in entry.go.
//
// Privilege: root, or unprivileged user namespaces (pkg/spawn adds one).
// Steps 04 and 05 join a namespace with setns(2), which needs CAP_SYS_ADMIN
// over the target's user namespace and the caller's own: without root they
// run in a sandbox child that is root in a user namespace of its own
// (scenario.go). Threads: step 04 joins on a locked OS thread (ns.Do) that
// comes back before it is unlocked.
//
// The lab never renames the namespace of the process that runs it: renaming
// children are told that namespace and refuse to rename it.
package uts
