//go:build linux

package container

import (
	"fmt"
	"net/netip"
	"os"
	"slices"

	"github.com/nslab/nslab/pkg/lab"
	"github.com/nslab/nslab/pkg/ns"
	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// Step 07 calls Connect more than once: with fewer file descriptors than
// it needs (one more at each call, until it has enough), and where the
// kernel refuses a piece of the veth pair. This file holds those calls
// (run half) and their checks.

// connectProbe is one such call.
type connectProbe struct {
	refusal
	Files    int  // the descriptors Connect could open (-1: no limit)
	Complete bool // the pair is there: both ends up with their addresses, the route
}

// connectProbes is what those calls did.
type connectProbes struct {
	Ladder  []connectProbe // with 0, 1, 2… more descriptors, until Connect returned nil
	Refused []connectProbe
}

// maxRungs bounds the descriptors the ladder gives Connect.
const maxRungs = 40

// withFiles runs fn while the soft RLIMIT_NOFILE lets the process open n
// more files (its n lowest free descriptors), and no other.
func withFiles(n int, fn func() error) error {
	if f, err := os.Open("/dev/null"); err == nil { // the poller's descriptors, now
		f.Close()
	}
	var old unix.Rlimit
	if err := unix.Getrlimit(unix.RLIMIT_NOFILE, &old); err != nil {
		return err
	}
	lim := old
	for fd, free := 0, 0; ; fd++ {
		if _, err := unix.FcntlInt(uintptr(fd), unix.F_GETFD, 0); err == unix.EBADF {
			if free++; free == n+1 {
				lim.Cur = uint64(fd)
				break
			}
		}
	}
	if err := unix.Setrlimit(unix.RLIMIT_NOFILE, &lim); err != nil {
		return err
	}
	defer unix.Setrlimit(unix.RLIMIT_NOFILE, &old)
	return fn()
}

// complete says whether the veth pair of l is all there, read on threads
// that visit each namespace.
func complete(l Link) bool {
	b, err := viewNetOf(l.Bastion)
	if err != nil {
		return false
	}
	c, err := viewNetOf(l.Container)
	if err != nil {
		return false
	}
	bl, ok1 := b.link(l.Name)
	cl, ok2 := c.link(l.Peer)
	route := "default via " + l.BastionAddr.Addr().String() + " dev " + l.Peer
	return ok1 && ok2 && bl.Up && cl.Up && slices.Contains(bl.Addrs, l.BastionAddr.String()) &&
		slices.Contains(cl.Addrs, l.ContainerAddr.String()) && slices.Contains(c.Routes, route)
}

// pair starts a bastion and a container (its holder checks that it is not
// in the UTS namespace parentUTS, when given), left to cleanup, and the
// Link for Connect between them.
func pair(cleanup *lab.Cleanup, parentUTS string) (Link, error) {
	bastion, err := startBastion()
	if err != nil {
		return Link{}, err
	}
	cleanup.Add(bastion.stop)
	ctr, err := startIsolated(entryHold, "", parentUTS)
	if err != nil {
		return Link{}, err
	}
	cleanup.Add(ctr.stop)
	var me inside
	if err := ctr.read(&me); err != nil {
		return Link{}, err
	}
	l := Link{Bastion: bastion.PID(), Container: ctr.PID(), BastionAddr: bastionAddr, ContainerAddr: containerAddr}
	l.Name, l.Peer = linkNames()
	return l, nil
}

// ladder calls Connect with 0, 1, 2… more file descriptors, each time on
// new link names, until it returns nil.
func ladder(cleanup *lab.Cleanup) ([]connectProbe, error) {
	l, err := pair(cleanup, "")
	if err != nil {
		return nil, err
	}
	var out []connectProbe
	for n := 0; n < maxRungs; n++ {
		l.Name, l.Peer = linkNames()
		var cerr error
		if err := withFiles(n, func() error { cerr = Connect(l); return nil }); err != nil {
			return out, err
		}
		p := connectProbe{Files: n, Complete: complete(l)}
		p.refusal = refused(fmt.Sprintf("Connect(%s/%s) while the process could open %d more files", l.Name, l.Peer, n), "EMFILE", "", cerr)
		out = append(out, p)
		if cerr == nil {
			break
		}
	}
	return out, nil
}

// disableIPv6 turns IPv6 off for the links to come in the network
// namespace of process pid: the kernel then refuses IPv6 addresses (EACCES).
func disableIPv6(pid int) error {
	return ns.Do(pid, []ns.Kind{ns.Net}, func() error {
		return os.WriteFile("/proc/sys/net/ipv6/conf/default/disable_ipv6", []byte("1"), 0)
	})
}

// IPv6 addresses of the documentation range (RFC 3849).
var (
	bastionAddr6   = netip.MustParsePrefix("2001:db8::1/64")
	containerAddr6 = netip.MustParsePrefix("2001:db8::2/64")
)

// refusal probes: what each changes of a new pair before Connect, the
// errno the kernel gives, and what the error must name.
var connectRefusals = []struct {
	what, want string
	prepare    func(l *Link) (name string, err error)
}{
	{"Connect with Name \"lo\", a link the bastion has already", "EEXIST", func(l *Link) (string, error) {
		l.Name = "lo"
		return "lo", nil
	}},
	{"Connect where the container has a link named like Peer already", "EEXIST", func(l *Link) (string, error) {
		return l.Peer, ns.Do(l.Container, []ns.Kind{ns.Net}, func() error {
			return netlink.LinkAdd(&netlink.Veth{LinkAttrs: netlink.LinkAttrs{Name: l.Peer}, PeerName: l.Peer + "x"})
		})
	}},
	{"Connect with IPv6 addresses, where the bastion has IPv6 off", "EACCES", func(l *Link) (string, error) {
		l.BastionAddr, l.ContainerAddr = bastionAddr6, containerAddr6
		return l.Name, disableIPv6(l.Bastion)
	}},
	{"Connect with IPv6 addresses, where the container has IPv6 off", "EACCES", func(l *Link) (string, error) {
		l.BastionAddr, l.ContainerAddr = bastionAddr6, containerAddr6
		return l.Peer, disableIPv6(l.Container)
	}},
	{"Connect with addresses in two networks (the gateway 198.51.100.1 is not on the container's link)", "ENETUNREACH", func(l *Link) (string, error) {
		l.ContainerAddr = netip.MustParsePrefix("203.0.113.2/24")
		return l.BastionAddr.Addr().String(), nil
	}},
}

// probeConnect makes the calls of Connect besides the step's own.
func probeConnect(cleanup *lab.Cleanup) (p connectProbes, err error) {
	if p.Ladder, err = ladder(cleanup); err != nil {
		return p, err
	}
	_, noIPv6 := os.Stat("/proc/sys/net/ipv6")
	for _, r := range connectRefusals {
		if noIPv6 != nil && r.want == "EACCES" {
			continue // a kernel without IPv6: no address of it to refuse
		}
		l, err := pair(cleanup, "")
		if err != nil {
			return p, err
		}
		name, err := r.prepare(&l)
		if err != nil {
			return p, fmt.Errorf("prepare %q: %w", r.what, err)
		}
		cerr := Connect(l)
		p.Refused = append(p.Refused, connectProbe{refusal: refused(r.what, r.want, name, cerr), Files: -1})
	}
	return p, nil
}

// checkConnectProbes checks the calls of Connect besides the step's own.
func checkConnectProbes(c *lab.Check, p connectProbes) error {
	for _, r := range p.Ladder {
		if r.Errno == "ok" && !r.Complete {
			return c.Failf("%s returned nil, and the veth pair is not all there: return the error of each call that fails (opening a namespace, a netlink handle)", r.What)
		}
	}
	if n := len(p.Ladder); n == 0 || p.Ladder[n-1].Errno != "ok" {
		return c.Failf("Connect never returned nil with up to %d more files to open", maxRungs)
	}
	c.Check(true, "with fewer files than it needs, Connect returned its error (%d calls, %d files enough)", len(p.Ladder), p.Ladder[len(p.Ladder)-1].Files)
	return checkEach(c, refusalsOf(p.Refused))
}

func refusalsOf(ps []connectProbe) []refusal {
	var out []refusal
	for _, p := range ps {
		out = append(out, p.refusal)
	}
	return out
}
