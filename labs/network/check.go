//go:build linux

package network

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/nslab/nslab/pkg/lab"
	"github.com/nslab/nslab/pkg/ns"
)

// The check halves of the steps: in the harness, they narrate the reports
// of run.go, verify them against the kernel where it still holds the facts
// (the holders are alive until the check is over: their network namespaces
// are visited with netlink, their mounts read through /proc/PID/root), and
// return what the kernel was expected to do and did not. Every step also
// checks that the lab host's own network namespace, the runner's, is as the
// lab host made it: the learner's code acts only in namespaces the lab made.

func checkLoopback(c *lab.Check, r loopbackReport) error {
	if err := c.NewKindsOnly(r.Holder, "holder", ns.Net); err != nil {
		return err
	}
	if err := hostKept(c, r.Host); err != nil {
		return err
	}
	c.Say("in the new namespace: links %v, lo is %s", r.LinksBefore, r.LoBefore)
	if !slices.Equal(r.LinksBefore, []string{"lo"}) || r.LoBefore != "down" {
		return c.Failf("a new network namespace should hold lo alone, down; got %v, lo %s", r.LinksBefore, r.LoBefore)
	}
	c.Say("TCP to 127.0.0.1 with lo down: %s", lab.Or(r.TCPBefore, "connected"))
	if r.TCPBefore == "" {
		return c.Failf("TCP on 127.0.0.1 worked in the new namespace with lo down; want it to fail")
	}
	if r.LoopbackErr != "" {
		return c.Failf("LoopbackUp() in the new namespace: %s; want lo up", r.LoopbackErr)
	}
	if r.LoAfter != "up" {
		return c.Failf("after LoopbackUp(), lo of the holder's network namespace is %s; want up (IFF_UP, set on the link of the caller's own namespace)", r.LoAfter)
	}
	if r.TCPAfterErr != "" {
		return c.Failf("after LoopbackUp(), TCP from 127.0.0.1 to 127.0.0.1 in the namespace: %s; want a connection", r.TCPAfterErr)
	}
	own, err := netID(c, r.Holder)
	if err != nil {
		return err
	}
	c.Say("after LoopbackUp(): the server on 127.0.0.1 answered from %v", r.TCPAfter)
	if len(r.TCPAfter) != 2 || r.TCPAfter[0] != own.String() {
		return c.Failf("the server on 127.0.0.1 answered %v; want it to answer from the holder's network namespace %s", r.TCPAfter, own)
	}
	v, ok, err := visitNet(c, r.Holder)
	if err != nil {
		return err
	}
	if lo, _ := v.link("lo"); ok && (!slices.Equal(v.linkNames(), []string{"lo"}) || !lo.Up) {
		return c.Failf("seen from outside, the holder's network namespace holds %v, lo up %v; want lo alone, up", v.linkNames(), lo.Up)
	}
	c.Check(true, "lo is up and TCP on 127.0.0.1 stays inside %s", own)
	return checkLoopbackRefused(c, r)
}

// checkLoopbackRefused checks LoopbackUp where the kernel refuses it, in
// the second holder: without CAP_NET_ADMIN, and without a link called lo.
func checkLoopbackRefused(c *lab.Check, r loopbackReport) error {
	c.Say("in a second new network namespace (PID %d):", r.Other)
	if err := checkRefusals(c, r.Refusals, 2); err != nil {
		return err
	}
	if r.OtherLo != "down" || !slices.Equal(r.OtherLinks, []string{renamedLo}) {
		return c.Failf("after LoopbackUp() without CAP_NET_ADMIN lo was %s, and the namespace holds %v at the end; want lo down (the kernel refused), then %v alone", r.OtherLo, r.OtherLinks, []string{renamedLo})
	}
	v, ok, err := visitNet(c, r.Other)
	if err != nil {
		return err
	}
	if l, _ := v.link(renamedLo); ok && (!slices.Equal(v.linkNames(), []string{renamedLo}) || l.Up) {
		return c.Failf("seen from outside, the second holder's network namespace holds %v, %s up %v; want %s alone, down", v.linkNames(), renamedLo, l.Up, renamedLo)
	}
	return nil
}

