//go:build linux

package network

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	"github.com/nslab/nslab/pkg/holder"
	"github.com/nslab/nslab/pkg/lab"
	"github.com/nslab/nslab/pkg/ns"
	"golang.org/x/sys/unix"
)

// The run halves of the steps: each runs in the lab host, calls the
// learner's code (in holders, children in network namespaces of the lab's
// own, and for DeviceNames and LinksOf in the runner itself), and returns
// what it saw; check.go makes the verdicts. A learner's function that fails
// is recorded in the report, so that the check can say which and still look
// at the lab host; the children stay alive until the check is over.

// loopbackReport is what step 01 saw.
type loopbackReport struct {
	Holder      int      // a holder in a new network namespace
	HolderNet   string   // its network namespace, "net:[4026532290]"
	LinksBefore []string // its links before LoopbackUp (the standard library's list)
	LoBefore    string   // "up" or "down", before LoopbackUp
	TCPBefore   string   // TCP from 127.0.0.1 to 127.0.0.1 before LoopbackUp: its error, "" if it connected
	LoopbackErr string   // LoopbackUp's error, run in the holder
	LoAfter     string   // lo after LoopbackUp
	TCPAfter    []string // the server's answer after: its network namespace and the client's address
	TCPAfterErr string
	Host        netView // the lab host's own network namespace after the step
}

func runLoopback(ctx context.Context, cleanup *lab.Cleanup) (r loopbackReport, err error) {
	defer readHost(&r.Host, &err)
	h, err := startHolder(ctx, false, ns.Net)
	if err != nil {
		return r, fmt.Errorf("start a holder in a new network namespace: %w", err)
	}
	cleanup.Add(h.Stop)
	r.Holder = h.PID()
	if r.HolderNet, err = netOf(h.PID()); err != nil {
		return r, err
	}
	if r.LinksBefore, err = h.Do("links"); err != nil {
		return r, err
	}
	if r.LoBefore, err = word(h.Do("state lo")); err != nil {
		return r, err
	}
	if _, err := h.Do("tcpself"); err != nil {
		r.TCPBefore = err.Error()
	}
	if _, err := h.Do("loup"); err != nil {
		if err := died(err); err != nil {
			return r, fmt.Errorf("LoopbackUp() in the holder: %w", err)
		}
		r.LoopbackErr = err.Error()
	} else {
		if r.LoAfter, err = word(h.Do("state lo")); err != nil {
			return r, err
		}
		if r.TCPAfter, err = h.Do("tcpself"); err != nil {
			r.TCPAfterErr = err.Error()
		}
	}
	return r, nil
}

// ownDevicesReport is what step 02 saw: holders A (lo and a veth pair the
// lab made) and B (lo alone), each in new network and mount namespaces.
type ownDevicesReport struct {
	A, B       int
	X, Y       string   // the veth pair in A
	DevA, DevB []string // DeviceNames of /proc/net/dev, read in A and in B
	DevErr     string   // the error of the first DeviceNames that failed, with where
	HostDev    []string // DeviceNames of the runner's /proc/net/dev (the lab host's)
	HostLinks  []string // the runner's links (the standard library's list)
	SampleDev  []string // DeviceNames of sampleNetDev, a machine's /proc/net/dev
	SampleErr  string
	Dir        string   // where A and B mounted sysfs, each in its own mount namespace
	MountErr   string   // the error of the first MountSysfs that failed, with where
	SysA, SysB []string // class/net of each sysfs, listed in A and in B
	HostDir    []string // Dir as the runner sees it
	Host       netView
}

