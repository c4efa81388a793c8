//go:build linux

package network

import (
	"github.com/nslab/nslab/pkg/lab"
)

// Lab is the network lab, registered with pkg/lab.
var Lab = &lab.Lab{
	Name:    "network",
	Title:   "Network namespaces: links, addresses and routes of one's own",
	Summary: "   A network namespace has its own links, addresses, routes, sockets and port numbers; a veth pair is the cable between two of them.",
	Steps: []*lab.Step{
		{
			ID: "01", Slug: "loopback", Title: "A new network namespace has only lo, and it is down", Points: 15,
			Explain: "clone(2) with CLONE_NEWNET gives a namespace with one link, lo, down: even 127.0.0.1 is unreachable until lo is up.",
			Hints: []string{
				"Links are configured over rtnetlink(7); github.com/vishvananda/netlink wraps it.",
				"netlink.LinkByName finds a link in the caller's namespace; netlink.LinkSetUp sets IFF_UP on it.",
				"lo, err := netlink.LinkByName(\"lo\"); then return netlink.LinkSetUp(lo), errors wrapped.",
			},
			Do: lab.Do(runLoopback, checkLoopback),
		},
		{
			ID: "02", Slug: "own_devices", Title: "/proc/net/dev and sysfs list the namespace's own devices", Points: 20,
			Explain: "/proc/net/dev shows the devices of the reader's network namespace; a sysfs instance shows those of the namespace that mounted it.",
			Hints: []string{
				"/proc/net/dev: two header lines, then \"  NAME: counters...\" per device.",
				"strings.Cut(line, \":\") splits the name from the counters; trim the spaces and sort the names.",
				"unix.Mount(\"sysfs\", dir, \"sysfs\", unix.MS_RDONLY|unix.MS_NOSUID|unix.MS_NODEV|unix.MS_NOEXEC, \"\")",
			},
			Do: lab.Do(runOwnDevices, checkOwnDevices),
		},
		{
			ID: "03", Slug: "veth", Title: "A veth pair between the bastion and the container", Points: 20,
			Explain: "A veth pair is made in one network namespace; one end is then moved into another, and leaves the first.",
			Hints: []string{
				"netlink.LinkAdd with a *netlink.Veth makes both ends; PeerName names the other one.",
				"netns.GetFromPid(pid) opens /proc/PID/ns/net; netlink.LinkSetNsFd(link, int(handle)) moves the link there.",
				"Close the namespace handle (defer target.Close()) once the link is moved.",
			},
			Do: lab.Do(runVeth, checkVeth),
		},
		{
			ID: "04", Slug: "traffic", Title: "Addresses and routes: TCP both ways", Points: 25,
			Explain: "Each end of the pair gets an address and a route to the other end's; then TCP connects in both directions.",
			Hints: []string{
				"netlink.AddrAdd(link, &netlink.Addr{IPNet: ...}) adds an address; the helper ipNet converts a netip.Prefix.",
				"A link must be up to carry packets: netlink.LinkSetUp after the address.",
				"netlink.RouteAdd(&netlink.Route{LinkIndex: l.Attrs().Index, Dst: ipNet(dst), Scope: netlink.SCOPE_LINK})",
			},
			Do: lab.Do(runTraffic, checkTraffic),
		},
		{
			ID: "05", Slug: "moved_and_gone", Title: "A moved link leaves; a veth ends with its namespace", Points: 20,
			Explain: "A link is in one network namespace at a time; when the container's namespace ends, its veth end is destroyed, and the peer with it.",
			Hints: []string{
				"netns.GetFromPid(pid) gives a handle on another process's network namespace; netlink.NewHandleAt(handle) a netlink socket in it.",
				"The handle's LinkList lists the links there; the caller's own thread does not move.",
				"Close both: an open namespace handle keeps the namespace, and its links, alive after its last process.",
			},
			Do: lab.Do(runMovedAndGone, checkMovedAndGone),
		},
	},
}

func init() { lab.Register(Lab) }
