//go:build linux

package network

import (
	"net/netip"
	"slices"
	"strings"
	"testing"

	"github.com/nslab/nslab/pkg/lab/labtest"
)

// TestLabShape checks the steps and the docs page (labtest.CheckLab).
func TestLabShape(t *testing.T) { labtest.CheckLab(t, Lab, 100) }

func TestLinkNames(t *testing.T) {
	b, c := LinkNames()
	b2, _ := LinkNames()
	if b == b2 || !strings.HasPrefix(b, LinkPrefix) || len(b) > 15 || len(c) > 15 || b[:len(b)-1] != c[:len(c)-1] {
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
		{name: "bastion", addr: BastionAddr.Addr().String(), want: true},
		{name: "documentation range of another", addr: "192.0.2.1"},
		{name: "public", addr: "8.8.8.8"},
		{name: "private", addr: "10.0.0.1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Allowed(netip.MustParseAddr(tt.addr)); got != tt.want {
				t.Errorf("Allowed(%s) = %v, want %v", tt.addr, got, tt.want)
			}
		})
	}
	for _, p := range []string{"0.0.0.0/0", "198.0.0.0/8", "10.0.0.1/32"} {
		if AllowedPrefix(netip.MustParsePrefix(p)) {
			t.Errorf("AllowedPrefix(%s) = true; want false, it reaches beyond %s", p, LabNet)
		}
	}
}

func TestParseRoutes(t *testing.T) {
	const head = "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\n"
	labtest.Parses(t, "ParseRoutes", ParseRoutes, []labtest.Parse[[]string]{
		{Name: "empty", Text: head},
		{Name: "host route", Text: head + "nsl1b\t026433C6\t00000000\t0005\t0\t0\t0\tFFFFFFFF\t0\t0\t0\n", Want: []string{"198.51.100.2/32@nsl1b"}},
		{Name: "default", Text: head + "eth0\t00000000\t010200C0\t0003\t0\t0\t0\t00000000\t0\t0\t0\n", Want: []string{"0.0.0.0/0@eth0"}},
		{Name: "short", Text: head + "eth0\t00000000\n", Bad: true},
		{Name: "not hex", Text: head + "eth0\tzz\t0\t0003\t0\t0\t0\t00000000\t0\t0\t0\n", Bad: true},
	})
}

func TestJudgeRefusal(t *testing.T) {
	tests := []struct {
		name string
		r    refusal
		bad  string // a substring of the verdict; "" for none
	}{
		{name: "refused with the errno", r: refusal{What: "X", Want: "EEXIST", Err: "add: file exists", Errno: "EEXIST"}},
		{name: "any error will do", r: refusal{What: "X", Err: "find link x: Link not found", Errno: "-"}},
		{name: "nil", r: refusal{What: "X", Want: "EPERM"}, bad: "no error; want an error (the kernel refuses it with EPERM)"},
		{name: "%v, not %w", r: refusal{What: "X", Want: "EPERM", Err: "set up: operation not permitted", Errno: "-"}, bad: "which wraps no errno; want an error that wraps the kernel's EPERM"},
		{name: "format and arguments swapped", r: refusal{What: "X", Err: "nsl1b%!(EXTRA string=find link %s: %w)", Errno: "-"}, bad: "a text fmt could not format"},
		{name: "the truth, without privilege", r: refusal{What: "X", Truth: []string{"lo"}, Got: []string{"lo"}}},
		{name: "not the truth", r: refusal{What: "X", Truth: []string{"lo"}}, bad: "no error; want an error"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			labtest.FailsWith(t, judgeRefusal(tt.r), tt.bad)
		})
	}
}

func TestJudgeDeviceCase(t *testing.T) {
	tests := []struct {
		name     string
		wantLine int
		readErr  bool
		got      devCase
		bad      string
	}{
		{name: "names", got: devCase{Got: []string{"lo"}}},
		{name: "wrong names", got: devCase{Got: []string{"  lo"}}, bad: `= ["  lo"]`},
		{name: "line named", wantLine: 4, got: devCase{Err: `line 4 has no device name: "x"`}},
		{name: "line counted from 0", wantLine: 4, got: devCase{Err: `line 3 has no device name: "x"`}, bad: `names the line, "line 4"`},
		{name: "line skipped", wantLine: 4, got: devCase{Got: []string{"lo"}}, bad: "no error; want an error"},
		{name: "reader's error wrapped", readErr: true, got: devCase{Err: "read: failed", ReadErr: true}},
		{name: "reader's error dropped", readErr: true, got: devCase{Got: []string{"lo"}}, bad: "no error"},
		{name: "reader's error as text", readErr: true, got: devCase{Err: "read: failed"}, bad: "wraps the reader's own"},
		{name: "format swapped", wantLine: 4, got: devCase{Err: `x%!(EXTRA int=4, string=line %d)`}, bad: `names the line`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			labtest.FailsWith(t, judgeDeviceCase(tt.name, []string{"lo"}, tt.wantLine, tt.readErr, tt.got), tt.bad)
		})
	}
}

func TestMissingOptions(t *testing.T) {
	for opts, want := range map[string][]string{
		"ro,nosuid,nodev,noexec,relatime":   nil,
		"rw,relatime":                       {"ro", "nosuid", "nodev", "noexec"},
		"ro,nodev,noexec":                   {"nosuid"},
		"rootcontext=x,nosuid,nodev,noexec": {"ro"},
	} {
		if got := missingOptions(opts); !slices.Equal(got, want) {
			t.Errorf("missingOptions(%q) = %q; want %q", opts, got, want)
		}
	}
}