// sampleNetDev is /proc/net/dev of a machine with more devices than a lab
// host has, in the order of their interface indexes: names short and long
// (up to 15 bytes, which fill the column), counters wide and narrow.
const sampleNetDev = `Inter-|   Receive                                                |  Transmit
 face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed
    lo:  402947    3401    0    0    0     0          0         0   402947    3401    0    0    0     0       0          0
wlp2s0: 1843029312 1403927    0    0    0     0          0         0 84938271  622114    0    0    0     0       0          0
  eth0: 9238472   81723    0   12    0     0          0       301  1928374   19283    0    0    0     0       0          0
docker0:       0       0    0    0    0     0          0         0        0       0    0    3    0     0       0          0
veth1a2b3c4d5e6:    1024      10    0    0    0     0          0         0     2048      20    0    0    0     0       0          0
`

// sampleDevices is what DeviceNames must return for sampleNetDev.
var sampleDevices = []string{"docker0", "eth0", "lo", "veth1a2b3c4d5e6", "wlp2s0"}

func runOwnDevices(ctx context.Context, cleanup *lab.Cleanup) (r ownDevicesReport, err error) {
	defer readHost(&r.Host, &err)
	a, err := startHolder(ctx, false, ns.Net, ns.Mnt)
	if err != nil {
		return r, fmt.Errorf("start holder A: %w", err)
	}
	cleanup.Add(a.Stop)
	b, err := startHolder(ctx, false, ns.Net, ns.Mnt)
	if err != nil {
		return r, fmt.Errorf("start holder B: %w", err)
	}
	cleanup.Add(b.Stop)
	r.A, r.B = a.PID(), b.PID()
	r.X, r.Y = LinkNames()
	if _, err := a.Do("labveth %s %s", r.X, r.Y); err != nil {
		return r, err
	}
	if r.DevA, err = decodeNames(a.Do("netdev")); err != nil {
		if err := died(err); err != nil {
			return r, fmt.Errorf("DeviceNames in A: %w", err)
		}
		r.DevErr = fmt.Sprintf("DeviceNames(/proc/net/dev) in A (PID %d): %v", r.A, err)
		return r, nil
	}
	if r.DevB, err = decodeNames(b.Do("netdev")); err != nil {
		if err := died(err); err != nil {
			return r, fmt.Errorf("DeviceNames in B: %w", err)
		}
		r.DevErr = fmt.Sprintf("DeviceNames(/proc/net/dev) in B (PID %d): %v", r.B, err)
		return r, nil
	}
	if r.HostDev, err = deviceNamesOf("/proc/net/dev"); err != nil {
		r.DevErr = fmt.Sprintf("DeviceNames(/proc/net/dev) in the lab host: %v", err)
		return r, nil
	}
	if r.HostLinks, err = links(nil); err != nil {
		return r, err
	}
	if r.SampleDev, err = DeviceNames(strings.NewReader(sampleNetDev)); err != nil {
		r.SampleErr = err.Error()
	}
	if r.Dir, err = os.MkdirTemp("", "nslab-sysfs-"); err != nil {
		return r, fmt.Errorf("make a mount point: %w", err)
	}
	dir := r.Dir
	cleanup.Add(func() { os.Remove(dir) }) // after the holders, last added first
	cleanup.Add(a.Stop)
	cleanup.Add(b.Stop)
	for _, h := range []*holder.Holder{a, b} {
		if _, err := h.Do("mountsys %s", r.Dir); err != nil {
			if err := died(err); err != nil {
				return r, fmt.Errorf("MountSysfs in PID %d: %w", h.PID(), err)
			}
			r.MountErr = fmt.Sprintf("MountSysfs(%s) in PID %d: %v", r.Dir, h.PID(), err)
			return r, nil
		}
	}
	if r.SysA, err = a.Do("ls %s", filepath.Join(r.Dir, "class/net")); err != nil {
		return r, fmt.Errorf("list class/net of the sysfs mounted in A: %w", err)
	}
	if r.SysB, err = b.Do("ls %s", filepath.Join(r.Dir, "class/net")); err != nil {
		return r, fmt.Errorf("list class/net of the sysfs mounted in B: %w", err)
	}
	entries, err := os.ReadDir(r.Dir)
	if err != nil {
		return r, err
	}
	for _, e := range entries {
		r.HostDir = append(r.HostDir, e.Name())
	}
	return r, nil
}

