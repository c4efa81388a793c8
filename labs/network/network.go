//go:build linux

package network

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/netip"
	"slices"
	"strings"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"
)

// LoopbackUp is step 01: bring up the loopback device lo of the caller's
// network namespace (the netlink equivalent of `ip link set lo up`). A new
// network namespace has lo, and it is down: nothing, not even 127.0.0.1,
// answers until it is up. Return an error, wrapping the kernel's, when
// there is no link called lo, or when the kernel refuses (EPERM to a
// caller without CAP_NET_ADMIN).
func LoopbackUp() error {
	// BEGIN SOLUTION
	lo, err := netlink.LinkByName("lo")
	if err != nil {
		return fmt.Errorf("find link lo: %w", err)
	}
	if err := netlink.LinkSetUp(lo); err != nil {
		return fmt.Errorf("set link lo up: %w", err)
	}
	return nil
	// END SOLUTION
}

// DeviceNames is step 02: read the text of /proc/net/dev from r and return
// the device names it lists, sorted. The file has two header lines, then
// one line per device: the name, a colon, and sixteen counters. A line
// without a name before a colon is an error that names its line number
// ("line 4", counting from 1 with the headers); an error of r is returned
// wrapped.
func DeviceNames(r io.Reader) ([]string, error) {
	// BEGIN SOLUTION
	var names []string
	sc := bufio.NewScanner(r)
	for line := 0; sc.Scan(); line++ {
		if line < 2 {
			continue // "Inter-|   Receive ..." and " face |bytes ..."
		}
		name, _, ok := strings.Cut(sc.Text(), ":")
		if !ok || strings.TrimSpace(name) == "" {
			return nil, fmt.Errorf("read /proc/net/dev: line %d has no device name: %q", line+1, sc.Text())
		}
		names = append(names, strings.TrimSpace(name))
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read /proc/net/dev: %w", err)
	}
	slices.Sort(names)
	return names, nil
	// END SOLUTION
}

// MountSysfs is step 02: mount a new sysfs instance on dir, read-only and
// with nosuid, nodev and noexec. Its class/net directory lists the devices
// of the network namespace of the process that mounts it. Return mount(2)'s
// error wrapped. Call it only in a new mount namespace, never on the host.
func MountSysfs(dir string) error {
	// BEGIN SOLUTION
	if err := unix.Mount("sysfs", dir, "sysfs", unix.MS_RDONLY|unix.MS_NOSUID|unix.MS_NODEV|unix.MS_NOEXEC, ""); err != nil {
		return fmt.Errorf("mount sysfs on %s: %w", dir, err)
	}
	return nil
	// END SOLUTION
}

// CreateVeth is step 03: create a veth pair in the caller's network
// namespace: link name, whose other end is called peer.
func CreateVeth(name, peer string) error {
	// BEGIN SOLUTION
	veth := &netlink.Veth{LinkAttrs: netlink.LinkAttrs{Name: name}, PeerName: peer}
	if err := netlink.LinkAdd(veth); err != nil {
		return fmt.Errorf("add veth pair %s/%s: %w", name, peer, err)
	}
	return nil
	// END SOLUTION
}

// MoveLink is step 03: move link name from the caller's network namespace
// into the network namespace of process pid.
func MoveLink(name string, pid int) error {
	// BEGIN SOLUTION
	link, err := netlink.LinkByName(name)
	if err != nil {
		return fmt.Errorf("find link %s: %w", name, err)
	}
	target, err := netns.GetFromPid(pid)
	if err != nil {
		return fmt.Errorf("open the network namespace of PID %d: %w", pid, err)
	}
	defer target.Close()
	if err := netlink.LinkSetNsFd(link, int(target)); err != nil {
		return fmt.Errorf("move link %s to the network namespace of PID %d: %w", name, pid, err)
	}
	return nil
	// END SOLUTION
}

// AddAddress is step 04: give link (in the caller's network namespace) the
// address addr, with its prefix length, and bring the link up.
func AddAddress(link string, addr netip.Prefix) error {
	// BEGIN SOLUTION
	l, err := netlink.LinkByName(link)
	if err != nil {
		return fmt.Errorf("find link %s: %w", link, err)
	}
	if err := netlink.AddrAdd(l, &netlink.Addr{IPNet: ipNet(addr)}); err != nil {
		return fmt.Errorf("add address %s to %s: %w", addr, link, err)
	}
	if err := netlink.LinkSetUp(l); err != nil {
		return fmt.Errorf("set link %s up: %w", link, err)
	}
	return nil
	// END SOLUTION
}

// AddRoute is step 04: route the destination dst out of link, with no
// gateway: dst is reached directly on that link (scope link), as
// `ip route add DST dev LINK` does.
func AddRoute(link string, dst netip.Prefix) error {
	// BEGIN SOLUTION
	l, err := netlink.LinkByName(link)
	if err != nil {
		return fmt.Errorf("find link %s: %w", link, err)
	}
	route := &netlink.Route{LinkIndex: l.Attrs().Index, Dst: ipNet(dst), Scope: netlink.SCOPE_LINK}
	if err := netlink.RouteAdd(route); err != nil {
		return fmt.Errorf("add route to %s via %s: %w", dst, link, err)
	}
	return nil
	// END SOLUTION
}

// LinksOf is step 05: list, sorted, the names of the links in the network
// namespace of process pid, without moving the caller there: through a
// netlink handle bound to that namespace (netns.GetFromPid,
// netlink.NewHandleAt). Close what you open: an open namespace handle keeps
// the namespace, and its links, alive.
func LinksOf(pid int) ([]string, error) {
	// BEGIN SOLUTION
	target, err := netns.GetFromPid(pid)
	if err != nil {
		return nil, fmt.Errorf("open the network namespace of PID %d: %w", pid, err)
	}
	defer target.Close()
	h, err := netlink.NewHandleAt(target)
	if err != nil {
		return nil, fmt.Errorf("netlink handle in the network namespace of PID %d: %w", pid, err)
	}
	defer h.Close()
	links, err := h.LinkList()
	if err != nil {
		return nil, fmt.Errorf("list the links of the network namespace of PID %d: %w", pid, err)
	}
	names := make([]string, len(links))
	for i, l := range links {
		names[i] = l.Attrs().Name
	}
	slices.Sort(names)
	return names, nil
	// END SOLUTION
}

// ipNet converts a prefix to the net.IPNet netlink wants, keeping the
// address's own bits (198.51.100.1/32, not the network 198.51.100.0/24).
func ipNet(p netip.Prefix) *net.IPNet {
	return &net.IPNet{IP: p.Addr().AsSlice(), Mask: net.CIDRMask(p.Bits(), p.Addr().BitLen())}
}
