// Package timens is the time namespace lab (labs/time): clocks of one's own,
// the monotonic and boot-time clocks shifted by offsets the namespace keeps
// (time_namespaces(7)).
//
// The learner's code sits between "// BEGIN SOLUTION" and "// END SOLUTION"
// in time.go; each such function's doc comment names its step. The graded
// test is TestTime in time_test.go (TestTime/NN_slug, one subtest a step);
// the steps are in steps.go, their run halves (in a lab host) in run.go and
// their check halves (in the harness) in check.go; the children the lab
// starts are the entrypoints in entry.go (the time-child, and the child
// with a fake /proc of fakeproc.go).
//
// The package is named timens so that it does not hide the standard
// library's time; its directory, and the lab's name, are time.
//
// Threads. unshare(2) with CLONE_NEWTIME changes the time_for_children of
// the calling thread only, so the lab does it on a locked OS thread of its
// own (nursery.go) that also starts the children meant to be in the new
// namespace, and that ends with them, never handed back to the scheduler.
// Joining an existing time namespace with setns(2) needs a single-threaded
// process, which a Go program never is: the lab's children join through
// nsenter(1).
package timens
