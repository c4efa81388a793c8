// Package cgroup is the cgroup namespace lab: a process's view of the cgroup
// tree, rooted at the cgroup it was made in (cgroup_namespaces(7)).
//
// The learner's code sits between "// BEGIN SOLUTION" and "// END SOLUTION"
// in cgroup.go; each such function's doc comment names its step. The graded
// test is TestCgroup in cgroup_test.go (TestCgroup/NN_slug, one subtest a
// step); the steps are in steps.go, their run halves (in a lab host) in
// run.go and their check halves (in the harness) in check.go; the children
// the lab starts are the entrypoints in entry.go.
//
// Cgroups. Every step but 02 runs in a lab host with a cgroup v2 directory
// of its own, delegated to the lab host's root (lab.Step.Cgroup); where none
// can be made, the step is skipped with the reason. The lab makes its
// cgroups below that directory only, reached through the machine's cgroup
// mount that the lab host inherited (tree.go), and the harness removes them
// with the lab host. The lab mounts nothing in the lab host itself: its
// children that mount a cgroup file system have a mount namespace of their
// own. Step 06 needs the pids controller: in the lab host's cgroup v2 on a
// pure v2 machine (the lab then moves the lab host's processes into a leaf,
// /host), in the v1 pids hierarchy on a hybrid one.
//
// Threads: steps 01 and 04 read a child's cgroup from its own namespace on
// a locked OS thread that visits it (ns.Do) and comes back.
package cgroup
