// Package labhost runs a lab's code in a lab host: a throwaway set of
// namespaces, so that a wrong line of learner code can break the lab host but
// not the machine. A lab host runs one entrypoint and ends with it, or,
// resident, starts one process at a time on request (Host.Exec) until Stop.
//
// A lab host has its own user namespace (its root maps to IDs that own
// nothing on the machine when the caller is root, to the caller itself
// otherwise), and its own uts, ipc, mount, network, PID and cgroup namespaces
// (cgroup where the kernel has it). Its mount namespace is private, with a
// fresh /proc and a tmpfs on /tmp; its network namespace has lo up and
// nothing else. Its first process, the lab host's init (PID 1 there), sets
// this up, starts one registered entrypoint as its child, reaps every orphan,
// and exits with that child's status (resident: it starts each requested
// entrypoint as its child, tells its PID and then its status, and ends when
// the caller closes the control socket); when the init ends, the kernel kills
// every process left in the lab host, so nothing started inside outlives it.
//
// Privilege: as root, or as a user allowed to create user namespaces
// (user_namespaces(7)); [Check] says which, and what to do otherwise.
// The caller reads the lab host from outside (its /proc through [Host.Proc],
// its namespaces with pkg/ns) with the privilege it was started with.
//
// See namespaces(7), user_namespaces(7), pid_namespaces(7), mount_namespaces(7).
package labhost
