package host

import (
	"fmt"
	"net"
	"os"
	"slices"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// Take reads the host's state as the calling process sees it.
func Take() (Snapshot, error) {
	var s Snapshot
	var u unix.Utsname
	if err := unix.Uname(&u); err != nil {
		return s, fmt.Errorf("snapshot the host: uname: %w", err)
	}
	s.Hostname = unix.ByteSliceToString(u.Nodename[:])
	s.Domainname = unix.ByteSliceToString(u.Domainname[:])
	mi, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		return s, fmt.Errorf("snapshot the host: %w", err)
	}
	s.Mounts = ParseMountinfo(string(mi))
	if s.Links, err = links(); err != nil {
		return s, err
	}
	s.NetNS = names("/run/netns")
	for _, kind := range []string{"msg", "shm", "sem"} {
		b, _ := os.ReadFile("/proc/sysvipc/" + kind) // absent without System V IPC: nothing to protect
		s.SysVIPC = append(s.SysVIPC, ParseSysVIPC(kind, string(b))...)
	}
	s.MQueues = names("/dev/mqueue")
	s.Children = children(os.Getpid())
	return s, nil
}

func links() ([]string, error) {
	ifs, err := net.Interfaces()
	if err != nil {
		return nil, fmt.Errorf("snapshot the host: list network links: %w", err)
	}
	var out []string
	for _, ifc := range ifs {
		out = append(out, fmt.Sprintf("%d %s", ifc.Index, ifc.Name))
		addrs, _ := ifc.Addrs()
		for _, a := range addrs {
			out = append(out, fmt.Sprintf("%d %s address %s", ifc.Index, ifc.Name, a))
		}
	}
	slices.Sort(out)
	return out, nil
}

// names lists a directory's entries; a missing directory has none.
func names(dir string) []string {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil
	}
	out := make([]string, 0, len(entries))
	for _, e := range entries {
		out = append(out, e.Name())
	}
	return out
}

// children lists the living children of pid (zombies included: a zombie is a child not reaped).
func children(pid int) []string {
	var out []string
	for _, name := range names("/proc") {
		child, err := strconv.Atoi(name)
		if err != nil {
			continue
		}
		b, err := os.ReadFile("/proc/" + name + "/stat")
		if err != nil {
			continue
		}
		comm, ppid, ok := ParseStat(string(b))
		if ok && ppid == pid {
			out = append(out, fmt.Sprintf("%d %s", child, comm))
		}
	}
	return out
}

// ParseStat returns the command name and parent PID from /proc/PID/stat text.
func ParseStat(text string) (comm string, ppid int, ok bool) {
	open, end := strings.IndexByte(text, '('), strings.LastIndexByte(text, ')')
	if open < 0 || end < open {
		return "", 0, false
	}
	f := strings.Fields(text[end+1:])
	if len(f) < 2 {
		return "", 0, false
	}
	ppid, err := strconv.Atoi(f[1])
	return text[open+1 : end], ppid, err == nil
}
