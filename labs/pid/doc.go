// Package pid is the PID namespace lab: process IDs of one's own, an init
// that the namespace depends on, and namespaces nested inside namespaces
// (pid_namespaces(7), namespaces(7), proc(5)).
//
// The learner's code sits between "// BEGIN SOLUTION" and "// END SOLUTION"
// in pid.go; each such function's doc comment names its step. The graded
// test is TestPID (TestPID/NN_slug, one subtest a step) in pid_test.go.
//
// Each step runs in a lab host (pkg/labhost), in two halves (lab.Do): its run
// half (run.go) runs in the lab host, in a process of its own, the runner,
// and calls the learner's code there, directly or in the lab's children
// (entry.go, and inits.go for the inits and the helpers that unshare;
// pkg/holder talks to them); its check half (check.go) runs in the harness,
// judges the run's report and reads the lab host's /proc from outside. The
// "host" a step compares with is the lab host: the runner's PID namespace,
// whose /proc lists the lab host's processes only. The parsers of
// /proc/PID/status and /proc/PID/stat (status.go) and the judges of the
// reports are pure, and table-tested in lab_test.go.
//
// Threads: unshare(CLONE_NEWPID) (steps 03 and 07) changes the
// pid_for_children of the calling thread only; the lab's helpers call it on
// a goroutine locked to its thread that they never unlock, and start that
// thread's children from it.
//
// Nothing the lab starts outlives its step: when the lab host's init dies,
// the kernel kills everything in its PID namespace, nested ones included;
// every child also has Pdeathsig SIGKILL.
package pid
