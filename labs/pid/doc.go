// Package pid is the PID namespace lab: process IDs of one's own, an init
// that the namespace depends on, and namespaces nested inside namespaces
// (pid_namespaces(7), namespaces(7), proc(5)).
//
// The learner's code sits between "// BEGIN SOLUTION" and "// END SOLUTION"
// in pid.go; each such function's doc comment names its step. The graded
// tests are TestPID/NN_slug in pid_test.go; the steps, narrated, are in
// steps.go. The children the lab starts are entrypoints (entry_linux.go,
// and init_linux.go for the inits and the unsharing helpers),
// and the scenarios that drive them and collect what they saw are in
// scenario_linux.go. The parsers of /proc/PID/status and /proc/PID/stat are
// pure (status.go) and tested without privilege.
//
// Privilege: root, or unprivileged user namespaces (pkg/spawn adds one).
// Threads: unshare(CLONE_NEWPID) (step 07) changes the pid_for_children of
// the calling thread only; the lab calls it on a goroutine locked to its
// thread that it never unlocks, and starts that thread's children from it.
//
// Nothing the lab starts outlives it: every child has Pdeathsig SIGKILL, and
// when the init of a PID namespace dies the kernel kills everything else in
// that namespace.
package pid
