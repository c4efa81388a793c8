//go:build linux

package network_test

import (
	"net/netip"
	"slices"
	"strings"
	"testing"

	"github.com/nslab/nslab/labs/network"
	"github.com/nslab/nslab/pkg/lab/labtest"
)

// TestLabShape checks the steps and the docs page (labtest.CheckLab).
func TestLabShape(t *testing.T) { labtest.CheckLab(t, network.Lab, 100) }

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
