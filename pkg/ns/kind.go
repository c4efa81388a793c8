package ns

import (
	"fmt"
	"slices"
	"strings"
)

// Kind is a kind of namespace, named as the kernel names its file in /proc/PID/ns.
type Kind string

// The kinds of namespace, as in /proc/PID/ns. The *_for_children kinds are the
// namespaces a process's next children will be created in; they differ from
// the process's own after unshare(2) of a PID or time namespace.
const (
	Cgroup          Kind = "cgroup"
	IPC             Kind = "ipc"
	Mnt             Kind = "mnt"
	Net             Kind = "net"
	PID             Kind = "pid"
	PIDForChildren  Kind = "pid_for_children"
	Time            Kind = "time"
	TimeForChildren Kind = "time_for_children"
	User            Kind = "user"
	UTS             Kind = "uts"
)

// kinds lists every kind this package knows, in the order of ls /proc/PID/ns.
var kinds = [...]Kind{Cgroup, IPC, Mnt, Net, PID, PIDForChildren, Time, TimeForChildren, User, UTS}

// Kinds returns every kind this package knows, in the order of ls
// /proc/PID/ns: a new slice each call, which the caller may change.
func Kinds() []Kind { return slices.Clone(kinds[:]) }

// Clone flags, as in <linux/sched.h>; kept here so the pure code builds on every OS.
const (
	cloneNewTime   = 0x00000080
	cloneNewNS     = 0x00020000
	cloneNewCgroup = 0x02000000
	cloneNewUTS    = 0x04000000
	cloneNewIPC    = 0x08000000
	cloneNewUser   = 0x10000000
	cloneNewPID    = 0x20000000
	cloneNewNet    = 0x40000000
)

var cloneFlags = map[Kind]uintptr{
	Cgroup: cloneNewCgroup, IPC: cloneNewIPC, Mnt: cloneNewNS, Net: cloneNewNet,
	PID: cloneNewPID, PIDForChildren: cloneNewPID, Time: cloneNewTime,
	TimeForChildren: cloneNewTime, User: cloneNewUser, UTS: cloneNewUTS,
}

// ParseKind returns the kind named s. It accepts the kernel's names and the
// words a learner knows ("mount", "network"), and rejects anything else with
// an error that lists the valid names.
func ParseKind(s string) (Kind, error) {
	switch k := Kind(strings.ToLower(strings.TrimSpace(s))); k {
	case "mount":
		return Mnt, nil
	case "network":
		return Net, nil
	default:
		if _, ok := cloneFlags[k]; ok {
			return k, nil
		}
	}
	return "", fmt.Errorf("unknown namespace kind %q (known: %s)", s, kindNames())
}

func kindNames() string {
	names := make([]string, len(kinds))
	for i, k := range kinds {
		names[i] = string(k)
	}
	return strings.Join(names, " ")
}

// CloneFlag returns the CLONE_NEW* flag that creates a namespace of kind k, or
// 0 for an unknown kind.
func (k Kind) CloneFlag() uintptr { return cloneFlags[k] }

// Base returns the kind a *_for_children kind refers to (pid, time); other
// kinds are returned unchanged. It is also the word the kernel's link text uses.
func (k Kind) Base() Kind {
	switch k {
	case PIDForChildren:
		return PID
	case TimeForChildren:
		return Time
	}
	return k
}

// KindOfCloneFlag returns the kind a single CLONE_NEW* flag creates, as
// NS_GET_NSTYPE reports it.
func KindOfCloneFlag(flag uintptr) (Kind, bool) {
	for _, k := range kinds {
		if k == k.Base() && cloneFlags[k] == flag {
			return k, true
		}
	}
	return "", false
}

// CloneFlags returns the union of the clone flags of kinds.
func CloneFlags(kinds ...Kind) uintptr {
	var f uintptr
	for _, k := range kinds {
		f |= k.CloneFlag()
	}
	return f
}
