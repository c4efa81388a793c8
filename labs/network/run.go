//go:build linux

package network

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing/iotest"

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
	Other       int       // a second holder in a new network namespace, where LoopbackUp must fail
	Refusals    []refusal // LoopbackUp there: without CAP_NET_ADMIN, then with lo renamed
	OtherLo     string    // its lo after LoopbackUp without CAP_NET_ADMIN: "up" or "down"
	OtherLinks  []string  // its links at the end
	Host        netView   // the lab host's own network namespace after the step
}

// renamedLo is what step 01 renames lo to, in a namespace where
// LoopbackUp must then fail: there is no link called lo.
const renamedLo = "lo-renamed"

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
	return r, loopbackRefused(ctx, cleanup, &r)
}

// loopbackRefused calls LoopbackUp in a second new network namespace where
// it must fail: first on a thread without CAP_NET_ADMIN (EPERM, and lo
// stays down), then once the lab has renamed lo (no link is called lo).
func loopbackRefused(ctx context.Context, cleanup *lab.Cleanup, r *loopbackReport) error {
	h, err := startHolder(ctx, false, ns.Net)
	if err != nil {
		return fmt.Errorf("start a second holder in a new network namespace: %w", err)
	}
	cleanup.Add(h.Stop)
	r.Other = h.PID()
	nocap, err := refuse("LoopbackUp() on a thread without CAP_NET_ADMIN", "EPERM", func() ([]string, error) { return h.Do("loupnocap") })
	if err != nil {
		return err
	}
	if r.OtherLo, err = word(h.Do("state lo")); err != nil {
		return err
	}
	if _, err := h.Do("labname lo %s", renamedLo); err != nil {
		return err
	}
	renamed, err := refuse(fmt.Sprintf("LoopbackUp() in a namespace whose loopback the lab renamed %s", renamedLo), "", func() ([]string, error) { return h.Do("loup") })
	if err != nil {
		return err
	}
	r.Refusals = []refusal{nocap, renamed}
	r.OtherLinks, err = h.Do("links")
	return err
}

// ownDevicesReport is what step 02 saw: holders A (lo and a veth pair the
// lab made) and B (lo alone), each in new network and mount namespaces.
type ownDevicesReport struct {
	A, B       int
	X, Y       string    // the veth pair in A
	DevA, DevB []string  // DeviceNames of /proc/net/dev, read in A and in B
	DevErr     string    // the error of the first DeviceNames that failed, with where
	HostDev    []string  // DeviceNames of the runner's /proc/net/dev (the lab host's)
	HostLinks  []string  // the runner's links (the standard library's list)
	Cases      []devCase // DeviceNames of the texts of devTexts, in order
	Dir        string    // where A and B mounted sysfs, each in its own mount namespace
	Missing    refusal   // MountSysfs of a directory that does not exist, in A
	MountErr   string    // the error of the first MountSysfs that failed, with where
	OptsA      string    // the options of A's mount on Dir, as A's mountinfo lists them
	OptsB      string
	SysA, SysB []string // class/net of each sysfs, listed in A and in B
	HostDir    []string // Dir as the runner sees it
	Host       netView
}

// netDevHeader is the two header lines of /proc/net/dev.
const netDevHeader = `Inter-|   Receive                                                |  Transmit
 face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed
`

// sampleNetDev is /proc/net/dev of a machine with more devices than a lab
// host has, in the order of their interface indexes: names short and long
// (up to 15 bytes, which fill the column), counters wide and narrow.
const sampleNetDev = netDevHeader + `    lo:  402947    3401    0    0    0     0          0         0   402947    3401    0    0    0     0       0          0
wlp2s0: 1843029312 1403927    0    0    0     0          0         0 84938271  622114    0    0    0     0       0          0
  eth0: 9238472   81723    0   12    0     0          0       301  1928374   19283    0    0    0     0       0          0
docker0:       0       0    0    0    0     0          0         0        0       0    0    3    0     0       0          0
veth1a2b3c4d5e6:    1024      10    0    0    0     0          0         0     2048      20    0    0    0     0       0          0
`

// sampleDevices is what DeviceNames must return for sampleNetDev.
var sampleDevices = []string{"docker0", "eth0", "lo", "veth1a2b3c4d5e6", "wlp2s0"}

// loLine is one device line of /proc/net/dev.
const loLine = "    lo:       0       0    0    0    0     0          0         0        0       0    0    0    0     0       0          0\n"

