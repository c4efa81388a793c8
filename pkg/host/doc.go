// Package host takes a snapshot of what a run of the course must leave as it found
// on the machine (docs/safety.md) — hostname and domain name, the mount table (with
// propagation, options and unique mount IDs), network links, addresses and
// routes, a fixed list of sysctls, named network namespaces, System V and
// POSIX IPC objects, the caller's children, the processes it left behind and
// its leftovers in /tmp — so that a test run or a lab run can prove it left
// the machine as it found it ([Take], [Diff], [Hints]). [TakeOf] takes the
// same snapshot of the namespaces of another process, such as a lab host.
//
// Privilege: Take reads /proc, /sys and netlink and needs none, but for POSIX
// message queues, which it reads as root through a detached mqueue mount
// (fsopen, fsmount) of the namespace it reads. TakeOf needs root
// ([ErrNeedRoot]).
package host
