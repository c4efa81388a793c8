// Package mount is the mount namespace lab: a child's own copy of the mount
// table, the propagation of mounts between namespaces (shared, slave,
// private, unbindable), a tmpfs the host never sees, and a minimal root file
// system entered with pivot_root(2) (mount_namespaces(7), mount(2),
// pivot_root(2), proc(5) for /proc/PID/mountinfo).
//
// The learner's code sits between "// BEGIN SOLUTION" and "// END SOLUTION"
// in mount.go; each such function's doc comment names its step. The graded
// tests are TestMount/NN_slug in mount_test.go; the steps, narrated, are in
// steps.go. The rest is the lab's own machinery: a mountinfo parser
// (mountinfo.go) and a holder process that runs one command per line of its
// standard input, in its own mount namespace or, for a "peer", on a thread
// that unshared a mount namespace of its own (holder_linux.go, entry_linux.go).
//
// Every mount the lab makes lives in a mount namespace the lab created, under
// a tmpfs the lab mounts on /tmp there; the lab creates nothing on the host's
// file systems, so a run killed halfway leaves nothing behind.
//
// Privilege: root, or unprivileged user namespaces (pkg/spawn adds one).
// Threads: EnterPrivateMountNS (step 03) changes the mount namespace of one
// locked OS thread, which must never run another goroutine afterwards.
package mount