func checkOwnDevices(c *lab.Check, r ownDevicesReport) error {
	if err := hostKept(c, r.Host); err != nil {
		return err
	}
	wantA, wantB := sorted("lo", r.X, r.Y), []string{"lo"}
	c.Say("in A (PID %d) the lab made a veth pair %s/%s; B (PID %d) has lo only", r.A, r.X, r.Y, r.B)
	if r.DevErr != "" {
		return c.Failf("%s; want the device names", r.DevErr)
	}
	c.Say("/proc/net/dev read in A: %v; in B: %v; in the lab host: %v", r.DevA, r.DevB, r.HostDev)
	if !slices.Equal(r.DevA, wantA) || !slices.Equal(r.DevB, wantB) {
		return c.Failf("DeviceNames(/proc/net/dev) read in A = %q, in B = %q; want %q in A and %q in B (each reader's own devices: the names without spaces or colon, sorted)", r.DevA, r.DevB, wantA, wantB)
	}
	if !slices.Equal(r.HostDev, r.HostLinks) {
		return c.Failf("DeviceNames(/proc/net/dev) in the lab host = %q; want %q, its links", r.HostDev, r.HostLinks)
	}
	if err := checkDeviceCases(c, r.Cases); err != nil {
		return err
	}
	for _, h := range []struct {
		pid  int
		want []string
	}{{r.A, wantA}, {r.B, wantB}} {
		v, ok, err := visitNet(c, h.pid)
		if err != nil {
			return err
		}
		if ok && !slices.Equal(v.linkNames(), h.want) {
			return c.Failf("seen from outside, PID %d's network namespace holds %v; want %v", h.pid, v.linkNames(), h.want)
		}
	}
	c.Check(true, "/proc/net/dev shows the reader's own namespace")
	return checkSysfs(c, r, wantA, wantB)
}

// checkDeviceCases checks DeviceNames on the texts of devTexts.
func checkDeviceCases(c *lab.Check, cases []devCase) error {
	if len(cases) != len(devTexts) {
		return c.Failf("the report has %d DeviceNames cases; want %d", len(cases), len(devTexts))
	}
	for i, t := range devTexts {
		if err := judgeDeviceCase(t.name, t.want, t.wantLine, t.readErr, cases[i]); err != nil {
			return c.Failf("%v", err)
		}
		c.Check(true, "DeviceNames of %s: %s", t.name, lab.Or(cases[i].Err, fmt.Sprint(cases[i].Got)))
	}
	return nil
}

// judgeDeviceCase is the verdict on DeviceNames of one text of devTexts.
func judgeDeviceCase(name string, want []string, wantLine int, readErr bool, got devCase) error {
	line := fmt.Sprintf("line %d", wantLine)
	switch {
	case wantLine == 0 && !readErr && (got.Err != "" || !slices.Equal(got.Got, want)):
		return fmt.Errorf("DeviceNames of %s = %q (error: %s); want %q (the names without spaces or colon, sorted)", name, got.Got, lab.Or(got.Err, "none"), want)
	case (wantLine != 0 || readErr) && got.Err == "":
		return fmt.Errorf("DeviceNames of %s = %q and no error; want an error: never skip a line that is not a device, nor drop the scanner's error (sc.Err())", name, got.Got)
	case readErr && !got.ReadErr:
		return fmt.Errorf("DeviceNames of %s returned %q; want an error that wraps the reader's own (fmt.Errorf with %%w of sc.Err()), so that errors.Is finds it", name, got.Err)
	case wantLine != 0 && !strings.Contains(got.Err, line):
		return fmt.Errorf("DeviceNames of %s returned %q; want an error that names the line, %q (lines count from 1, the two headers included)", name, got.Err, line)
	case strings.Contains(got.Err, "%!"):
		return fmt.Errorf("DeviceNames of %s returned %q, a text fmt could not format (%%!: a verb without its value, or a value without its verb); want a readable error: check the order of fmt.Errorf's format and arguments", name, got.Err)
	}
	return nil
}

