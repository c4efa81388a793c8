// Package user is the user namespace lab: user and group IDs that mean one
// thing inside a namespace and another outside, the capabilities that come
// with being root inside, and the ownership of every other namespace by a
// user namespace (user_namespaces(7), capabilities(7), ioctl_ns(2)).
//
// The learner's code sits between "// BEGIN SOLUTION" and "// END SOLUTION"
// in user.go; each such function's doc comment names its step. The steps
// are in steps.go: each runs its learner code in a lab host (run.go) and
// makes its verdict in the harness (check.go), which reads the maps,
// setgroups, status lines, namespaces and owners of the lab's children from
// outside. The children are entrypoints in entry.go; mapper.go is step 02's
// writer without capabilities; ids.go holds the pure parsers of
// /proc/PID/status and /proc/PID/uid_map. The graded test is TestUser in
// user_test.go.
//
// Privilege: none. Inside a lab host the step's runner is root of the lab
// host's user namespace, whose maps hold the IDs 0-65535 when the lab host
// was made by root and only the caller's own ID otherwise; the steps map
// only IDs that namespace holds (the kernel refuses any other with EPERM).
// Under NSLAB_BARE=1 they run as the caller, root or not.
//
// The lab never renames a host: the only sethostname(2) it aims at the lab
// host's UTS namespace is made from a child in a user namespace of its own,
// and sets the name the lab host already has; children refuse to call it in
// their parent's namespaces (ns.NotIn). Files are made on a tmpfs mounted in
// a mount namespace the lab created.
package user
