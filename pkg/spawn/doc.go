// Package spawn starts a child process in new namespaces: the one helper every
// lab, the nslab command and the tests use.
//
// A child is always the running binary itself, re-executed through
// /proc/self/exe with the clone(2) flags of the namespaces asked for. That
// first program is a small shim: it waits until the parent says go, makes a
// new mount namespace private, mounts a fresh /proc, sets the host and domain
// name, joins namespaces of other processes, and then either executes an
// external command (execve(2), so the command keeps the PID, PID 1 in a new
// PID namespace) or runs a Go function registered with [Register]. Between
// [Start] and [Child.Release] the child exists, in its namespaces, and has run
// nothing: the caller can read its namespace IDs, write its UID and GID maps,
// move network links into it, and only then release it. The hold is a pipe,
// never a sleep.
//
// Every program that starts children must call [Init] first thing in main (or
// in TestMain for a test binary, or in an init function of the magefile's
// main package): in a child, Init runs the shim and never returns.
//
// Privilege: creating namespaces other than user namespaces needs
// CAP_SYS_ADMIN. When the caller is not root, Start adds a user namespace
// mapping the caller to root (see user_namespaces(7)), if the kernel allows
// unprivileged user namespaces; [Check] tells in advance, with what to do when
// it does not.
//
// Threads: Pdeathsig is delivered when the thread that started the child
// exits; start children from goroutines that are not locked to a thread.
//
// See clone(2), namespaces(7), pid_namespaces(7), user_namespaces(7).
package spawn