// devTexts are the texts step 02 gives DeviceNames in the runner, besides
// the files of the namespaces: a machine's, and ones it must refuse.
// wantLine is the line number a refusal must name (from 1, the headers
// included); readErr has the reader fail with errRead after the text.
var devTexts = []struct {
	name     string
	text     string
	want     []string
	wantLine int
	readErr  bool
}{
	{name: "a machine's /proc/net/dev", text: sampleNetDev, want: sampleDevices},
	{name: "the two header lines alone", text: netDevHeader},
	{name: "a line without a colon", text: netDevHeader + loLine + "    garbage without a colon\n", wantLine: 4},
	{name: "a line with an empty name", text: netDevHeader + "      :       0       0    0    0\n" + loLine, wantLine: 3},
	{name: "a read error after the headers", text: netDevHeader + loLine, readErr: true},
}

// errRead is the error of the reader of devTexts' readErr case.
var errRead = errors.New("the lab's reader failed on purpose")

// devCase is what DeviceNames returned for one text of devTexts.
type devCase struct {
	Got     []string
	Err     string
	ReadErr bool // whether the error wraps errRead, the reader's own
}

// deviceCases runs DeviceNames on devTexts, in the runner.
func deviceCases() []devCase {
	var out []devCase
	for _, t := range devTexts {
		var r io.Reader = strings.NewReader(t.text)
		if t.readErr {
			r = io.MultiReader(r, iotest.ErrReader(errRead))
		}
		got, err := DeviceNames(r)
		c := devCase{Got: got}
		if err != nil {
			c.Err, c.ReadErr = err.Error(), errors.Is(err, errRead)
		}
		out = append(out, c)
	}
	return out
}

func runOwnDevices(ctx context.Context, cleanup *lab.Cleanup) (r ownDevicesReport, err error) {
	defer readHost(&r.Host, &err)
	a, b, err := startAB(ctx, cleanup, &r)
	if err != nil {
		return r, err
	}
	if done, err := readDevices(a, b, &r); done || err != nil {
		return r, err
	}
	r.Cases = deviceCases()
	if r.Dir, err = os.MkdirTemp("", "nslab-sysfs-"); err != nil {
		return r, fmt.Errorf("make a mount point: %w", err)
	}
	dir := r.Dir
	cleanup.Add(func() { os.Remove(dir) }) // after the holders, last added first
	cleanup.Add(a.Stop)
	cleanup.Add(b.Stop)
	if done, err := mountBoth(a, b, &r); done || err != nil {
		return r, err
	}
	return r, listSysfs(a, b, &r)
}

// startAB starts holders A and B; A gets a veth pair from the lab.
func startAB(ctx context.Context, cleanup *lab.Cleanup, r *ownDevicesReport) (a, b *holder.Holder, err error) {
	if a, err = startHolder(ctx, false, ns.Net, ns.Mnt); err != nil {
		return nil, nil, fmt.Errorf("start holder A: %w", err)
	}
	cleanup.Add(a.Stop)
	if b, err = startHolder(ctx, false, ns.Net, ns.Mnt); err != nil {
		return nil, nil, fmt.Errorf("start holder B: %w", err)
	}
	cleanup.Add(b.Stop)
	r.A, r.B = a.PID(), b.PID()
	r.X, r.Y = LinkNames()
	if _, err := a.Do("labveth %s %s", r.X, r.Y); err != nil {
		return nil, nil, err
	}
	return a, b, nil
}

// readDevices has A, B and the runner read their /proc/net/dev with
// DeviceNames. The first that fails ends the run (done) with its error in
// the report.
func readDevices(a, b *holder.Holder, r *ownDevicesReport) (done bool, err error) {
	for _, h := range []struct {
		name string
		h    *holder.Holder
		dev  *[]string
	}{{"A", a, &r.DevA}, {"B", b, &r.DevB}} {
		if *h.dev, err = decodeNames(h.h.Do("netdev")); err != nil {
			if err := died(err); err != nil {
				return true, fmt.Errorf("DeviceNames in %s: %w", h.name, err)
			}
			r.DevErr = fmt.Sprintf("DeviceNames(/proc/net/dev) in %s (PID %d): %v", h.name, h.h.PID(), err)
			return true, nil
		}
	}
	if r.HostDev, err = deviceNamesOf("/proc/net/dev"); err != nil {
		r.DevErr = fmt.Sprintf("DeviceNames(/proc/net/dev) in the lab host: %v", err)
		return true, nil
	}
	r.HostLinks, err = links(nil)
	return err != nil, err
}

