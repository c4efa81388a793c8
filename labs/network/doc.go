// Package network is the network namespace lab: a new network namespace
// holds nothing but a loopback device that is down; /proc/net/dev and a
// freshly mounted sysfs show the devices of one namespace only; two
// namespaces the lab makes, a stand-in for the host (the bastion) and a
// container, are joined by a veth pair with addresses and routes, and TCP
// flows both ways; a link moved to another namespace leaves the one it was
// in, and a veth ends with its namespace (network_namespaces(7), veth(4),
// rtnetlink(7), sysfs(5)).
//
// Links, addresses and routes are configured through netlink
// (github.com/vishvananda/netlink), never by running ip(8).
//
// The learner's code sits between "// BEGIN SOLUTION" and "// END SOLUTION"
// in network.go; each such function's doc comment names its step. Each step
// runs in a lab host (pkg/labhost): its run half (run.go) starts holders,
// children that keep network namespaces of the lab's own alive and run one
// command per line of their standard input (holder.go, entry.go), calls the
// learner's functions there, and reports what the kernel's witnesses saw
// (witness.go); its check half (check.go) makes the verdict in the test
// binary, visiting the holders' network namespaces with netlink
// (netview.go). The graded test is TestNetwork in network_test.go.
//
// Safety: every link and address the lab makes lives in a network namespace
// it created; a holder refuses to run in its parent's network namespace
// (holder.go: ns.GuardArg, ns.NotInParent), and refuses to give an address
// or dial outside LabNet (198.51.100.0/24, TEST-NET-2 of RFC 5737) and
// loopback. The lab host's own network namespace never receives a link, an
// address or a route from the lab, and every step checks that it did not.
//
// Privilege: root, or unprivileged user namespaces. The bastion is made in a
// new user namespace of the lab's own, and the container is made by the
// bastion, so that one user namespace owns both network namespaces and the
// bastion, root in it, may move links between them (pair.go,
// docs/labs/network.md). Threads: LinksOf (step 05) enters another network
// namespace on one locked OS thread only, through netlink.NewHandleAt.
package network
