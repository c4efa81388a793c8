//go:build linux

package user_test

import (
	"slices"
	"testing"

	"github.com/nslab/nslab/labs/user"
	"github.com/nslab/nslab/pkg/lab/labtest"
	"github.com/nslab/nslab/pkg/spawn"
)

// TestLabShape checks the steps and the docs page (labtest.CheckLab), and
// that the lab is known by its name and test function.
func TestLabShape(t *testing.T) {
	labtest.CheckLab(t, user.Lab, 50)
	if user.Lab.TestFunc() != "TestUser" {
		t.Errorf("TestFunc() = %q, want TestUser", user.Lab.TestFunc())
	}
}

func TestParseStatus(t *testing.T) {
	const full = "Name:\tcat\nUid:\t65534\t65534\t65534\t65534\nGid:\t100\t101\t102\t103\nCapInh:\t0000000000000000\nCapEff:\t000001ffffffffff\n"
	tests := []struct {
		name    string
		text    string
		want    user.Status
		wantErr bool
	}{
		{name: "status", text: full, want: user.Status{UID: 65534, EUID: 65534, GID: 100, CapEff: 0x1ffffffffff}},
		{name: "no CapEff", text: "Uid:\t0\t0\t0\t0\nGid:\t0\t0\t0\t0\n", wantErr: true},
		{name: "short Uid", text: "Uid:\t0\t0\nGid:\t0\t0\t0\t0\nCapEff:\t0\n", wantErr: true},
		{name: "bad caps", text: "Uid:\t0\t0\t0\t0\nGid:\t0\t0\t0\t0\nCapEff:\tzz\n", wantErr: true},
		{name: "empty", text: "", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := user.ParseStatus(tt.text)
			if (err != nil) != tt.wantErr || (!tt.wantErr && got != tt.want) {
				t.Errorf("ParseStatus(%q) = %+v, %v; want %+v, error %v", tt.text, got, err, tt.want, tt.wantErr)
			}
		})
	}
}

func TestParseIDMap(t *testing.T) {
	tests := []struct {
		name    string
		text    string
		want    []spawn.IDMap
		wantErr bool
	}{
		{name: "unwritten", text: "", want: nil},
		{name: "root", text: "         0      65534          1\n", want: []spawn.IDMap{{ContainerID: 0, HostID: 65534, Size: 1}}},
		{name: "two lines", text: "0 0 1\n1 100001 65535\n", want: []spawn.IDMap{{ContainerID: 0, HostID: 0, Size: 1}, {ContainerID: 1, HostID: 100001, Size: 65535}}},
		{name: "initial", text: "0 0 4294967295\n", want: []spawn.IDMap{{ContainerID: 0, HostID: 0, Size: 4294967295}}},
		{name: "two fields", text: "0 1\n", wantErr: true},
		{name: "negative", text: "0 -1 1\n", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := user.ParseIDMap(tt.text)
			if (err != nil) != tt.wantErr || !slices.Equal(got, tt.want) {
				t.Errorf("ParseIDMap(%q) = %v, %v; want %v, error %v", tt.text, got, err, tt.want, tt.wantErr)
			}
		})
	}
}
