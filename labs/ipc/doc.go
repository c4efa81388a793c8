// Package ipc is the IPC namespace lab: System V message queues, shared
// memory segments and semaphore sets, and POSIX message queues, each set of
// them private to one IPC namespace (ipc_namespaces(7), sysvipc(7),
// mq_overview(7)).
//
// The learner's code sits between "// BEGIN SOLUTION" and "// END SOLUTION"
// in ipc.go; each such function's doc comment names its step. The graded
// tests are TestIPC/NN_slug in ipc_test.go; the steps, narrated, are in
// steps.go. The rest of the package is the lab's own machinery: a holder
// process that keeps an IPC namespace alive and runs one command per line of
// its standard input (holder_linux.go, entry_linux.go), and thin wrappers of
// the System V calls that golang.org/x/sys/unix lacks (sysv_linux.go).
//
// Every IPC object the lab makes lives in an IPC namespace the lab created,
// never in the host's, and disappears with that namespace.
//
// Privilege: root, or unprivileged user namespaces (pkg/spawn adds one).
// Threads: JoinIPC (step 04) changes the IPC namespace of one locked OS thread only.
package ipc
