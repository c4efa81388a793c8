//go:build linux

package network

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"

	"github.com/nslab/nslab/pkg/lab"
	"github.com/nslab/nslab/pkg/ns"
	"golang.org/x/sys/unix"
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
			Run: runLoopback,
		},
		{
			ID: "02", Slug: "own_devices", Title: "/proc/net/dev and sysfs list the namespace's own devices", Points: 20,
			Explain: "/proc/net/dev shows the devices of the reader's network namespace; a sysfs instance shows those of the namespace that mounted it.",
			Hints: []string{
				"/proc/net/dev: two header lines, then \"  NAME: counters...\" per device.",
				"strings.Cut(line, \":\") splits the name from the counters; trim the spaces and sort the names.",
				"unix.Mount(\"sysfs\", dir, \"sysfs\", unix.MS_RDONLY|unix.MS_NOSUID|unix.MS_NODEV|unix.MS_NOEXEC, \"\")",
			},
			Run: runOwnDevices,
		},
		{
			ID: "03", Slug: "veth", Title: "A veth pair between the bastion and the container", Points: 20,
			Explain: "A veth pair is made in one network namespace; one end is then moved into another, and leaves the first.",
			Hints: []string{
				"netlink.LinkAdd with a *netlink.Veth makes both ends; PeerName names the other one.",
				"netns.GetFromPid(pid) opens /proc/PID/ns/net; netlink.LinkSetNsFd(link, int(handle)) moves the link there.",
				"Close the namespace handle (defer target.Close()) once the link is moved.",
			},
			Run: runVeth,
		},
		{
			ID: "04", Slug: "traffic", Title: "Addresses and routes: TCP both ways", Points: 25,
			Explain: "Each end of the pair gets an address and a route to the other end's; then TCP connects in both directions.",
			Hints: []string{
				"netlink.AddrAdd(link, &netlink.Addr{IPNet: ...}) adds an address; the helper ipNet converts a netip.Prefix.",
				"A link must be up to carry packets: netlink.LinkSetUp after the address.",
				"netlink.RouteAdd(&netlink.Route{LinkIndex: l.Attrs().Index, Dst: ipNet(dst), Scope: netlink.SCOPE_LINK})",
			},
			Run: runTraffic,
		},
		{
			ID: "05", Slug: "moved_and_gone", Title: "A moved link leaves; a veth ends with its namespace", Points: 20,
			Explain: "A link is in one network namespace at a time; when the container's namespace ends, its veth end is destroyed, and the peer with it.",
			Hints: []string{
				"netns.GetFromPid(pid) gives a handle on another process's network namespace; netlink.NewHandleAt(handle) a netlink socket in it.",
				"The handle's LinkList lists the links there; the caller's own thread does not move.",
				"Close both: an open namespace handle keeps the namespace, and its links, alive after its last process.",
			},
			Run: runMovedAndGone,
		},
	},
}

func init() { lab.Register(Lab) }

func runLoopback(ctx context.Context, n *lab.Narrator) error {
	h, err := StartHolder(ctx, false, ns.Net)
	if err != nil {
		return err
	}
	defer h.Stop()
	if err := n.NewKindsOnly(h.PID(), "holder", ns.Net); err != nil {
		return err
	}
	ls, err := h.Do("links")
	if err != nil {
		return err
	}
	st, err := h.Do("state lo")
	if err != nil {
		return err
	}
	n.Say("in the new namespace: links %v, lo is %s", ls, st[0])
	if !slices.Equal(ls, []string{"lo"}) || st[0] != "down" {
		return n.Failf("a new network namespace should hold lo alone, down; got %v, lo %s", ls, st[0])
	}
	_, err = h.Do("tcpself")
	n.Say("TCP to 127.0.0.1 with lo down: %v", err)
	if err == nil {
		return n.Failf("TCP on 127.0.0.1 worked with lo down")
	}
	if _, err := h.Do("loup"); err != nil {
		return n.Failf("LoopbackUp() in the new namespace: %v; want lo up", err)
	}
	if st, err = h.Do("state lo"); err != nil || st[0] != "up" {
		return n.Failf("after LoopbackUp(), lo is %v (%v); want up (IFF_UP)", st, err)
	}
	got, err := h.Do("tcpself")
	if err != nil {
		return n.Failf("after LoopbackUp(), TCP from 127.0.0.1 to 127.0.0.1 in the namespace: %v; want a connection", err)
	}
	own, err := ns.Get(h.PID(), ns.Net)
	if err != nil {
		return err
	}
	n.Say("after LoopbackUp(): the server on 127.0.0.1 answered from %v", got)
	return n.Expect(len(got) == 2 && got[0] == own.String(), "lo is up and TCP on 127.0.0.1 stays inside %s", own)
}

