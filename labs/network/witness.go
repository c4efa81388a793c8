//go:build linux

package network

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/nslab/nslab/pkg/host"
	"github.com/nslab/nslab/pkg/ns"
	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// The witnesses read what the kernel did without the learner's code: the
// standard library's net package (its own rtnetlink dump) and /proc/net/route.

// links lists the names of this namespace's links, sorted.
func links([]string) ([]string, error) {
	ifs, err := net.Interfaces()
	if err != nil {
		return nil, fmt.Errorf("list links: %w", err)
	}
	names := make([]string, len(ifs))
	for i, ifc := range ifs {
		names[i] = ifc.Name
	}
	slices.Sort(names)
	return names, nil
}

// state answers "up" or "down": whether the link is administratively up.
func state(name string) ([]string, error) {
	ifc, err := net.InterfaceByName(name)
	if err != nil {
		return nil, fmt.Errorf("find link %s: %w", name, err)
	}
	if ifc.Flags&net.FlagUp != 0 {
		return []string{"up"}, nil
	}
	return []string{"down"}, nil
}

// addrs lists the IPv4 addresses of this namespace as LINK=ADDR/BITS, sorted.
func addrs([]string) ([]string, error) {
	ifs, err := net.Interfaces()
	if err != nil {
		return nil, fmt.Errorf("list links: %w", err)
	}
	var out []string
	for _, ifc := range ifs {
		as, err := ifc.Addrs()
		if err != nil {
			return nil, fmt.Errorf("list the addresses of %s: %w", ifc.Name, err)
		}
		for _, a := range as {
			if ipn, ok := a.(*net.IPNet); ok && ipn.IP.To4() != nil {
				out = append(out, ifc.Name+"="+ipn.String())
			}
		}
	}
	slices.Sort(out)
	return out, nil
}

// routes lists the IPv4 routes of /proc/net/route as DEST/BITS@LINK, sorted.
func routes([]string) ([]string, error) {
	b, err := os.ReadFile("/proc/net/route")
	if err != nil {
		return nil, err
	}
	return ParseRoutes(string(b))
}

// ParseRoutes reads the text of /proc/net/route: a header line, then one
// route per line with the link, the destination and the mask in hexadecimal,
// in the byte order of the machine (little endian on x86 and arm64).
func ParseRoutes(text string) ([]string, error) {
	var out []string
	lines := strings.Split(strings.TrimSpace(text), "\n")
	for _, line := range lines[1:] {
		f := strings.Fields(line)
		if len(f) < 8 {
			return nil, fmt.Errorf("parse /proc/net/route: short line %q", line)
		}
		dst, err1 := hexAddr(f[1])
		mask, err2 := hexAddr(f[7])
		if err := errors.Join(err1, err2); err != nil {
			return nil, fmt.Errorf("parse /proc/net/route line %q: %w", line, err)
		}
		bits, _ := net.IPMask(mask.AsSlice()).Size()
		out = append(out, fmt.Sprintf("%s/%d@%s", dst, bits, f[0]))
	}
	slices.Sort(out)
	return out, nil
}

func hexAddr(s string) (netip.Addr, error) {
	v, err := strconv.ParseUint(s, 16, 32)
	if err != nil {
		return netip.Addr{}, err
	}
	var b [4]byte
	binary.NativeEndian.PutUint32(b[:], uint32(v)) // /proc/net/route prints in the machine's byte order
	return netip.AddrFrom4(b), nil
}

// kind answers the link's type as netlink reports it: "veth", "device" for lo.
func kind(name string) ([]string, error) {
	l, err := netlink.LinkByName(name)
	if err != nil {
		return nil, fmt.Errorf("find link %s: %w", name, err)
	}
	return []string{l.Type()}, nil
}

// serve listens on ADDR (port chosen by the kernel), answers with the port,
// and in the background accepts one connection, to which it writes this
// namespace's network namespace and the address the connection came from.
func serve(args []string) ([]string, error) {
	if len(args) != 1 {
		return nil, errors.New("usage: serve ADDR")
	}
	addr, err := allowedAddr(args[0])
	if err != nil {
		return nil, err
	}
	l, err := net.ListenTCP("tcp", net.TCPAddrFromAddrPort(netip.AddrPortFrom(addr, 0)))
	if err != nil {
		return nil, fmt.Errorf("listen on %s: %w", addr, err)
	}
	go acceptOne(l)
	return []string{strconv.Itoa(l.Addr().(*net.TCPAddr).Port)}, nil
}

