// Package host takes a snapshot of what the safety rules of DESIGN.md protect
// on the host — hostname and domain name, the mount table, network links and
// named network namespaces, System V and POSIX IPC objects, and the caller's
// child processes — so that a test run or a lab run can prove it left the host
// as it found it. It reads /proc, /sys and /run only; it needs no privilege.
package host
