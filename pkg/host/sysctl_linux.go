package host

import (
	"path/filepath"
	"strings"
)

// sysctlPaths are the sysctls a lab could plausibly change, under /proc/sys;
// globs are expanded, absent ones left out.
var sysctlPaths = []string{
	"net/ipv4/ip_forward", "net/ipv4/conf/all/forwarding", "net/ipv6/conf/all/forwarding", "net/ipv4/ping_group_range",
	"kernel/msgmni", "kernel/msgmax", "kernel/msgmnb", "kernel/shmmax", "kernel/shmall", "kernel/shmmni", "kernel/sem",
	"fs/mqueue/*", "user/max_*_namespaces",
	"kernel/unprivileged_userns_clone", "kernel/apparmor_restrict_unprivileged_userns",
}

// perNamespace says whether a sysctl belongs to a network or IPC namespace,
// which TakeOf visits; the others are the machine's or the user namespace's.
func perNamespace(path string) bool {
	for _, p := range []string{"net/", "kernel/msg", "kernel/shm", "kernel/sem", "fs/mqueue/"} {
		if strings.HasPrefix(path, p) {
			return true
		}
	}
	return false
}

// readSysctls reads the sysctls as the calling thread sees them: all of
// them for the machine, those of its network and IPC namespaces otherwise.
func readSysctls(machine bool) map[string]string {
	out := map[string]string{}
	for _, pattern := range sysctlPaths {
		paths, _ := filepath.Glob("/proc/sys/" + pattern) // the patterns are well-formed
		for _, p := range paths {
			rel := strings.TrimPrefix(p, "/proc/sys/")
			if !machine && !perNamespace(rel) {
				continue
			}
			if b, err := readProcFile(p); err == nil {
				out[strings.ReplaceAll(rel, "/", ".")] = strings.Join(strings.Fields(string(b)), " ")
			}
		}
	}
	return out
}
