package host

import (
	"errors"
	"fmt"
	"net"
	"slices"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// dumpTries is how often a netlink dump interrupted by a concurrent change is tried.
const dumpTries = 5

// retry runs a netlink dump again while the kernel says it was interrupted.
func retry[T any](what string, dump func() ([]T, error)) ([]T, error) {
	var err error
	for range dumpTries {
		var out []T
		if out, err = dump(); !errors.Is(err, netlink.ErrDumpInterrupted) {
			if err != nil {
				return nil, fmt.Errorf("list %s (netlink): %w", what, err)
			}
			return out, nil
		}
	}
	return nil, fmt.Errorf("list %s (netlink): %w %d times", what, err, dumpTries)
}

// readLinks lists the links of the calling thread's network namespace.
func readLinks() ([]Link, error) {
	links, err := retry("network links", netlink.LinkList)
	if err != nil {
		return nil, err
	}
	addrs, err := retry("addresses", func() ([]netlink.Addr, error) { return netlink.AddrList(nil, netlink.FAMILY_ALL) })
	if err != nil {
		return nil, err
	}
	byIndex := map[int]string{}
	for _, l := range links {
		byIndex[l.Attrs().Index] = l.Attrs().Name
	}
	var out []Link
	for _, l := range links {
		a := l.Attrs()
		state, flags := LinkFlags(a.RawFlags)
		out = append(out, Link{Index: a.Index, Name: a.Name, Type: l.Type(), State: state, MTU: a.MTU,
			Flags: flags, Master: byIndex[a.MasterIndex], Addrs: addrsOf(a.Index, addrs)})
	}
	slices.SortFunc(out, func(x, y Link) int { return x.Index - y.Index })
	return out, nil
}

// addrsOf returns the addresses of link index, leaving out IPv6 temporary
// (privacy) addresses, which the kernel renews by itself.
func addrsOf(index int, addrs []netlink.Addr) []string {
	var out []string
	for _, a := range addrs {
		if a.LinkIndex != index || a.IPNet == nil || a.Flags&unix.IFA_F_TEMPORARY != 0 {
			continue
		}
		s := a.IPNet.String()
		if a.Peer != nil && !a.Peer.IP.Equal(a.IP) {
			s += " peer " + a.Peer.String()
		}
		out = append(out, s)
	}
	slices.Sort(out)
	return out
}

// readRoutes lists the routes of every table of the calling thread's network namespace.
func readRoutes(links []Link) ([]string, error) {
	dev := map[int]string{}
	for _, l := range links {
		dev[l.Index] = l.Name
	}
	var out []string
	for _, family := range []int{netlink.FAMILY_V4, netlink.FAMILY_V6} {
		rs, err := retry("routes", func() ([]netlink.Route, error) {
			return netlink.RouteListFiltered(family, &netlink.Route{Table: unix.RT_TABLE_UNSPEC}, netlink.RT_FILTER_TABLE)
		})
		if err != nil {
			return nil, err
		}
		for _, r := range rs {
			out = append(out, toRoute(r, family == netlink.FAMILY_V6, dev).String())
		}
	}
	slices.Sort(out)
	return out, nil
}

func toRoute(r netlink.Route, v6 bool, dev map[int]string) Route {
	out := Route{IPv6: v6, Type: name(typeNames, r.Type), Dev: dev[r.LinkIndex], Table: name(tableNames, r.Table),
		Proto: name(protoNames, int(r.Protocol)), Scope: name(scopeNames, int(r.Scope)), Metric: r.Priority}
	if r.Dst != nil && !isDefault(r.Dst) {
		out.Dst = r.Dst.String()
	}
	if r.Gw != nil {
		out.Via = r.Gw.String()
	}
	if r.Src != nil {
		out.Src = r.Src.String()
	}
	for _, nh := range r.MultiPath {
		out.Nexthops = append(out.Nexthops, fmt.Sprintf("nexthop via %s dev %s", nh.Gw, dev[nh.LinkIndex]))
	}
	return out
}

func isDefault(n *net.IPNet) bool {
	ones, _ := n.Mask.Size()
	return ones == 0 && n.IP.IsUnspecified()
}
