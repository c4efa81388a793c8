// Package container is the capstone lab: a container runtime built from
// system calls, without pkg/spawn doing the work. The container's first
// process is this binary again (spawn.EntrypointCommand runs a registered
// entrypoint in it) started by os/exec with the clone(2) flags, maps and
// cgroup the learner sets in its SysProcAttr; inside, golang.org/x/sys/unix
// builds its root (an overlay over the machine's /usr on a tmpfs), mounts
// proc, dev, sys and tmp, and switches with pivot_root(2); an init forwards
// signals and reaps; netlink links it to a bastion; a cgroup limits it;
// nsenter(1) runs a second command in it; and a stop leaves nothing behind.
//
// The learner's code sits between "// BEGIN SOLUTION" and "// END
// SOLUTION" in container.go; each such function's doc comment names its
// step. The steps are in steps.go: each runs its half in run.go in a lab
// host (pkg/labhost), where a container is started with the learner's piece
// of the runtime for that step and the lab's own for the others (box.go,
// rootfs.go, net.go, cgroup.go), and its check in check.go in the harness,
// which reads the container's namespaces, mount table, devices, cgroups and
// links from outside while it is alive. entry.go holds the programs the
// containers run.
//
// Everything the lab makes lives in the lab host: the containers are its
// children, their roots are tmpfs and overlays in their own mount
// namespaces (nothing is written to the machine's /usr or any disk), the
// bastion is a network namespace of its own (never the lab host's), and the
// cgroups are below the one the harness delegated for the step. Step 08
// needs that cgroup (a writable cgroup v2 hierarchy: root) and is skipped with
// the reason where the harness cannot make one. Step 10 gives its containers
// cgroups (and checks that Stop removes them) only where its lab host has one;
// it does not ask for one (see steps.go).
//
// Privilege: root, or unprivileged user namespaces (the lab host has a user
// namespace of its own, whose root is the runtime's caller).
package container
