package pid_test

import (
	"slices"
	"testing"

	"github.com/nslab/nslab/labs/pid"
)

func TestStatusField(t *testing.T) {
	const status = "Name:\tcat\nState:\tS (sleeping)\nNSpid:\t4242\t1\nSigCgt:\t0000000000004002\n"
	tests := []struct {
		name, field, want string
		ok                bool
	}{
		{name: "nspid", field: "NSpid", want: "4242\t1", ok: true},
		{name: "state", field: "State", want: "S (sleeping)", ok: true},
		{name: "missing", field: "SigIgn"},
		{name: "prefix is not a field", field: "NS"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := pid.StatusField(status, tt.field)
			if got != tt.want || ok != tt.ok {
				t.Errorf("StatusField(%q) = %q, %v; want %q, %v", tt.field, got, ok, tt.want, tt.ok)
			}
		})
	}
}

func TestNSpidOf(t *testing.T) {
	tests := []struct {
		name, status string
		want         []int
	}{
		{name: "three levels", status: "NSpid:\t300\t20\t1\n", want: []int{300, 20, 1}},
		{name: "host", status: "Pid:\t7\nNSpid:\t7\n", want: []int{7}},
		{name: "missing", status: "Pid:\t7\n"},
		{name: "zero", status: "NSpid:\t0\n"},
		{name: "word", status: "NSpid:\tone\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := pid.NSpidOf(tt.status)
			if !slices.Equal(got, tt.want) || (err != nil) != (tt.want == nil) {
				t.Errorf("NSpidOf(%q) = %v, %v; want %v", tt.status, got, err, tt.want)
			}
		})
	}
}

func TestSigMask(t *testing.T) {
	tests := []struct {
		name, hex string
		want      uint64
		bad       bool
	}{
		{name: "sleep", hex: "0000000000000000", want: 0},
		{name: "go runtime", hex: "fffffffffffffeff", want: 0xfffffffffffffeff},
		{name: "SIGTERM", hex: "0000000000004000\n", want: 1 << 14},
		{name: "junk", hex: "xyz", bad: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := pid.SigMask(tt.hex)
			if got != tt.want || (err != nil) != tt.bad {
				t.Errorf("SigMask(%q) = %#x, %v; want %#x, error %v", tt.hex, got, err, tt.want, tt.bad)
			}
		})
	}
}

func TestParseStat(t *testing.T) {
	tests := []struct {
		name, text string
		want       pid.Stat
		bad        bool
	}{
		{name: "zombie", text: "11 (cat) Z 1 11 1 0 -1 4227084 0 0\n", want: pid.Stat{Comm: "cat", State: 'Z', PPID: 1}},
		{name: "blanks and parens in comm", text: "5 (a (b) c) S 4 5 5 0", want: pid.Stat{Comm: "a (b) c", State: 'S', PPID: 4}},
		{name: "no comm", text: "5 S 4", bad: true},
		{name: "short", text: "5 (x) S", bad: true},
		{name: "bad parent", text: "5 (x) S y", bad: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := pid.ParseStat(tt.text)
			if got != tt.want || (err != nil) != tt.bad {
				t.Errorf("ParseStat(%q) = %+v, %v; want %+v, error %v", tt.text, got, err, tt.want, tt.bad)
			}
		})
	}
}
