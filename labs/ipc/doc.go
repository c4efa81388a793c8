// Package ipc is the IPC namespace lab: System V message queues, shared
// memory segments and semaphore sets, and POSIX message queues, each set of
// them private to one IPC namespace (ipc_namespaces(7), sysvipc(7),
// mq_overview(7)).
//
// The learner's code sits between "// BEGIN SOLUTION" and "// END SOLUTION"
// in ipc.go; each such function's doc comment names its step. The graded
// test is TestIPC/NN_slug in ipc_test.go; the steps are in steps.go, each
// a run half (run.go), which calls the learner's code in a lab host, and a
// check half (check.go), which makes the verdict in the harness. The rest of
// the package is the lab's own machinery: a holder process that keeps an IPC
// namespace alive and runs one command per line of its standard input
// (holder.go, entry.go), thin wrappers of the System V calls that
// golang.org/x/sys/unix lacks, with the namespace's limits the lab sets
// (sysv.go), and a thread without CAP_IPC_OWNER, where the learner's code
// meets the permission checks root skips (nocap.go).
//
// Every IPC object the lab makes lives in an IPC namespace the lab created
// inside the lab host, and disappears with that namespace. The checks read
// the lab host's own IPC namespace from outside and fail a step whose code
// left an object there: code that made it in its parent's namespace.
//
// Privilege: root, or unprivileged user namespaces (the lab host is root in
// a user namespace of its own). Threads: JoinIPC (step 04) changes the IPC
// namespace of one locked OS thread only, and must bring it back.
package ipc