// mountBoth has A and B each mount sysfs on r.Dir, in their own mount
// namespaces, after A tried a directory that does not exist. The first
// MountSysfs that fails ends the run (done) with its error in the report.
func mountBoth(a, b *holder.Holder, r *ownDevicesReport) (done bool, err error) {
	missing := filepath.Join(r.Dir, "missing")
	r.Missing, err = refuse(fmt.Sprintf("MountSysfs(%s), a directory that does not exist, in A", missing), "ENOENT", func() ([]string, error) { return a.Do("mountsys %s", missing) })
	if err != nil {
		return true, err
	}
	for _, h := range []*holder.Holder{a, b} {
		if _, err := h.Do("mountsys %s", r.Dir); err != nil {
			if err := died(err); err != nil {
				return true, fmt.Errorf("MountSysfs in PID %d: %w", h.PID(), err)
			}
			r.MountErr = fmt.Sprintf("MountSysfs(%s) in PID %d: %v", r.Dir, h.PID(), err)
			return true, nil
		}
	}
	var errs [2]error
	r.OptsA, errs[0] = word(a.Do("mountopts %s", r.Dir))
	r.OptsB, errs[1] = word(b.Do("mountopts %s", r.Dir))
	return false, errors.Join(errs[:]...)
}

// listSysfs lists class/net of each sysfs, in its holder, and r.Dir in the runner.
func listSysfs(a, b *holder.Holder, r *ownDevicesReport) (err error) {
	if r.SysA, err = a.Do("ls %s", filepath.Join(r.Dir, "class/net")); err != nil {
		return fmt.Errorf("list class/net of the sysfs mounted in A: %w", err)
	}
	if r.SysB, err = b.Do("ls %s", filepath.Join(r.Dir, "class/net")); err != nil {
		return fmt.Errorf("list class/net of the sysfs mounted in B: %w", err)
	}
	entries, err := os.ReadDir(r.Dir)
	if err != nil {
		return err
	}
	for _, e := range entries {
		r.HostDir = append(r.HostDir, e.Name())
	}
	return nil
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
// veth pair in the bastion, for the steps that build on step 03. What the
// check needs to know of the pair goes into *info.
func startPair(ctx context.Context, cleanup *lab.Cleanup, withVeth bool, info *pairInfo) (*Pair, error) {
	p, err := StartPair(ctx)
	if err != nil {
		return nil, err
	}
	cleanup.Add(p.Stop)
	*info = pairInfo{Bastion: p.BastionPID(), Container: p.ContainerPID, BastionLink: p.BastionLink, ContainerLink: p.ContainerLink}
	if info.ContainerSet, err = ns.Of(p.ContainerPID); err != nil {
		return nil, err
	}
	if withVeth {
		if _, err := p.Bastion.Do("labveth %s %s", p.BastionLink, p.ContainerLink); err != nil {
			return nil, err
		}
	}
	return p, nil
}

// vethReport is what step 03 saw.
type vethReport struct {
	Pair           pairInfo
	CreateErr      string   // CreateVeth's error, run in the bastion, with where
	AfterCreate    []string // the bastion's links after CreateVeth
	Kind           string   // the type of the bastion's end
	MoveErr        string   // MoveLink's error, run in the bastion, with where
	BastionLinks   []string // after MoveLink
	ContainerLinks []string
	Refusals       []refusal // CreateVeth and MoveLink where the kernel refuses them
	Host           netView
}

func runVeth(ctx context.Context, cleanup *lab.Cleanup) (r vethReport, err error) {
	defer readHost(&r.Host, &err)
	p, err := startPair(ctx, cleanup, false, &r.Pair)
	if err != nil {
		return r, err
	}
	bl, cl := p.BastionLink, p.ContainerLink
	create := learnerCall{fmt.Sprintf("CreateVeth(%s, %s) in the bastion", bl, cl), func() ([]string, error) { return p.Bastion.Do("veth %s %s", bl, cl) }}
	if done, err := callLearner([]learnerCall{create}, &r.CreateErr); done || err != nil {
		return r, err
	}
	if r.AfterCreate, err = p.Bastion.Do("links"); err != nil {
		return r, err
	}
	if slices.Contains(r.AfterCreate, bl) {
		if r.Kind, err = word(p.Bastion.Do("kind %s", bl)); err != nil {
			return r, err
		}
	}
	move := learnerCall{fmt.Sprintf("MoveLink(%s, %d) in the bastion", cl, p.ContainerPID), func() ([]string, error) { return p.Bastion.Do("move %s %d", cl, p.ContainerPID) }}
	if done, err := callLearner([]learnerCall{move}, &r.MoveErr); done || err != nil {
		return r, err
	}
	if r.BastionLinks, err = p.Bastion.Do("links"); err != nil {
		return r, err
	}
	if r.ContainerLinks, err = p.Container("links"); err != nil {
		return r, err
	}
	r.Refusals, err = vethRefused(p)
	return r, err
}

// vethRefused calls CreateVeth and MoveLink in the bastion where the kernel
// refuses them: a name that exists, a link that left, a PID that does not
// exist, and lo, which never leaves its network namespace.
func vethRefused(p *Pair) ([]refusal, error) {
	bl, cl, ct := p.BastionLink, p.ContainerLink, p.ContainerPID
	return refusedInBastion(p, []bastionCall{
		{fmt.Sprintf("CreateVeth(%s, %s) again in the bastion, which holds %s", bl, cl, bl), "EEXIST", fmt.Sprintf("veth %s %s", bl, cl)},
		{fmt.Sprintf("MoveLink(%s, %d) again, now that %s has left the bastion", cl, ct, cl), "", fmt.Sprintf("move %s %d", cl, ct)},
		{fmt.Sprintf("MoveLink(%s, %d), a PID that does not exist", bl, noPID), "ENOENT", fmt.Sprintf("move %s %d", bl, noPID)},
		{fmt.Sprintf("MoveLink(lo, %d): lo never leaves its network namespace", ct), "EINVAL", fmt.Sprintf("move lo %d", ct)},
	})
}

// bastionCall is a holder command that calls a learner's function in the
// bastion, where the kernel refuses it with want ("" for any error).
type bastionCall struct{ what, want, cmd string }

// refusedInBastion makes each call in turn in the bastion and records how
// it was refused.
func refusedInBastion(p *Pair, calls []bastionCall) ([]refusal, error) {
	var out []refusal
	for _, call := range calls {
		rf, err := refuse(call.what, call.want, func() ([]string, error) { return p.Bastion.Do("%s", call.cmd) })
		if err != nil {
			return out, err
		}
		out = append(out, rf)
	}
	return out, nil
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
	Refusals       []refusal // AddAddress and AddRoute where the kernel refuses them
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
	p, err := startPair(ctx, cleanup, true, &r.Pair)
	if err != nil {
		return r, err
	}
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
	r.Refusals, err = trafficRefused(p)
	return r, err
}

// trafficRefused calls AddAddress and AddRoute in the bastion where the
// kernel refuses them: a link that does not exist, and an address or a
// route that exists already.
func trafficRefused(p *Pair) ([]refusal, error) {
	bl := p.BastionLink
	missing, third := bl+"x", netip.PrefixFrom(LabNet.Addr().Next().Next().Next(), 32)
	return refusedInBastion(p, []bastionCall{
		{fmt.Sprintf("AddAddress(%s, %s), a link that does not exist", missing, third), "", fmt.Sprintf("addr %s %s", missing, third)},
		{fmt.Sprintf("AddAddress(%s, %s) again", bl, BastionAddr), "EEXIST", fmt.Sprintf("addr %s %s", bl, BastionAddr)},
		{fmt.Sprintf("AddRoute(%s, %s), a link that does not exist", missing, third), "", fmt.Sprintf("route %s %s", missing, third)},
		{fmt.Sprintf("AddRoute(%s, %s) again", bl, ContainerAddr), "EEXIST", fmt.Sprintf("route %s %s", bl, ContainerAddr)},
	})
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
	Pair     pairInfo
	Calls    []linksOfCall // LinksOf, called in the runner, in order
	OldNet   string        // the container's network namespace, before it ended
	GoneErr  string        // the bastion's wait for its end to vanish: its error
	Refusals []refusal     // LinksOf where the kernel refuses it
	Host     netView
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
	p, err := startPair(ctx, cleanup, true, &r.Pair)
	if err != nil {
		return r, err
	}
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
	return r, linksOfRefused(p.BastionPID(), &r)
}

// linksOfRefused calls LinksOf where the kernel refuses it: a PID that
// does not exist, and, on a thread without CAP_SYS_ADMIN, the bastion,
// whose network namespace that thread may not enter (setns(2): EPERM). A
// LinksOf that needs no privilege may list the bastion's links instead.
func linksOfRefused(bastion int, r *movedReport) error {
	got, err := LinksOf(noPID)
	r.Refusals = append(r.Refusals, refusalOf(fmt.Sprintf("LinksOf(%d), a PID that does not exist", noPID), "ENOENT", got, err))
	var refused error
	if err := lab.WithoutCap(unix.CAP_SYS_ADMIN, func() error {
		got, refused = LinksOf(bastion)
		return nil
	}); err != nil {
		return err
	}
	nocap := refusalOf(fmt.Sprintf("LinksOf(%d), the bastion, on a thread without CAP_SYS_ADMIN", bastion), "", got, refused)
	nocap.Truth = []string{"lo"}
	r.Refusals = append(r.Refusals, nocap)
	return nil
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