// checkSysfs checks the sysfs mounts of A and B.
func checkSysfs(c *lab.Check, r ownDevicesReport, wantA, wantB []string) error {
	if err := checkRefusals(c, []refusal{r.Missing}, 1); err != nil {
		return err
	}
	if r.MountErr != "" {
		return c.Failf("%s; want a new sysfs mounted there", r.MountErr)
	}
	c.Say("sysfs mounted on %s: class/net in A lists %v, in B %v", r.Dir, r.SysA, r.SysB)
	if !slices.Equal(r.SysA, wantA) || !slices.Equal(r.SysB, wantB) {
		return c.Failf("a fresh sysfs on %s lists %v in A and %v in B; want %v in A and %v in B (sysfs shows the network namespace of the process that mounted it)", r.Dir, r.SysA, r.SysB, wantA, wantB)
	}
	c.Say("the options of the mounts on %s: %s in A, %s in B", r.Dir, r.OptsA, r.OptsB)
	for _, opts := range []string{r.OptsA, r.OptsB} {
		if missing := missingOptions(opts); len(missing) > 0 {
			return c.Failf("a sysfs on %s mounted with options %s, without %s; want it ro, nosuid, nodev and noexec (MS_RDONLY|MS_NOSUID|MS_NODEV|MS_NOEXEC, or-ed together)", r.Dir, opts, strings.Join(missing, ", "))
		}
	}
	if len(r.HostDir) != 0 {
		return c.Failf("the lab host sees %s holding %v; want it empty (each holder mounts sysfs in its own mount namespace)", r.Dir, r.HostDir)
	}
	if err := sysfsFromOutside(c, r, wantA, wantB); err != nil {
		return err
	}
	c.Check(true, "each sysfs shows its mounter's namespace; the lab host sees %s empty", r.Dir)
	return nil
}

// sysfsOptions are the per-mount options MountSysfs must set.
var sysfsOptions = []string{"ro", "nosuid", "nodev", "noexec"}

// missingOptions lists those of sysfsOptions that opts, "ro,nosuid,relatime", lacks.
func missingOptions(opts string) []string {
	have := strings.Split(opts, ",")
	var out []string
	for _, o := range sysfsOptions {
		if !slices.Contains(have, o) {
			out = append(out, o)
		}
	}
	return out
}

// sysfsFromOutside reads the two sysfs mounts and the lab host's mount
// point through /proc/PID/root, which resolves paths in that process's
// mount namespace. A harness that may not read them skips this.
func sysfsFromOutside(c *lab.Check, r ownDevicesReport, wantA, wantB []string) error {
	for _, h := range []struct {
		pid  int
		dir  string
		want []string
	}{{r.A, "class/net", wantA}, {r.B, "class/net", wantB}, {c.Runner, "", nil}} {
		path := filepath.Join(c.ProcDir(h.pid), "root", r.Dir, h.dir)
		entries, err := os.ReadDir(path)
		if errors.Is(err, os.ErrPermission) {
			return nil
		}
		if err != nil {
			return c.Failf("read %s in PID %d's mount namespace: %v", filepath.Join(r.Dir, h.dir), h.pid, err)
		}
		var got []string
		for _, e := range entries {
			got = append(got, e.Name())
		}
		if !slices.Equal(got, h.want) {
			return c.Failf("seen from outside, %s in PID %d's mount namespace lists %v; want %v", filepath.Join(r.Dir, h.dir), h.pid, got, h.want)
		}
	}
	return nil
}

