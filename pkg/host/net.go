package host

import (
	"fmt"
	"strconv"
	"strings"
)

// Route is one route of a routing table, in the words of ip-route(8).
type Route struct {
	IPv6     bool
	Type     string // unicast, local, broadcast, multicast, unreachable, prohibit, blackhole, throw, …
	Dst      string // a prefix, or "" for the default route
	Via      string // the gateway, or ""
	Dev      string // the output link, or ""
	Table    string // main, local, default or a number
	Proto    string // kernel, boot, static, ra, dhcp, … or a number
	Scope    string // global, link, host, …
	Src      string // the preferred source address, or ""
	Metric   int
	Nexthops []string // "nexthop via 10.0.0.1 dev eth0" of a multipath route
}

// routeTypes are the words ip-route(8) puts before the destination.
var routeTypes = map[string]bool{
	"local": true, "broadcast": true, "multicast": true, "unreachable": true, "prohibit": true,
	"blackhole": true, "throw": true, "nat": true, "anycast": true,
}

// String writes the route as arguments of ip route add/del:
// "198.51.100.0/24 dev veth0 table main proto kernel scope link src 198.51.100.1".
// The IPv6 default route is written ::/0, so that the line alone tells the family.
func (r Route) String() string {
	var w []string
	if routeTypes[r.Type] {
		w = append(w, r.Type)
	}
	dst := r.Dst
	switch {
	case dst == "" && r.IPv6:
		dst = "::/0"
	case dst == "":
		dst = "default"
	}
	w = append(w, dst)
	for _, kv := range [][2]string{{"via", r.Via}, {"dev", r.Dev}, {"table", r.Table}, {"proto", r.Proto}} {
		if kv[1] != "" {
			w = append(w, kv[0], kv[1])
		}
	}
	if r.Scope != "" && r.Scope != "global" {
		w = append(w, "scope", r.Scope)
	}
	if r.Src != "" {
		w = append(w, "src", r.Src)
	}
	if r.Metric != 0 {
		w = append(w, "metric", strconv.Itoa(r.Metric))
	}
	w = append(w, r.Nexthops...)
	return strings.Join(w, " ")
}

// Names of the numbers of rtnetlink(7), as /etc/iproute2 gives them.
var (
	tableNames = map[int]string{253: "default", 254: "main", 255: "local"}
	protoNames = map[int]string{0: "unspec", 1: "redirect", 2: "kernel", 3: "boot", 4: "static", 8: "gated", 9: "ra", 10: "mrt", 11: "zebra", 12: "bird", 13: "dnrouted", 14: "xorp", 15: "ntk", 16: "dhcp", 18: "keepalived", 42: "babel", 186: "bgp", 187: "isis", 188: "ospf", 189: "rip", 192: "eigrp"}
	scopeNames = map[int]string{0: "global", 200: "site", 253: "link", 254: "host", 255: "nowhere"}
	typeNames  = map[int]string{1: "unicast", 2: "local", 3: "broadcast", 4: "anycast", 5: "multicast", 6: "blackhole", 7: "unreachable", 8: "prohibit", 9: "throw", 10: "nat"}
)

// name returns the name of n in names, or n in decimal.
func name(names map[int]string, n int) string {
	if s, ok := names[n]; ok {
		return s
	}
	return strconv.Itoa(n)
}

// linkFlagNames are the flags of netdevice(7) that a user sets; the ones the
// kernel sets by itself as the carrier comes and goes (RUNNING, LOWER_UP,
// DORMANT) are left out, and UP is the State.
var linkFlagNames = []struct {
	bit  uint32
	name string
}{
	{0x2, "BROADCAST"}, {0x4, "DEBUG"}, {0x8, "LOOPBACK"}, {0x10, "POINTOPOINT"}, {0x20, "NOTRAILERS"},
	{0x80, "NOARP"}, {0x100, "PROMISC"}, {0x200, "ALLMULTI"}, {0x400, "MASTER"}, {0x800, "SLAVE"},
	{0x1000, "MULTICAST"}, {0x2000, "PORTSEL"}, {0x4000, "AUTOMEDIA"}, {0x8000, "DYNAMIC"},
}

// LinkFlags returns the state (UP or DOWN) and the user-set flags of the
// raw flags of a link (ifi_flags).
func LinkFlags(raw uint32) (state, flags string) {
	state = "DOWN"
	if raw&0x1 != 0 {
		state = "UP"
	}
	var names []string
	for _, f := range linkFlagNames {
		if raw&f.bit != 0 {
			names = append(names, f.name)
		}
	}
	return state, strings.Join(names, ",")
}

func (l Link) summary() string {
	s := fmt.Sprintf("%s (index %d, %s, %s, mtu %d", l.Name, l.Index, l.Type, l.State, l.MTU)
	if l.Master != "" {
		s += ", master " + l.Master
	}
	return s + ")"
}

func diffLinks(before, after []Link) []change {
	return diffByKey(linksByName(before), linksByName(after), keyedDiff[Link]{
		added: func(k string, l Link) change { return change{"link added: " + l.summary(), "ip link delete " + k} },
		kept: func(k string, old, now Link) []change {
			if old.Index != now.Index || old.Type != now.Type {
				return []change{{fmt.Sprintf("link %s replaced: index %d %s -> index %d %s", k, old.Index, old.Type, now.Index, now.Type),
					fmt.Sprintf("ip link delete %s, then make it again: ip link add %s type %s", k, k, old.Type)}}
			}
			return diffLink(old, now)
		},
		removed: func(k string, l Link) change {
			return change{"link removed: " + l.summary(), fmt.Sprintf("ip link add %s type %s", k, l.Type)}
		},
	})
}

func linksByName(ls []Link) map[string]Link {
	m := make(map[string]Link, len(ls))
	for _, l := range ls {
		m[l.Name] = l
	}
	return m
}

// diffLink compares two states of the same link.
func diffLink(b, a Link) []change {
	var out []change
	attr := func(what, old, now, hint string) {
		if old != now {
			out = append(out, change{fmt.Sprintf("link %s: %s %s -> %s", b.Name, what, or(old, "none"), or(now, "none")), hint})
		}
	}
	attr("state", b.State, a.State, fmt.Sprintf("ip link set %s %s", b.Name, strings.ToLower(b.State)))
	attr("mtu", strconv.Itoa(b.MTU), strconv.Itoa(a.MTU), fmt.Sprintf("ip link set %s mtu %d", b.Name, b.MTU))
	attr("flags", b.Flags, a.Flags, fmt.Sprintf("ip link set %s with the flags %s (ip link set %s promisc|multicast|arp|allmulticast on|off)", b.Name, or(b.Flags, "none"), b.Name))
	masterHint := fmt.Sprintf("ip link set %s nomaster", b.Name)
	if b.Master != "" {
		masterHint = fmt.Sprintf("ip link set %s master %s", b.Name, b.Master)
	}
	attr("master", b.Master, a.Master, masterHint)
	for _, c := range diffSet("address", b.Addrs, a.Addrs, func(addr string, added bool) string {
		if added {
			return fmt.Sprintf("ip address del %s dev %s", addr, b.Name)
		}
		return fmt.Sprintf("ip address add %s dev %s", addr, b.Name)
	}) {
		out = append(out, change{fmt.Sprintf("link %s: %s", b.Name, c.what), c.hint})
	}
	return out
}

func or(s, dflt string) string {
	if s == "" {
		return dflt
	}
	return s
}
