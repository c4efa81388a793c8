package labhost

import (
	"io"
	"os"
)

// EnvBare names the escape hatch: NSLAB_BARE=1 runs lab code on the bare
// machine, in a process of its own but in the caller's namespaces
// (docs/safety.md#bare says what that risks).
const EnvBare = "NSLAB_BARE"

// Bare reports whether the escape hatch is set.
func Bare() bool { return os.Getenv(EnvBare) == "1" }

// Options is what runs in a lab host.
type Options struct {
	// Entrypoint is a name registered with spawn.Register: the lab host's
	// init starts it as its only child (PID 2) and ends when it ends.
	Entrypoint string
	Args       []string

	// Resident starts a lab host without an entrypoint: its init starts one
	// process at a time on request (Host.Exec), and lives until Stop.
	// Entrypoint, Args and ExtraFiles must then be empty.
	Resident bool

	// Stdout and Stderr receive what everything in the lab host prints; nil discards it.
	Stdout, Stderr io.Writer

	// ExtraFiles become file descriptors 3, 4, … of the entrypoint.
	ExtraFiles []*os.File

	// Env is the environment inside; nil means Environ().
	Env []string

	// Cgroup gives the lab host a cgroup v2 directory of its own, delegated
	// to its root and removed when the lab host stops: the lab host starts in
	// it, so its cgroup namespace is rooted there. CheckCgroup says whether
	// one can be made.
	Cgroup bool
}