func checkVeth(c *lab.Check, r vethReport) error {
	if err := pairTable(c, r.Pair, false); err != nil {
		return err
	}
	if err := hostKept(c, r.Host); err != nil {
		return err
	}
	bl, cl, ct := r.Pair.BastionLink, r.Pair.ContainerLink, r.Pair.Container
	if r.CreateErr != "" {
		return c.Failf("%s; want a veth pair", r.CreateErr)
	}
	c.Say("CreateVeth(%s, %s): the bastion's links are %v (%s is a %s)", bl, cl, r.AfterCreate, bl, lab.Or(r.Kind, "missing link"))
	if !slices.Equal(r.AfterCreate, sorted("lo", bl, cl)) || r.Kind != "veth" {
		return c.Failf("after CreateVeth(%s, %s) the bastion holds %v (%s is a %q); want lo and the veth pair %s/%s", bl, cl, r.AfterCreate, bl, r.Kind, bl, cl)
	}
	if r.MoveErr != "" {
		return c.Failf("%s; want the link moved into the container's network namespace", r.MoveErr)
	}
	c.Say("MoveLink(%s, %d): the bastion's links are %v, the container's %v", cl, ct, r.BastionLinks, r.ContainerLinks)
	if !slices.Equal(r.BastionLinks, sorted("lo", bl)) || !slices.Equal(r.ContainerLinks, sorted("lo", cl)) {
		return c.Failf("after MoveLink(%s, %d) the bastion holds %v and the container %v; want [lo %s] in the bastion and [lo %s] in the container", cl, ct, r.BastionLinks, r.ContainerLinks, bl, cl)
	}
	for _, side := range []struct {
		who  string
		pid  int
		link string
	}{{"bastion", r.Pair.Bastion, bl}, {"container", ct, cl}} {
		v, ok, err := visitNet(c, side.pid)
		if err != nil {
			return err
		}
		l, _ := v.link(side.link)
		if ok && (!slices.Equal(v.linkNames(), sorted("lo", side.link)) || l.Type != "veth") {
			return c.Failf("seen from outside, the %s's network namespace holds %v (%s: %q); want lo and the veth end %s", side.who, v.linkNames(), side.link, l.Type, side.link)
		}
	}
	c.Check(true, "one end in each namespace: %s left the bastion when it moved", cl)
	return checkRefusals(c, r.Refusals, 4)
}

func checkTraffic(c *lab.Check, r trafficReport) error {
	if err := pairTable(c, r.Pair, false); err != nil {
		return err
	}
	if err := hostKept(c, r.Host); err != nil {
		return err
	}
	bl, cl := r.Pair.BastionLink, r.Pair.ContainerLink
	c.Say("the lab made the veth pair: %s in the bastion, %s in the container", bl, cl)
	if r.AddrErr != "" {
		return c.Failf("%s; want the address on the link, and the link up", r.AddrErr)
	}
	c.Say("addresses: bastion %v (%s %s), container %v (%s %s)", r.AddrsB, bl, r.StateB, r.AddrsC, cl, r.StateC)
	wb, wc := bl+"="+BastionAddr.String(), cl+"="+ContainerAddr.String()
	if !slices.Equal(r.AddrsB, []string{wb}) || !slices.Equal(r.AddrsC, []string{wc}) || r.StateB != "up" || r.StateC != "up" {
		return c.Failf("the bastion has %v (%s %s), the container %v (%s %s); want %s in the bastion and %s in the container, both links up", r.AddrsB, bl, r.StateB, r.AddrsC, cl, r.StateC, wb, wc)
	}
	c.Say("the container connects to %s before any route: %s", BastionAddr.Addr(), lab.Or(r.NoRoute, "connected"))
	if !r.NoRouteUnreach {
		return c.Failf("with only /32 addresses the container should have no route to %s (ENETUNREACH); got %s", BastionAddr.Addr(), lab.Or(r.NoRoute, "a connection"))
	}
	if r.RouteErr != "" {
		return c.Failf("%s; want the route", r.RouteErr)
	}
	c.Say("/proc/net/route: bastion %v, container %v", r.RoutesB, r.RoutesC)
	rb, rc := ContainerAddr.String()+"@"+bl, BastionAddr.String()+"@"+cl
	if !slices.Contains(r.RoutesB, rb) || !slices.Contains(r.RoutesC, rc) {
		return c.Failf("want a route %s in the bastion and %s in the container; got %v and %v", rb, rc, r.RoutesB, r.RoutesC)
	}
	if err := checkTCP(c, r.TCP); err != nil {
		return err
	}
	if err := trafficFromOutside(c, r, wb, wc); err != nil {
		return err
	}
	c.Check(true, "TCP flows both ways over the veth pair")
	return checkRefusals(c, r.Refusals, 4)
}

