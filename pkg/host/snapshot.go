package host

import (
	"fmt"
	"maps"
	"slices"
	"strings"
)

// Snapshot is the state of the host that a lab must not change. Each field
// is a sorted list of lines, so that two snapshots compare line by line.
type Snapshot struct {
	Hostname   string
	Domainname string
	Mounts     []string // "mount-id target fstype" of the caller's mount namespace
	Links      []string // network interfaces of the caller's network namespace, with addresses
	NetNS      []string // named network namespaces in /run/netns
	SysVIPC    []string // "msg|shm|sem key id" of the caller's IPC namespace
	MQueues    []string // POSIX message queues, when /dev/mqueue is mounted
	Children   []string // "pid comm" of the caller's living child processes
}

// Diff returns one line per difference between before and after, or nil.
func Diff(before, after Snapshot) []string {
	var out []string
	if before.Hostname != after.Hostname {
		out = append(out, fmt.Sprintf("hostname changed: %q -> %q", before.Hostname, after.Hostname))
	}
	if before.Domainname != after.Domainname {
		out = append(out, fmt.Sprintf("domain name changed: %q -> %q", before.Domainname, after.Domainname))
	}
	out = append(out, diffLines("mount", before.Mounts, after.Mounts)...)
	out = append(out, diffLines("network link", before.Links, after.Links)...)
	out = append(out, diffLines("named network namespace", before.NetNS, after.NetNS)...)
	out = append(out, diffLines("System V IPC object", before.SysVIPC, after.SysVIPC)...)
	out = append(out, diffLines("POSIX message queue", before.MQueues, after.MQueues)...)
	out = append(out, diffLines("child process", before.Children, after.Children)...)
	return out
}

func diffLines(what string, before, after []string) []string {
	set := func(s []string) map[string]bool {
		m := map[string]bool{}
		for _, x := range s {
			m[x] = true
		}
		return m
	}
	b, a := set(before), set(after)
	var out []string
	for _, x := range slices.Sorted(maps.Keys(a)) {
		if !b[x] {
			out = append(out, fmt.Sprintf("%s added: %s", what, x))
		}
	}
	for _, x := range slices.Sorted(maps.Keys(b)) {
		if !a[x] {
			out = append(out, fmt.Sprintf("%s removed: %s", what, x))
		}
	}
	return out
}

// ParseMountinfo turns /proc/PID/mountinfo text into "id target fstype" lines.
func ParseMountinfo(text string) []string {
	var out []string
	for _, line := range strings.Split(text, "\n") {
		f := strings.Fields(line)
		sep := slices.Index(f, "-")
		if len(f) < 5 || sep < 0 || sep+1 >= len(f) {
			continue
		}
		out = append(out, f[0]+" "+f[4]+" "+f[sep+1])
	}
	slices.Sort(out)
	return out
}

// ParseSysVIPC turns the text of /proc/sysvipc/{msg,shm,sem} into
// "kind key id" lines, skipping the header.
func ParseSysVIPC(kind, text string) []string {
	var out []string
	for i, line := range strings.Split(text, "\n") {
		f := strings.Fields(line)
		if i == 0 || len(f) < 2 {
			continue
		}
		out = append(out, kind+" "+f[0]+" "+f[1])
	}
	slices.Sort(out)
	return out
}
