// Package user is the user namespace lab: user and group IDs that mean one
// thing inside a namespace and another outside, the capabilities that come
// with being root inside, and the ownership of every other namespace by a
// user namespace (user_namespaces(7), capabilities(7), ioctl_ns(2)).
//
// The learner's code sits between "// BEGIN SOLUTION" and "// END SOLUTION"
// in user.go; each such function's doc comment names its step. The graded
// tests are TestUser/NN_slug in user_test.go; the steps, narrated, are in
// steps.go; what the lab observes for each step is gathered in observe.go,
// and the children it starts are entrypoints in entry.go. ids.go holds the
// pure parsers of /proc/PID/status and /proc/PID/uid_map.
//
// Privilege: none. Every step works for an unprivileged user where the
// kernel allows unprivileged user namespaces; that is the point of the lab.
// As root the same steps run with root's maps (and step 04 with a map of
// two lines).
//
// The lab never renames the host: the only sethostname(2) it aims at the
// host's UTS namespace is made from a child in a user namespace of its own,
// and sets the name the host already has. Files are made on a tmpfs mounted
// in a mount namespace the lab created, so nothing is left on disk even when
// the test is killed.
package user