func runOwnDevices(ctx context.Context, n *lab.Narrator) error {
	a, err := StartHolder(ctx, false, ns.Net, ns.Mnt)
	if err != nil {
		return err
	}
	defer a.Stop()
	b, err := StartHolder(ctx, false, ns.Net, ns.Mnt)
	if err != nil {
		return err
	}
	defer b.Stop()
	x, y := LinkNames()
	if _, err := a.Do("labveth %s %s", x, y); err != nil {
		return err
	}
	wantA := sorted("lo", x, y)
	n.Say("in A (PID %d) the lab made a veth pair %s/%s; B (PID %d) has lo only", a.PID(), x, y, b.PID())
	devA, err := a.Do("netdev")
	if err != nil {
		return n.Failf("DeviceNames(/proc/net/dev) in A: %v", err)
	}
	devB, err := b.Do("netdev")
	if err != nil {
		return n.Failf("DeviceNames(/proc/net/dev) in B: %v", err)
	}
	n.Say("/proc/net/dev read in A: %v; in B: %v", devA, devB)
	if !slices.Equal(devA, wantA) || !slices.Equal(devB, []string{"lo"}) {
		return n.Failf("/proc/net/dev should list %v in A and [lo] in B", wantA)
	}
	n.Check(true, "/proc/net/dev shows the reader's own namespace")
	return sysfsViews(n, a, b, wantA)
}

// sysfsViews mounts sysfs in A and in B on the same directory (each in its
// own mount namespace) and compares their class/net.
func sysfsViews(n *lab.Narrator, a, b *Holder, wantA []string) error {
	dir, err := os.MkdirTemp("", "nslab-sysfs-")
	if err != nil {
		return fmt.Errorf("make a mount point: %w", err)
	}
	defer os.Remove(dir)
	for _, h := range []*Holder{a, b} {
		if _, err := h.Do("mountsys %s", dir); err != nil {
			return n.Failf("MountSysfs(%s) in PID %d: %v", dir, h.PID(), err)
		}
	}
	lsA, err1 := a.Do("ls %s", filepath.Join(dir, "class/net"))
	lsB, err2 := b.Do("ls %s", filepath.Join(dir, "class/net"))
	if err := errors.Join(err1, err2); err != nil {
		return n.Failf("list class/net of the new sysfs mounts: %v", err)
	}
	n.Say("sysfs mounted on %s: class/net in A lists %v, in B %v", dir, lsA, lsB)
	if !slices.Equal(lsA, wantA) || !slices.Equal(lsB, []string{"lo"}) {
		return n.Failf("a fresh sysfs should list %v in A and [lo] in B", wantA)
	}
	entries, _ := os.ReadDir(dir)
	return n.Expect(len(entries) == 0, "each sysfs shows its mounter's namespace; the host sees %s empty", dir)
}

func sorted(names ...string) []string {
	slices.Sort(names)
	return names
}

// startPair starts the bastion and the container and shows their namespaces.
func startPair(ctx context.Context, n *lab.Narrator) (*Pair, error) {
	p, err := StartPair(ctx)
	if err != nil {
		return nil, err
	}
	host, err1 := ns.Of(ns.Self)
	bs, err2 := ns.Of(p.BastionPID())
	cs, err3 := ns.Of(p.ContainerPID)
	if err := errors.Join(err1, err2, err3); err != nil {
		p.Stop()
		return nil, err
	}
	n.Table(lab.Column{Title: "host (self)", Set: host},
		lab.Column{Title: fmt.Sprintf("bastion (PID %d)", p.BastionPID()), Set: bs},
		lab.Column{Title: fmt.Sprintf("container (PID %d)", p.ContainerPID), Set: cs})
	return p, nil
}

// startPairWithVeth starts the pair and has the lab (not the learner) make
// the veth pair in the bastion, for the steps that build on step 03.
func startPairWithVeth(ctx context.Context, n *lab.Narrator) (*Pair, error) {
	p, err := startPair(ctx, n)
	if err != nil {
		return nil, err
	}
	if _, err := p.Bastion.Do("labveth %s %s", p.BastionLink, p.ContainerLink); err != nil {
		p.Stop()
		return nil, err
	}
	return p, nil
}

