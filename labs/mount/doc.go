// Package mount is the mount namespace lab: a child's own copy of the mount
// table, the propagation of mounts between namespaces (shared, slave,
// private, unbindable), a tmpfs the host never sees, and a minimal root file
// system entered with pivot_root(2) (mount_namespaces(7), mount(2),
// pivot_root(2), proc(5) for /proc/PID/mountinfo).
//
// The learner's code sits between "// BEGIN SOLUTION" and "// END SOLUTION"
// in mount.go; each such function's doc comment names its step. The steps
// are in steps.go: each runs its half in run.go in a lab host (pkg/labhost),
// and its check in check.go in the harness, which reads the mount tables of
// the lab host's processes from outside. The rest is the lab's machinery: a
// mountinfo parser (mountinfo.go), the lab's own pieces of a root file
// system (rootfs.go), and a holder process that runs one command per line
// of its standard input, in its own mount namespace or, for a "peer", on a
// thread that unshared a mount namespace of its own (holder.go, entry.go,
// thread.go).
//
// Every mount the lab makes lives in a mount namespace the lab created, under
// a tmpfs the lab mounts on /tmp there, inside a lab host made for the step;
// the lab creates nothing on the machine's file systems. A step whose code
// mounts in the lab host's own mount namespace fails, naming the mount.
//
// Privilege: root, or unprivileged user namespaces (the lab host has a user
// namespace of its own). Threads: EnterPrivateMountNS (step 03) changes the
// mount namespace of one locked OS thread, which must never run another
// goroutine afterwards.
package mount
