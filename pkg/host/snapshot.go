package host

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
)

// ErrNeedRoot is wrapped by the error of TakeOf when the caller is not root:
// reading another process's namespaces from the inside takes setns(2).
var ErrNeedRoot = errors.New("snapshotting another process's namespaces needs root")

// Snapshot is the state of the host that a lab must not change. Lists are
// sorted, so that two snapshots compare item by item.
type Snapshot struct {
	Hostname   string
	Domainname string
	Mounts     []Mount           // the mount table, in mountinfo order
	Links      []Link            // network links of the network namespace
	Routes     []string          // routes of every table, as ip-route(8) arguments
	Sysctls    map[string]string // the sysctls a lab could change (see sysctlNames), absent ones left out
	NetNS      []string          // named network namespaces in /run/netns
	SysVIPC    []string          // "msg|shm|sem key id" of the IPC namespace
	MQueues    []string          // POSIX message queues; nil when they could not be read
	Children   []string          // "pid comm" of the caller's living child processes
	Processes  []Process         // processes the caller left behind (see Take)
	TmpFiles   []string          // entries of /tmp the course could leave (see Take)
}

// Mount is one line of /proc/PID/mountinfo (proc(5)).
type Mount struct {
	ID, Parent   int
	Unique       uint64 // the mount's ID that is never reused (listmount(2), Linux 6.8+), 0 when unknown
	Dev          string // major:minor of the file system
	Root         string // the directory of the file system mounted here
	Target       string
	Options      string // per-mount options: rw,nosuid,relatime
	Propagation  string // the optional fields: "shared:1 master:2", "" for a private mount
	FSType       string
	Source       string
	SuperOptions string // per-super-block options
}

// Link is a network interface with what ip-link(8) can change of it.
type Link struct {
	Index  int
	Name   string
	Type   string   // veth, bridge, dummy, device, …
	State  string   // UP or DOWN: the administrative state (ip link set … up), not the carrier
	MTU    int      //
	Flags  string   // the other flags a user sets: BROADCAST,MULTICAST,NOARP,PROMISC,…
	Master string   // the bridge or bond the link is enslaved to, or ""
	Addrs  []string // addresses, as ip-address(8) shows them: 10.0.0.1/24
}

// Process is a process the caller left behind.
type Process struct {
	PID   int
	Start uint64 // start time, in clock ticks after boot (field 22 of /proc/PID/stat)
	Comm  string
	NS    string // the namespaces it is in that differ from the caller's: "net:[4026532…] uts:[…]", "" for none
}

func (p Process) String() string {
	where := "in the caller's namespaces"
	if p.NS != "" {
		where = "in " + p.NS
	}
	return fmt.Sprintf("%d %s (%s)", p.PID, p.Comm, where)
}

