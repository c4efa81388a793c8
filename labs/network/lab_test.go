//go:build linux

package network_test

import (
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/nslab/nslab/labs/network"
)

// TestLabShape checks that the steps are numbered 01.. in order and that the
// docs page has the section every failure message points to.
func TestLabShape(t *testing.T) {
	page, err := os.ReadFile(repoFile(network.Lab.Doc()))
	if err != nil {
		t.Fatal(err)
	}
	total := 0
	for i, s := range network.Lab.Steps {
		if want := fmt.Sprintf("%02d", i+1); s.ID != want {
			t.Errorf("step %d has ID %q, want %q", i, s.ID, want)
		}
		anchor := fmt.Sprintf("<a id=%q></a>", s.AnchorID())
		heading := fmt.Sprintf("## Step %s: %s", s.ID, s.Title)
		if !strings.Contains(string(page), anchor+"\n"+heading+"\n") {
			t.Errorf("%s has no %q followed by %q", network.Lab.Doc(), anchor, heading)
		}
		if s.Run == nil || s.Explain == "" || len(s.Hints) == 0 || s.Points <= 0 {
			t.Errorf("step %s lacks a Run, an Explain, hints or points", s.ID)
		}
		total += s.Points
	}
	if total != 100 {
		t.Errorf("the lab is worth %d points, want 100", total)
	}
}

// repoFile finds path from the repository root through this file's source
// path, so that a test binary run from another directory finds it too.
func repoFile(path string) string {
	_, self, _, ok := runtime.Caller(0)
	if !ok {
		return filepath.Join("..", "..", path)
	}
	return filepath.Join(filepath.Dir(self), "..", "..", path)
}

func TestLinkNames(t *testing.T) {
	b, c := network.LinkNames()
	b2, _ := network.LinkNames()
	if b == b2 || !strings.HasPrefix(b, network.LinkPrefix) || len(b) > 15 || len(c) > 15 || b[:len(b)-1] != c[:len(c)-1] {
		t.Errorf("LinkNames() = %q, %q, then %q; want two names of one run, different each run, at most 15 bytes", b, c, b2)
	}
}

func TestAllowed(t *testing.T) {
	tests := []struct {
		name string
		addr string
		want bool
	}{
		{name: "loopback", addr: "127.0.0.1", want: true},
		{name: "bastion", addr: network.BastionAddr.Addr().String(), want: true},
		{name: "documentation range of another", addr: "192.0.2.1"},
		{name: "public", addr: "8.8.8.8"},
		{name: "private", addr: "10.0.0.1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := network.Allowed(netip.MustParseAddr(tt.addr)); got != tt.want {
				t.Errorf("Allowed(%s) = %v, want %v", tt.addr, got, tt.want)
			}
		})
	}
	for _, p := range []string{"0.0.0.0/0", "198.0.0.0/8", "10.0.0.1/32"} {
		if network.AllowedPrefix(netip.MustParsePrefix(p)) {
			t.Errorf("AllowedPrefix(%s) = true; want false, it reaches beyond %s", p, network.LabNet)
		}
	}
}

func TestParseRoutes(t *testing.T) {
	const head = "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\n"
	tests := []struct {
		name, text string
		want       []string
		bad        bool
	}{
		{name: "empty", text: head},
		{name: "host route", text: head + "nsl1b\t026433C6\t00000000\t0005\t0\t0\t0\tFFFFFFFF\t0\t0\t0\n", want: []string{"198.51.100.2/32@nsl1b"}},
		{name: "default", text: head + "eth0\t00000000\t010200C0\t0003\t0\t0\t0\t00000000\t0\t0\t0\n", want: []string{"0.0.0.0/0@eth0"}},
		{name: "short", text: head + "eth0\t00000000\n", bad: true},
		{name: "not hex", text: head + "eth0\tzz\t0\t0003\t0\t0\t0\t00000000\t0\t0\t0\n", bad: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := network.ParseRoutes(tt.text)
			if (err != nil) != tt.bad || !slices.Equal(got, tt.want) {
				t.Errorf("ParseRoutes(%q) = %v, %v; want %v, error %v", tt.text, got, err, tt.want, tt.bad)
			}
		})
	}
}