func runVeth(ctx context.Context, n *lab.Narrator) error {
	p, err := startPair(ctx, n)
	if err != nil {
		return err
	}
	defer p.Stop()
	bl, cl := p.BastionLink, p.ContainerLink
	if _, err := p.Bastion.Do("veth %s %s", bl, cl); err != nil {
		return n.Failf("CreateVeth(%s, %s) in the bastion: %v", bl, cl, err)
	}
	ls, err := p.Bastion.Do("links")
	if err != nil {
		return err
	}
	kind, _ := p.Bastion.Do("kind %s", bl)
	n.Say("CreateVeth(%s, %s): the bastion's links are %v (%s is a %v)", bl, cl, ls, bl, kind)
	if !slices.Equal(ls, sorted("lo", bl, cl)) || !slices.Equal(kind, []string{"veth"}) {
		return n.Failf("after CreateVeth the bastion should hold lo and the veth pair %s/%s", bl, cl)
	}
	if _, err := p.Bastion.Do("move %s %d", cl, p.ContainerPID); err != nil {
		return n.Failf("MoveLink(%s, %d) in the bastion: %v", cl, p.ContainerPID, err)
	}
	lb, err1 := p.Bastion.Do("links")
	lc, err2 := p.Container("links")
	if err := errors.Join(err1, err2); err != nil {
		return err
	}
	n.Say("MoveLink(%s, %d): the bastion's links are %v, the container's %v", cl, p.ContainerPID, lb, lc)
	if !slices.Equal(lb, sorted("lo", bl)) || !slices.Equal(lc, sorted("lo", cl)) {
		return n.Failf("after MoveLink the bastion should hold [lo %s] and the container [lo %s]", bl, cl)
	}
	n.Check(true, "one end in each namespace: %s left the bastion when it moved", cl)
	return nil
}

func runTraffic(ctx context.Context, n *lab.Narrator) error {
	p, err := startPairWithVeth(ctx, n)
	if err != nil {
		return err
	}
	defer p.Stop()
	bl, cl := p.BastionLink, p.ContainerLink
	if _, err := p.Bastion.Do("labmove %s %d", cl, p.ContainerPID); err != nil {
		return err
	}
	n.Say("the lab made the veth pair: %s in the bastion, %s in the container", bl, cl)
	if err := addresses(n, p); err != nil {
		return err
	}
	if err := noRouteYet(n, p); err != nil {
		return err
	}
	if err := addRoutes(n, p); err != nil {
		return err
	}
	return bothWays(n, p)
}

// addresses gives each end its address with AddAddress and checks them.
func addresses(n *lab.Narrator, p *Pair) error {
	if _, err := p.Bastion.Do("addr %s %s", p.BastionLink, BastionAddr); err != nil {
		return n.Failf("AddAddress(%s, %s) in the bastion: %v", p.BastionLink, BastionAddr, err)
	}
	if _, err := p.Container("addr %s %s", p.ContainerLink, ContainerAddr); err != nil {
		return n.Failf("AddAddress(%s, %s) in the container: %v", p.ContainerLink, ContainerAddr, err)
	}
	ab, err1 := p.Bastion.Do("addrs")
	ac, err2 := p.Container("addrs")
	sb, err3 := p.Bastion.Do("state %s", p.BastionLink)
	sc, err4 := p.Container("state %s", p.ContainerLink)
	if err := errors.Join(err1, err2, err3, err4); err != nil {
		return err
	}
	n.Say("addresses: bastion %v (%s %s), container %v (%s %s)", ab, p.BastionLink, sb[0], ac, p.ContainerLink, sc[0])
	wb, wc := p.BastionLink+"="+BastionAddr.String(), p.ContainerLink+"="+ContainerAddr.String()
	if !slices.Equal(ab, []string{wb}) || !slices.Equal(ac, []string{wc}) || sb[0] != "up" || sc[0] != "up" {
		return n.Failf("want %s in the bastion and %s in the container, both links up", wb, wc)
	}
	return nil
}

// noRouteYet shows that /32 addresses alone reach nothing: the connection
// fails before any packet leaves, so no server is needed on the port.
func noRouteYet(n *lab.Narrator, p *Pair) error {
	const port = 9 // discard; nothing listens, and nothing is sent
	_, err := p.Container("dial %s %d", BastionAddr.Addr(), port)
	n.Say("the container connects to %s before any route: %v", BastionAddr.Addr(), err)
	if !errors.Is(err, unix.ENETUNREACH) {
		return n.Failf("with only /32 addresses the container should have no route to %s (ENETUNREACH); got %v", BastionAddr.Addr(), err)
	}
	return nil
}

