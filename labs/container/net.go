//go:build linux

package container

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"slices"
	"syscall"
	"time"

	"github.com/nslab/nslab/pkg/ns"
	"github.com/vishvananda/netlink"
)

// Link is the veth pair between the bastion's network namespace and a
// container's, as Connect (step 07) makes it.
type Link struct {
	Bastion, Container         int          // PIDs (the caller's view) of a process in each namespace
	Name, Peer                 string       // the bastion's end, and the end that goes to the container
	BastionAddr, ContainerAddr netip.Prefix // 198.51.100.1/24 and 198.51.100.2/24
}

// The addresses of the bastion and the container: TEST-NET-2 (RFC 5737),
// which no real network routes.
var (
	bastionAddr   = netip.MustParsePrefix("198.51.100.1/24")
	containerAddr = netip.MustParsePrefix("198.51.100.2/24")
)

// prefixNet turns 198.51.100.2/24 into a *net.IPNet of that address and mask.
func prefixNet(p netip.Prefix) *net.IPNet {
	return &net.IPNet{IP: net.IP(p.Addr().AsSlice()), Mask: net.CIDRMask(p.Bits(), p.Addr().BitLen())}
}

// linkNames returns a veth pair's names no other run uses: ctr3fa2c1b0 and ctr3fa2c1b1.
func linkNames() (string, string) {
	var b [4]byte
	rand.Read(b[:])
	base := "ctr" + hex.EncodeToString(b[:])
	return base + "0", base + "1"
}

// startBastion starts the bastion: a process of the lab in a network
// namespace of its own (and nothing else new), the other end of the
// container's network. It is never the lab host's own namespace.
func startBastion() (*box, error) {
	b, err := newBox(entryIdle)
	if err != nil {
		return nil, err
	}
	b.cmd.SysProcAttr = &syscall.SysProcAttr{Cloneflags: syscall.CLONE_NEWNET, Pdeathsig: syscall.SIGKILL}
	if err := b.start(); err != nil {
		return nil, fmt.Errorf("start the bastion: %w", err)
	}
	var me inside
	if err := b.read(&me); err != nil {
		b.stop()
		return nil, err
	}
	return b, nil
}

// netLink is one link of a network namespace, with its IPv4 addresses.
type netLink struct {
	Name  string
	Type  string // veth, device (lo)
	Up    bool
	Addrs []string
}

// netView is what one network namespace holds.
type netView struct {
	Links  []netLink
	Routes []string // "default via 198.51.100.1 dev ctr…1", "198.51.100.0/24 dev ctr…1"
}

// link returns the link called name.
func (v netView) link(name string) (netLink, bool) {
	i := slices.IndexFunc(v.Links, func(l netLink) bool { return l.Name == name })
	if i < 0 {
		return netLink{}, false
	}
	return v.Links[i], true
}

// viewNet reads the network namespace of the calling thread with netlink.
func viewNet() (netView, error) {
	var v netView
	h, err := netlink.NewHandle()
	if err != nil {
		return v, err
	}
	defer h.Delete()
	links, err := h.LinkList()
	if err != nil {
		return v, err
	}
	names := map[int]string{}
	for _, l := range links {
		a := l.Attrs()
		names[a.Index] = a.Name
		nl := netLink{Name: a.Name, Type: l.Type(), Up: a.Flags&net.FlagUp != 0}
		addrs, err := h.AddrList(l, netlink.FAMILY_V4)
		if err != nil {
			return v, err
		}
		for _, ad := range addrs {
			nl.Addrs = append(nl.Addrs, ad.IPNet.String())
		}
		v.Links = append(v.Links, nl)
	}
	routes, err := h.RouteList(nil, netlink.FAMILY_V4)
	if err != nil {
		return v, err
	}
	for _, r := range routes {
		dst := "default"
		if r.Dst != nil && !(r.Dst.IP.IsUnspecified() && isZeroMask(r.Dst.Mask)) {
			dst = r.Dst.String()
		}
		s := dst
		if r.Gw != nil {
			s += " via " + r.Gw.String()
		}
		v.Routes = append(v.Routes, s+" dev "+names[r.LinkIndex])
	}
	return v, nil
}

func isZeroMask(m net.IPMask) bool {
	ones, _ := m.Size()
	return ones == 0
}

// viewNetOf reads the network namespace of process pid on a thread that visits it.
func viewNetOf(pid int) (v netView, err error) {
	err = ns.Do(pid, []ns.Kind{ns.Net}, func() error {
		v, err = viewNet()
		return err
	})
	return v, err
}

// tcpResult is one TCP connection from one namespace to the other.
type tcpResult struct {
	From, To string // "bastion", "container"
	Addr     string // what was dialled
	Sent     string
	Got      string // what the server read
	Err      string
}

// tcp listens in the namespace of process server at addr, dials it from
// the namespace of process client, sends a line and has the server read it.
func tcp(client, server int, addr netip.AddrPort, token string) (r tcpResult) {
	r.Addr, r.Sent = addr.String(), token
	var l net.Listener
	err := ns.Do(server, []ns.Kind{ns.Net}, func() (err error) {
		l, err = net.Listen("tcp", addr.String())
		return err
	})
	if err != nil {
		r.Err = fmt.Sprintf("listen on %s: %v", addr, err)
		return r
	}
	defer l.Close()
	got := make(chan string, 1)
	go func() {
		conn, err := l.Accept()
		if err != nil {
			got <- "accept: " + err.Error()
			return
		}
		defer conn.Close()
		conn.SetDeadline(time.Now().Add(10 * time.Second))
		b, err := io.ReadAll(conn)
		if err != nil && !errors.Is(err, io.EOF) {
			got <- "read: " + err.Error()
			return
		}
		got <- string(b)
	}()
	var conn net.Conn
	err = ns.Do(client, []ns.Kind{ns.Net}, func() (err error) {
		conn, err = net.DialTimeout("tcp", addr.String(), 5*time.Second)
		return err
	})
	if err != nil {
		r.Err = fmt.Sprintf("connect to %s: %v", addr, err)
		l.Close()
		<-got
		return r
	}
	_, err = io.WriteString(conn, token)
	conn.Close()
	if err != nil {
		r.Err = fmt.Sprintf("send to %s: %v", addr, err)
	}
	r.Got = <-got
	return r
}

// labConnect is the lab's own veth pair between the bastion and a
// container (steps other than 07): made on a thread that visits the
// bastion, the peer sent to the container's namespace.
func labConnect(l Link) error {
	target, err := ns.Open(l.Container, ns.Net)
	if err != nil {
		return err
	}
	defer target.Close()
	return ns.Do(l.Bastion, []ns.Kind{ns.Net}, func() error {
		veth := &netlink.Veth{LinkAttrs: netlink.LinkAttrs{Name: l.Name}, PeerName: l.Peer}
		if err := netlink.LinkAdd(veth); err != nil {
			return fmt.Errorf("add veth %s/%s in the bastion: %w", l.Name, l.Peer, err)
		}
		peer, err := netlink.LinkByName(l.Peer)
		if err == nil {
			err = netlink.LinkSetNsFd(peer, target.Fd())
		}
		if err != nil {
			return fmt.Errorf("move %s into the container: %w", l.Peer, err)
		}
		return nil
	})
}
