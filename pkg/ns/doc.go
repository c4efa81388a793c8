// Package ns identifies Linux namespaces the way the kernel does.
//
// Every process has one namespace of each kind, shown as a symbolic link under
// /proc/PID/ns (see namespaces(7)). The link text, such as "uts:[4026531838]",
// names the namespace; stat(2) of the link's target gives the device and inode
// number of a file in the nsfs pseudo file system, and two processes are in the
// same namespace exactly when both numbers are equal. This package reads those
// identities ([Get], [Of]), compares them ([Diff]), lists every namespace on the
// machine like lsns(8) ([List]), and asks nsfs about ownership and hierarchy
// through the ioctl(2) operations of ioctl_ns(2) ([Open], [Handle]).
//
// Privilege: reading another process's /proc/PID/ns needs the right to ptrace
// it (PTRACE_MODE_READ): one's own processes, or every process as root. PID 1
// can be unreadable even for root inside a container; such refusals come back
// as errors matching [ErrPermission].
//
// Threads: [Do] changes the namespaces of the calling OS thread only, and
// locks the goroutine to that thread for the duration (setns(2)).
package ns