// deviceNamesOf runs DeviceNames on a file.
func deviceNamesOf(path string) ([]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return DeviceNames(f)
}

// pairInfo is the bastion and the container of a step, as the runner sees them.
type pairInfo struct {
	Bastion, Container         int    // PIDs
	BastionLink, ContainerLink string // the names of the veth pair's ends for this run
	ContainerSet               ns.Set // the container's namespaces, read when it started (step 05 ends it before the check)
}

// startPair starts the bastion and its container (pair.go), kept alive
// until the check is over; withVeth has the lab (not the learner) make the
// veth pair in the bastion, for the steps that build on step 03.
func startPair(ctx context.Context, cleanup *lab.Cleanup, withVeth bool) (*Pair, pairInfo, error) {
	p, err := StartPair(ctx)
	if err != nil {
		return nil, pairInfo{}, err
	}
	cleanup.Add(p.Stop)
	info := pairInfo{Bastion: p.BastionPID(), Container: p.ContainerPID, BastionLink: p.BastionLink, ContainerLink: p.ContainerLink}
	if info.ContainerSet, err = ns.Of(p.ContainerPID); err != nil {
		return nil, info, err
	}
	if withVeth {
		if _, err := p.Bastion.Do("labveth %s %s", p.BastionLink, p.ContainerLink); err != nil {
			return nil, info, err
		}
	}
	return p, info, nil
}

// vethReport is what step 03 saw.
type vethReport struct {
	Pair           pairInfo
	CreateErr      string   // CreateVeth's error, run in the bastion
	AfterCreate    []string // the bastion's links after CreateVeth
	Kind           string   // the type of the bastion's end
	MoveErr        string   // MoveLink's error, run in the bastion
	BastionLinks   []string // after MoveLink
	ContainerLinks []string
	Host           netView
}

func runVeth(ctx context.Context, cleanup *lab.Cleanup) (r vethReport, err error) {
	defer readHost(&r.Host, &err)
	p, info, err := startPair(ctx, cleanup, false)
	if err != nil {
		return r, err
	}
	r.Pair = info
	bl, cl := p.BastionLink, p.ContainerLink
	if _, err := p.Bastion.Do("veth %s %s", bl, cl); err != nil {
		if err := died(err); err != nil {
			return r, fmt.Errorf("CreateVeth in the bastion: %w", err)
		}
		r.CreateErr = err.Error()
		return r, nil
	}
	if r.AfterCreate, err = p.Bastion.Do("links"); err != nil {
		return r, err
	}
	if slices.Contains(r.AfterCreate, bl) {
		if r.Kind, err = word(p.Bastion.Do("kind %s", bl)); err != nil {
			return r, err
		}
	}
	if _, err := p.Bastion.Do("move %s %d", cl, p.ContainerPID); err != nil {
		if err := died(err); err != nil {
			return r, fmt.Errorf("MoveLink in the bastion: %w", err)
		}
		r.MoveErr = err.Error()
		return r, nil
	}
	if r.BastionLinks, err = p.Bastion.Do("links"); err != nil {
		return r, err
	}
	if r.ContainerLinks, err = p.Container("links"); err != nil {
		return r, err
	}
	return r, nil
}

// trafficReport is what step 04 saw.
type trafficReport struct {
	Pair           pairInfo
	AddrErr        string   // the first AddAddress that failed, with where
	AddrsB, AddrsC []string // the IPv4 addresses of the bastion and the container (the standard library's list)
	StateB, StateC string   // their ends' state, "up" or "down"
	NoRoute        string   // the container's connection to the bastion before any route: its error
	NoRouteUnreach bool     // whether that error is ENETUNREACH
	RouteErr       string   // the first AddRoute that failed, with where
	RoutesB        []string // /proc/net/route of the bastion
	RoutesC        []string
	TCP            []tcpResult
	Host           netView
}