// checkTCP checks the TCP connections of step 04, one each way.
func checkTCP(c *lab.Check, tcp []tcpResult) error {
	if len(tcp) != 2 {
		return c.Failf("the step made %d TCP connections; want 2, one each way", len(tcp))
	}
	for _, t := range tcp {
		client := ContainerAddr.Addr()
		if t.Server == "container" {
			client = BastionAddr.Addr()
		}
		if t.Err != "" {
			return c.Failf("TCP to the %s: %s; want a connection", t.Server, t.Err)
		}
		want, err := netID(c, t.PID)
		if err != nil {
			return err
		}
		c.Say("TCP to the %s: it answered from %s and saw the client at %s", t.Server, t.Netns, t.From)
		if t.Netns != want.String() || t.From != client.String() {
			return c.Failf("the %s should answer from %s and see %s; got %s and %s", t.Server, want, client, t.Netns, t.From)
		}
	}
	return nil
}

// trafficFromOutside visits both sides' network namespaces: wb and wc are
// the addresses each must hold ("LINK=ADDR/BITS").
func trafficFromOutside(c *lab.Check, r trafficReport, wb, wc string) error {
	bl, cl := r.Pair.BastionLink, r.Pair.ContainerLink
	for _, side := range []struct {
		who, link, addr, route string
		pid                    int
	}{{"bastion", bl, wb, ContainerAddr.String() + "@" + bl, r.Pair.Bastion}, {"container", cl, wc, BastionAddr.String() + "@" + cl, r.Pair.Container}} {
		v, ok, err := visitNet(c, side.pid)
		if err != nil {
			return err
		}
		l, _ := v.link(side.link)
		if ok && (!slices.Equal(v.Addrs, []string{"lo=127.0.0.1/8", side.addr}) && !slices.Equal(v.Addrs, []string{side.addr}) || !slices.Contains(v.Routes, side.route) || !l.Up) {
			return c.Failf("seen from outside, the %s's network namespace has addresses %v, routes %v, %s up %v; want %s, a route %s, the link up", side.who, v.Addrs, v.Routes, side.link, l.Up, side.addr, side.route)
		}
	}
	return nil
}

func checkMovedAndGone(c *lab.Check, r movedReport) error {
	if err := pairTable(c, r.Pair, r.OldNet != ""); err != nil {
		return err
	}
	if err := hostKept(c, r.Host); err != nil {
		return err
	}
	for i, call := range r.Calls {
		if i == 3 {
			if err := gone(c, r); err != nil {
				return err
			}
		}
		if i < 3 && (i == 0 || r.Calls[i-1].When != call.When) { // gone says what came before the last
			c.Say("%s", call.When)
		}
		if call.Err != "" {
			return c.Failf("LinksOf(%d), the %s: %s; want its links %v", call.PID, call.Who, call.Err, call.Want)
		}
		c.Say("LinksOf(%d), the %s: %v", call.PID, call.Who, call.Got)
		if !slices.Equal(call.Got, call.Want) {
			return c.Failf("LinksOf(%d) should list the %s's links %v; got %v", call.PID, call.Who, call.Want, call.Got)
		}
	}
	if len(r.Calls) == 3 {
		if err := gone(c, r); err != nil {
			return err
		}
	}
	if len(r.Calls) != 4 {
		return c.Failf("the step called LinksOf %d times; want 4", len(r.Calls))
	}
	v, ok, err := visitNet(c, r.Pair.Bastion)
	if err != nil {
		return err
	}
	if ok && !slices.Equal(v.linkNames(), []string{"lo"}) {
		return c.Failf("seen from outside, the bastion's network namespace still holds %v; want lo alone", v.linkNames())
	}
	c.Check(true, "the veth pair ended with the container's namespace")
	return checkRefusals(c, r.Refusals, 2)
}

