// Package all registers every lab of the course with pkg/lab; the nslab
// command, the magefile and the testscripts import it for its side effect.
package all

import (
	_ "github.com/nslab/nslab/labs/cgroup"    // cgroup namespaces
	_ "github.com/nslab/nslab/labs/container" // a container from system calls
	_ "github.com/nslab/nslab/labs/ipc"       // IPC namespaces
	_ "github.com/nslab/nslab/labs/mount"     // mount namespaces
	_ "github.com/nslab/nslab/labs/network"   // network namespaces
	_ "github.com/nslab/nslab/labs/pid"       // PID namespaces
	_ "github.com/nslab/nslab/labs/time"      // time namespaces
	_ "github.com/nslab/nslab/labs/user"      // user namespaces
	_ "github.com/nslab/nslab/labs/uts"       // UTS namespaces
)
