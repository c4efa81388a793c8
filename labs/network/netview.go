//go:build linux

package network

import (
	"fmt"
	"net"
	"slices"
	"strings"

	"github.com/vishvananda/netlink"
)

// netView is what one network namespace holds, read with netlink on the
// calling thread: the runner reads its own (the lab host's) after a step,
// and the harness reads a lab process's by visiting its namespace (check.go).
// It uses none of the learner's code.
type netView struct {
	Links  []linkInfo // sorted by name
	Addrs  []string   // IPv4 addresses, "LINK=ADDR/BITS", sorted
	Routes []string   // IPv4 routes of the main table, "DST/BITS@LINK", sorted
}

// linkInfo is one link of a netView.
type linkInfo struct {
	Name string
	Type string // "veth", "device" for lo
	Up   bool   // administratively up (IFF_UP)
}

// readNet reads the network namespace of the calling thread.
func readNet() (v netView, err error) {
	h, err := netlink.NewHandle()
	if err != nil {
		return v, fmt.Errorf("open a netlink handle: %w", err)
	}
	defer h.Close()
	ls, err := h.LinkList()
	if err != nil {
		return v, fmt.Errorf("list links: %w", err)
	}
	names := map[int]string{}
	for _, l := range ls {
		a := l.Attrs()
		names[a.Index] = a.Name
		v.Links = append(v.Links, linkInfo{Name: a.Name, Type: l.Type(), Up: a.Flags&net.FlagUp != 0})
	}
	slices.SortFunc(v.Links, func(a, b linkInfo) int { return strings.Compare(a.Name, b.Name) })
	as, err := h.AddrList(nil, netlink.FAMILY_V4)
	if err != nil {
		return v, fmt.Errorf("list addresses: %w", err)
	}
	for _, a := range as {
		v.Addrs = append(v.Addrs, names[a.LinkIndex]+"="+a.IPNet.String())
	}
	slices.Sort(v.Addrs)
	rs, err := h.RouteList(nil, netlink.FAMILY_V4)
	if err != nil {
		return v, fmt.Errorf("list routes: %w", err)
	}
	for _, r := range rs {
		dst := "default"
		if r.Dst != nil {
			dst = r.Dst.String()
		}
		v.Routes = append(v.Routes, dst+"@"+names[r.LinkIndex])
	}
	slices.Sort(v.Routes)
	return v, nil
}

// linkNames returns the names of the links, sorted.
func (v netView) linkNames() []string {
	out := make([]string, len(v.Links))
	for i, l := range v.Links {
		out[i] = l.Name
	}
	return out
}

// link returns the link called name.
func (v netView) link(name string) (linkInfo, bool) {
	i := slices.IndexFunc(v.Links, func(l linkInfo) bool { return l.Name == name })
	if i < 0 {
		return linkInfo{}, false
	}
	return v.Links[i], true
}

// labHostChanges lists how v, the lab host's own network namespace, differs
// from a fresh one: lo up and no other link, no address but 127.0.0.1/8 on
// lo, no route in the main table.
func labHostChanges(v netView) []string {
	var out []string
	lo, ok := v.link("lo")
	switch {
	case !ok:
		out = append(out, "lo is gone")
	case !lo.Up:
		out = append(out, "lo is down")
	}
	for _, l := range v.Links {
		if l.Name != "lo" {
			out = append(out, fmt.Sprintf("it holds link %s (%s)", l.Name, l.Type))
		}
	}
	for _, a := range v.Addrs {
		if a != "lo=127.0.0.1/8" {
			out = append(out, "it has address "+a)
		}
	}
	for _, r := range v.Routes {
		out = append(out, "it has route "+r)
	}
	return out
}