// gone checks that the bastion's end vanished when the container ended.
func gone(c *lab.Check, r movedReport) error {
	c.Say("the container, the last process of %s, exited", r.OldNet)
	if r.GoneErr != "" {
		return c.Failf("%s should vanish from the bastion with its peer's namespace: %s (does something, such as an unclosed namespace handle, keep %s alive?)", r.Pair.BastionLink, r.GoneErr, r.OldNet)
	}
	return nil
}

// pairTable narrates the namespaces of the runner, the bastion and the container.
// The container's are read from outside unless it has ended (step 05):
// then they are the ones the runner read when it started.
func pairTable(c *lab.Check, p pairInfo, containerEnded bool) error {
	host, err1 := c.Host()
	bs, err2 := c.NS(p.Bastion)
	cs, err3 := p.ContainerSet, error(nil)
	if !containerEnded {
		cs, err3 = c.NS(p.Container)
	}
	if err := errors.Join(err1, err2, err3); err != nil {
		return err
	}
	c.Table(lab.Column{Title: fmt.Sprintf("lab host (PID %d)", host.PID), Set: host},
		lab.Column{Title: fmt.Sprintf("bastion (PID %d)", p.Bastion), Set: bs},
		lab.Column{Title: fmt.Sprintf("container (PID %d)", p.Container), Set: cs})
	return nil
}

// hostKept checks that the lab host's own network namespace, the runner's,
// is as the lab host made it (lo up, nothing else): as the runner reported
// it after the step, and as the harness sees it by visiting it (as root).
// Code that configured its parent's network namespace instead of its own
// fails here; on the machine itself it would have changed the machine's.
func hostKept(c *lab.Check, reported netView) error {
	changes := labHostChanges(reported)
	if len(changes) == 0 {
		v, ok, err := visitNet(c, c.Runner)
		if err != nil {
			return err
		}
		if ok {
			changes = labHostChanges(v)
		}
	}
	if len(changes) > 0 {
		return c.Failf("the lab host's own network namespace (the runner's, PID %d) changed: %s; want it as the lab host made it, lo up and nothing else: the step's code configured its parent's network namespace, not one the lab made for it", c.Runner, strings.Join(changes, ", "))
	}
	return nil
}

// visitNet reads the network namespace of process pid of the lab host from
// the harness; ok is false when the harness may not visit (not root).
func visitNet(c *lab.Check, pid int) (v netView, ok bool, err error) {
	err = c.Do(pid, []ns.Kind{ns.Net}, func() error {
		var err error
		v, err = readNet()
		return err
	})
	switch {
	case errors.Is(err, lab.ErrNoVisit):
		return v, false, nil
	case err != nil:
		return v, false, fmt.Errorf("visit the network namespace of PID %d: %w", pid, err)
	}
	return v, true, nil
}

// netID reads the network namespace of process pid of the lab host.
func netID(c *lab.Check, pid int) (ns.ID, error) {
	s, err := c.NS(pid)
	if err != nil {
		return ns.ID{}, err
	}
	id, ok := s.Get(ns.Net)
	if !ok {
		return ns.ID{}, fmt.Errorf("PID %d has no network namespace in /proc", pid)
	}
	return id, nil
}

func sorted(names ...string) []string {
	slices.Sort(names)
	return names
}