// tcpResult is one TCP connection over the veth pair.
type tcpResult struct {
	Server string // "bastion" or "container"
	PID    int    // the server's
	Netns  string // the network namespace the server answered from
	From   string // the address it saw the client come from
	Err    string
}

func runTraffic(ctx context.Context, cleanup *lab.Cleanup) (r trafficReport, err error) {
	defer readHost(&r.Host, &err)
	p, info, err := startPair(ctx, cleanup, true)
	if err != nil {
		return r, err
	}
	r.Pair = info
	bl, cl := p.BastionLink, p.ContainerLink
	if _, err := p.Bastion.Do("labmove %s %d", cl, p.ContainerPID); err != nil {
		return r, err
	}
	addrs := []learnerCall{
		{fmt.Sprintf("AddAddress(%s, %s) in the bastion", bl, BastionAddr), func() ([]string, error) { return p.Bastion.Do("addr %s %s", bl, BastionAddr) }},
		{fmt.Sprintf("AddAddress(%s, %s) in the container", cl, ContainerAddr), func() ([]string, error) { return p.Container("addr %s %s", cl, ContainerAddr) }},
	}
	if done, err := callLearner(addrs, &r.AddrErr); done || err != nil {
		return r, err
	}
	if err := readAddrs(p, &r); err != nil {
		return r, err
	}
	// /32 addresses alone reach nothing: the connection fails before any
	// packet leaves, so no server is needed on the port.
	const discard = 9
	if _, err := p.Container("dial %s %d", BastionAddr.Addr(), discard); err != nil {
		r.NoRoute, r.NoRouteUnreach = err.Error(), errors.Is(err, unix.ENETUNREACH)
	}
	routes := []learnerCall{
		{fmt.Sprintf("AddRoute(%s, %s) in the bastion", bl, ContainerAddr), func() ([]string, error) { return p.Bastion.Do("route %s %s", bl, ContainerAddr) }},
		{fmt.Sprintf("AddRoute(%s, %s) in the container", cl, BastionAddr), func() ([]string, error) { return p.Container("route %s %s", cl, BastionAddr) }},
	}
	if done, err := callLearner(routes, &r.RouteErr); done || err != nil {
		return r, err
	}
	var errs [2]error
	r.RoutesB, errs[0] = p.Bastion.Do("routes")
	r.RoutesC, errs[1] = p.Container("routes")
	if err := errors.Join(errs[:]...); err != nil {
		return r, err
	}
	r.TCP = tcpBothWays(p)
	return r, nil
}

// learnerCall is one holder command that calls a learner's function.
type learnerCall struct {
	what string // "AddAddress(veth0, 198.51.100.1/32) in the bastion"
	do   func() ([]string, error)
}

// callLearner runs calls in turn. The first that the learner's function
// refused ends the run with its refusal in *refused (the check's verdict,
// done is true); a holder that died (or an unwritten step) is the error.
func callLearner(calls []learnerCall, refused *string) (done bool, err error) {
	for _, c := range calls {
		if _, err := c.do(); err != nil {
			if err := died(err); err != nil {
				return true, fmt.Errorf("%s: %w", c.what, err)
			}
			*refused = fmt.Sprintf("%s: %v", c.what, err)
			return true, nil
		}
	}
	return false, nil
}

// readAddrs reads the addresses and link states on both sides.
func readAddrs(p *Pair, r *trafficReport) error {
	var errs [4]error
	r.AddrsB, errs[0] = p.Bastion.Do("addrs")
	r.AddrsC, errs[1] = p.Container("addrs")
	r.StateB, errs[2] = word(p.Bastion.Do("state %s", p.BastionLink))
	r.StateC, errs[3] = word(p.Container("state %s", p.ContainerLink))
	return errors.Join(errs[:]...)
}