func acceptOne(l *net.TCPListener) {
	defer l.Close()
	l.SetDeadline(time.Now().Add(timeout))
	c, err := l.Accept()
	if err != nil {
		return
	}
	defer c.Close()
	id, err := ns.Get(ns.Self, ns.Net)
	if err != nil {
		return
	}
	from := c.RemoteAddr().(*net.TCPAddr).AddrPort().Addr().Unmap()
	fmt.Fprintf(c, "%s %s\n", id, from)
}

// dial connects to ADDR PORT and answers with the server's line: its
// network namespace and the address it saw the connection come from.
func dial(args []string) ([]string, error) {
	if len(args) != 2 {
		return nil, errors.New("usage: dial ADDR PORT")
	}
	addr, err := allowedAddr(args[0])
	if err != nil {
		return nil, err
	}
	port, err := strconv.ParseUint(args[1], 10, 16)
	if err != nil {
		return nil, fmt.Errorf("bad port %q: %w", args[1], err)
	}
	to := netip.AddrPortFrom(addr, uint16(port))
	c, err := net.DialTimeout("tcp", to.String(), timeout)
	if err != nil {
		return nil, fmt.Errorf("connect to %s: %w", to, err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(timeout))
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil {
		return nil, fmt.Errorf("read from %s: %w", to, err)
	}
	return strings.Fields(line), nil
}

// tcpSelf serves on 127.0.0.1 and connects to it from this namespace.
func tcpSelf([]string) ([]string, error) {
	port, err := serve([]string{"127.0.0.1"})
	if err != nil {
		return nil, err
	}
	return dial([]string{"127.0.0.1", port[0]})
}

// allowedAddr parses an address the lab may use: loopback or LabNet.
func allowedAddr(s string) (netip.Addr, error) {
	addr, err := netip.ParseAddr(s)
	if err != nil {
		return addr, fmt.Errorf("bad address %q: %w", s, err)
	}
	if !Allowed(addr) {
		return addr, fmt.Errorf("refusing %s: the lab talks to loopback and %s only", addr, LabNet)
	}
	return addr, nil
}

// waitGone waits until link name no longer exists in this namespace. A
// namespace is dismantled by the kernel after its last process exits, a
// little later and asynchronously, so this listens for the RTM_DELLINK
// message rather than looking once.
func waitGone(name string) ([]string, error) {
	updates := make(chan netlink.LinkUpdate, 16)
	done := make(chan struct{})
	defer func() {
		close(done)
		go func() {
			for range updates { // until the subscription closes it
			}
		}()
	}()
	if err := netlink.LinkSubscribe(updates, done); err != nil {
		return nil, fmt.Errorf("subscribe to link changes: %w", err)
	}
	if _, err := netlink.LinkByName(name); errors.As(err, new(netlink.LinkNotFoundError)) {
		return nil, nil
	}
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	for {
		select {
		case u, ok := <-updates:
			if ok && u.Header.Type == unix.RTM_DELLINK && u.Attrs().Name == name {
				return nil, nil
			}
		case <-timer.C:
			return nil, fmt.Errorf("link %s still exists after %v: %w", name, timeout, unix.ETIMEDOUT)
		}
	}
}

// mountOptions answers the per-mount options of the last mount on dir in
// this process's mount namespace, as /proc/self/mountinfo lists them:
// "ro,nosuid,nodev,noexec,relatime".
func mountOptions(dir string) ([]string, error) {
	b, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		return nil, err
	}
	opts := ""
	for _, m := range host.ParseMountinfo(string(b)) {
		if m.Target == dir {
			opts = m.Options
		}
	}
	if opts == "" {
		return nil, fmt.Errorf("nothing is mounted on %s", dir)
	}
	return []string{opts}, nil
}