// Diff says in words what changed between before and after, one sorted line
// per change, or nil when nothing did.
func Diff(before, after Snapshot) []string {
	var out []string
	for _, c := range changes(before, after) {
		out = append(out, c.what)
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// Hints says how to put back what changed between before and after: one
// sorted command or advice per change that can be undone.
func Hints(before, after Snapshot) []string {
	var out []string
	for _, c := range changes(before, after) {
		if c.hint != "" {
			out = append(out, c.hint)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// change is one difference and how to undo it ("" when it cannot be).
type change struct{ what, hint string }

func changes(b, a Snapshot) []change {
	var out []change
	if b.Hostname != a.Hostname {
		out = append(out, change{fmt.Sprintf("hostname: %s -> %s", b.Hostname, a.Hostname), "hostname " + b.Hostname})
	}
	if b.Domainname != a.Domainname {
		out = append(out, change{fmt.Sprintf("domain name: %s -> %s", b.Domainname, a.Domainname), "domainname " + b.Domainname})
	}
	out = append(out, diffMounts(b.Mounts, a.Mounts)...)
	out = append(out, diffLinks(b.Links, a.Links)...)
	out = append(out, diffSet("route", b.Routes, a.Routes, routeHint)...)
	out = append(out, diffSysctls(b.Sysctls, a.Sysctls)...)
	out = append(out, diffSet("named network namespace", b.NetNS, a.NetNS, netnsHint)...)
	out = append(out, diffSet("System V IPC object", b.SysVIPC, a.SysVIPC, sysvHint)...)
	if b.MQueues != nil && a.MQueues != nil {
		out = append(out, diffSet("POSIX message queue", b.MQueues, a.MQueues, mqueueHint)...)
	}
	out = append(out, diffSet("child process", b.Children, a.Children, killHint)...)
	out = append(out, diffProcesses(b.Processes, a.Processes)...)
	out = append(out, diffTmp(b.TmpFiles, a.TmpFiles)...)
	return out
}

// diffSet reports the items added to and removed from a set; hint says how
// to undo the addition (added true) or the removal of an item.
func diffSet(what string, before, after []string, hint func(item string, added bool) string) []change {
	return diffByKey(toSet(before), toSet(after), keyedDiff[bool]{
		added:   func(x string, _ bool) change { return change{fmt.Sprintf("%s added: %s", what, x), hint(x, true)} },
		kept:    func(string, bool, bool) []change { return nil },
		removed: func(x string, _ bool) change { return change{fmt.Sprintf("%s removed: %s", what, x), hint(x, false)} },
	})
}

func toSet(s []string) map[string]bool {
	m := make(map[string]bool, len(s))
	for _, x := range s {
		m[x] = true
	}
	return m
}

func routeHint(r string, added bool) string {
	ip := "ip"
	if strings.Contains(routeDst(r), ":") {
		ip = "ip -6"
	}
	if added {
		return fmt.Sprintf("%s route del %s", ip, r)
	}
	return fmt.Sprintf("%s route add %s", ip, r)
}

// routeDst is the destination of a route line: its first word after the route type.
func routeDst(r string) string {
	f := strings.Fields(r)
	if len(f) > 1 && routeTypes[f[0]] {
		return f[1]
	}
	if len(f) > 0 {
		return f[0]
	}
	return ""
}

func netnsHint(name string, added bool) string {
	if added {
		return "ip netns delete " + name
	}
	return "ip netns add " + name
}

func sysvHint(obj string, added bool) string {
	f := strings.Fields(obj)
	if !added || len(f) < 3 {
		return "" // a removed object and its contents are gone
	}
	flag := map[string]string{"msg": "-q", "shm": "-m", "sem": "-s"}[f[0]]
	return fmt.Sprintf("ipcrm %s %s", flag, f[2])
}

func mqueueHint(name string, added bool) string {
	if !added {
		return ""
	}
	return "mount -t mqueue none /dev/mqueue (if it is not mounted), then rm /dev/mqueue/" + name
}

func killHint(proc string, added bool) string {
	if !added {
		return ""
	}
	return "kill " + strings.Fields(proc + " ?")[0]
}

// diffTmp reports the new entries of /tmp; one that is gone was not left behind.
func diffTmp(before, after []string) []change {
	b := toSet(before)
	var out []change
	for _, name := range after {
		if !b[name] {
			out = append(out, change{"left in /tmp: /tmp/" + name, "rm -rf " + quote("/tmp/"+name)})
		}
	}
	return out
}

func diffSysctls(b, a map[string]string) []change {
	var out []change
	for _, k := range slices.Sorted(maps.Keys(toSet(append(slices.Collect(maps.Keys(b)), slices.Collect(maps.Keys(a))...)))) {
		old, had := b[k]
		now, has := a[k]
		if old == now && had == has {
			continue
		}
		c := change{what: fmt.Sprintf("sysctl %s: %s -> %s", k, orAbsent(old, had), orAbsent(now, has))}
		if had {
			c.hint = fmt.Sprintf("sysctl -w %s=%q", k, old)
			if !strings.ContainsAny(old, " \t") {
				c.hint = fmt.Sprintf("sysctl -w %s=%s", k, old)
			}
		}
		out = append(out, c)
	}
	return out
}

func orAbsent(v string, ok bool) string {
	if !ok {
		return "(absent)"
	}
	return v
}

func diffProcesses(before, after []Process) []change {
	type key struct {
		pid   int
		start uint64
	}
	seen := map[key]bool{}
	for _, p := range before {
		seen[key{p.PID, p.Start}] = true
	}
	var out []change
	for _, p := range after {
		if !seen[key{p.PID, p.Start}] {
			out = append(out, change{"process left: " + p.String(), fmt.Sprintf("kill %d", p.PID)})
		}
	}
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
