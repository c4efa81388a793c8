// Package cli implements the nslab command: inspecting namespaces like
// lsns(8) and ls -l /proc/PID/ns, starting commands in new namespaces like
// unshare(1), and running the course's labs. cmd/nslab and the testscripts
// both call [Main].
//
// Every mistake a user can make (a bad flag, an unknown kind, a PID that is
// not a process, a missing privilege) ends in exactly one line on stderr,
// starting with "nslab: ", and a non-zero status: 2 for usage errors, 1 for
// other failures of ns and lab, and for run the statuses of unshare(1) and
// env(1): 125 when nslab could not start the command, 126 when the command
// cannot be executed, 127 when it is not found, else the command's own.
//
// Privilege: "nslab ns" needs the right to read the other process's
// /proc/PID/ns (one's own processes, or root). "nslab run" and "nslab lab"
// need root or unprivileged user namespaces; see package spawn.
//
// nslab run clones its child itself and the child, a copy of nslab running
// raw system calls, sets itself up and becomes the command or its init
// (fork_linux.go); where that is not built, or the kernel lacks clone3, it
// goes through pkg/spawn, which re-executes the binary as the child's shim:
// so the binary must call spawn.Init first thing in main.
//
// The lab command is package labcmd, installed with [SetLab] by the binary
// that links the labs (cmd/nslab): package cli does not link them, so that
// nslab run and nslab ns do not pay for their start-up
// (docs/performance.md).
package cli