// tcpBothWays opens a TCP connection each way over the pair.
func tcpBothWays(p *Pair) []tcpResult {
	var out []tcpResult
	for _, toContainer := range []bool{false, true} {
		t := tcpResult{Server: "bastion", PID: p.BastionPID()}
		if toContainer {
			t = tcpResult{Server: "container", PID: p.ContainerPID}
		}
		var err error
		if t.Netns, t.From, err = p.TCP(toContainer); err != nil {
			t.Err = err.Error()
		}
		out = append(out, t)
	}
	return out
}

// movedReport is what step 05 saw.
type movedReport struct {
	Pair    pairInfo
	Calls   []linksOfCall // LinksOf, called in the runner, in order
	OldNet  string        // the container's network namespace, before it ended
	GoneErr string        // the bastion's wait for its end to vanish: its error
	Host    netView
}

// linksOfCall is one call of LinksOf.
type linksOfCall struct {
	When string // what the lab had just done
	PID  int
	Who  string // "bastion" or "container"
	Want []string
	Got  []string
	Err  string
}

func runMovedAndGone(ctx context.Context, cleanup *lab.Cleanup) (r movedReport, err error) {
	defer readHost(&r.Host, &err)
	p, info, err := startPair(ctx, cleanup, true)
	if err != nil {
		return r, err
	}
	r.Pair = info
	bl, cl := p.BastionLink, p.ContainerLink
	call := func(when string, pid int, who string, want ...string) bool {
		slices.Sort(want)
		c := linksOfCall{When: when, PID: pid, Who: who, Want: want}
		got, err := LinksOf(pid)
		c.Got = got
		if err != nil {
			c.Err = err.Error()
		}
		r.Calls = append(r.Calls, c)
		return err == nil
	}
	if !call("the lab made the veth pair in the bastion", p.BastionPID(), "bastion", "lo", bl, cl) {
		return r, nil
	}
	if _, err := p.Bastion.Do("labmove %s %d", cl, p.ContainerPID); err != nil {
		return r, err
	}
	moved := "the lab moved " + cl + " into the container"
	if !call(moved, p.BastionPID(), "bastion", "lo", bl) || !call(moved, p.ContainerPID, "container", "lo", cl) {
		return r, nil
	}
	if r.OldNet, err = netOf(p.ContainerPID); err != nil {
		return r, err
	}
	if _, err := p.Bastion.Do("ctstop"); err != nil {
		return r, err
	}
	if _, err := p.Bastion.Do("waitgone %s", bl); err != nil {
		r.GoneErr = err.Error()
		return r, nil
	}
	if !call("the container, the last process of "+r.OldNet+", exited", p.BastionPID(), "bastion", "lo") {
		return r, nil
	}
	return r, nil
}

// netOf returns the network namespace of process pid, "net:[4026532290]".
func netOf(pid int) (string, error) {
	id, err := ns.Get(pid, ns.Net)
	if err != nil {
		return "", err
	}
	return id.String(), nil
}

// word returns the one word of a holder's answer.
func word(words []string, err error) (string, error) {
	if err != nil {
		return "", err
	}
	if len(words) != 1 {
		return "", fmt.Errorf("want one word, got %q", words)
	}
	return words[0], nil
}

// readHost reads the runner's own network namespace, the lab host's, into
// v once a run half has ended without an error of its own.
func readHost(v *netView, err *error) {
	if *err == nil {
		*v, *err = readNet()
	}
}

// todoMessage is how lab.NotImplemented reads on a holder's stderr, which
// a holder's death quotes.
var todoMessage = regexp.MustCompile(`(\w+) step (\d+) is not written yet`)

// died returns the error that ends a run half when a holder command that
// runs the learner's code failed: nil when the holder answered with an
// error (the learner's function returned it: the report records it), else
// the holder's death (a panic in the learner's code), as lab.TODO when it
// was an unwritten step.
func died(err error) error {
	if m := todoMessage.FindStringSubmatch(err.Error()); m != nil {
		return lab.TODO(m[1], m[2])
	}
	var answered *holder.CommandError
	if errors.As(err, &answered) {
		return nil
	}
	return err
}