// addRoutes routes each side's address out of its end with AddRoute.
func addRoutes(n *lab.Narrator, p *Pair) error {
	if _, err := p.Bastion.Do("route %s %s", p.BastionLink, ContainerAddr); err != nil {
		return n.Failf("AddRoute(%s, %s) in the bastion: %v", p.BastionLink, ContainerAddr, err)
	}
	if _, err := p.Container("route %s %s", p.ContainerLink, BastionAddr); err != nil {
		return n.Failf("AddRoute(%s, %s) in the container: %v", p.ContainerLink, BastionAddr, err)
	}
	rb, err1 := p.Bastion.Do("routes")
	rc, err2 := p.Container("routes")
	if err := errors.Join(err1, err2); err != nil {
		return err
	}
	n.Say("/proc/net/route: bastion %v, container %v", rb, rc)
	wb, wc := ContainerAddr.String()+"@"+p.BastionLink, BastionAddr.String()+"@"+p.ContainerLink
	if !slices.Contains(rb, wb) || !slices.Contains(rc, wc) {
		return n.Failf("want a route %s in the bastion and %s in the container", wb, wc)
	}
	return nil
}

// bothWays connects over TCP from the container to the bastion and back.
func bothWays(n *lab.Narrator, p *Pair) error {
	for _, toContainer := range []bool{false, true} {
		server, serverPID, client := "bastion", p.BastionPID(), ContainerAddr.Addr()
		if toContainer {
			server, serverPID, client = "container", p.ContainerPID, BastionAddr.Addr()
		}
		want, err := ns.Get(serverPID, ns.Net)
		if err != nil {
			return err
		}
		netns, from, err := p.TCP(toContainer)
		if err != nil {
			return n.Failf("TCP to the %s: %v", server, err)
		}
		n.Say("TCP to the %s: it answered from %s and saw the client at %s", server, netns, from)
		if netns != want.String() || from != client.String() {
			return n.Failf("the %s should answer from %s and see %s; got %s and %s", server, want, client, netns, from)
		}
	}
	n.Check(true, "TCP flows both ways over the veth pair")
	return nil
}

func runMovedAndGone(ctx context.Context, n *lab.Narrator) error {
	p, err := startPairWithVeth(ctx, n)
	if err != nil {
		return err
	}
	defer p.Stop()
	bl, cl := p.BastionLink, p.ContainerLink
	if err := linksOf(n, p, p.BastionPID(), "bastion", sorted("lo", bl, cl)); err != nil {
		return err
	}
	if _, err := p.Bastion.Do("labmove %s %d", cl, p.ContainerPID); err != nil {
		return err
	}
	n.Say("the lab moved %s into the container", cl)
	if err := linksOf(n, p, p.BastionPID(), "bastion", sorted("lo", bl)); err != nil {
		return err
	}
	if err := linksOf(n, p, p.ContainerPID, "container", sorted("lo", cl)); err != nil {
		return err
	}
	return destroyed(n, p)
}

// linksOf checks LinksOf(pid), run in the bastion, against want.
func linksOf(n *lab.Narrator, p *Pair, pid int, who string, want []string) error {
	got, err := p.Bastion.Do("linksof %d", pid)
	if err != nil {
		return n.Failf("LinksOf(%d) (the %s) in the bastion: %v", pid, who, err)
	}
	n.Say("LinksOf(%d), the %s: %v", pid, who, got)
	if !slices.Equal(got, want) {
		return n.Failf("LinksOf(%d) should list the %s's links %v; got %v", pid, who, want, got)
	}
	return nil
}

// destroyed ends the container and waits for the bastion's end to go.
func destroyed(n *lab.Narrator, p *Pair) error {
	old, err := ns.Get(p.ContainerPID, ns.Net)
	if err != nil {
		return err
	}
	if _, err := p.Bastion.Do("ctstop"); err != nil {
		return err
	}
	n.Say("the container, the last process of %s, exited", old)
	if _, err := p.Bastion.Do("waitgone %s", p.BastionLink); err != nil {
		return n.Failf("%s should vanish from the bastion with its peer's namespace: %v (does something, such as an unclosed namespace handle, keep %s alive?)", p.BastionLink, err, old)
	}
	if err := linksOf(n, p, p.BastionPID(), "bastion", []string{"lo"}); err != nil {
		return err
	}
	n.Check(true, "the veth pair ended with the container's namespace")
	return nil
}
