//go:build linux

package user

import (
	"slices"
	"strings"
	"testing"

	"github.com/nslab/nslab/pkg/lab/labtest"
	"github.com/nslab/nslab/pkg/spawn"
)

// TestLabShape checks the steps and the docs page (labtest.CheckLab), and
// that the lab is known by its name and test function.
func TestLabShape(t *testing.T) {
	labtest.CheckLab(t, Lab, 50)
	if Lab.TestFunc() != "TestUser" {
		t.Errorf("TestFunc() = %q, want TestUser", Lab.TestFunc())
	}
}

func TestParseStatus(t *testing.T) {
	const full = "Name:\tcat\nUid:\t65534\t65534\t65534\t65534\nGid:\t100\t101\t102\t103\nCapInh:\t0000000000000000\nCapEff:\t000001ffffffffff\n"
	tests := []struct {
		name    string
		text    string
		want    Status
		wantErr bool
	}{
		{name: "status", text: full, want: Status{UID: 65534, EUID: 65534, GID: 100, CapEff: 0x1ffffffffff}},
		{name: "no CapEff", text: "Uid:\t0\t0\t0\t0\nGid:\t0\t0\t0\t0\n", wantErr: true},
		{name: "short Uid", text: "Uid:\t0\t0\nGid:\t0\t0\t0\t0\nCapEff:\t0\n", wantErr: true},
		{name: "bad caps", text: "Uid:\t0\t0\t0\t0\nGid:\t0\t0\t0\t0\nCapEff:\tzz\n", wantErr: true},
		{name: "empty", text: "", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseStatus(tt.text)
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
			got, err := ParseIDMap(tt.text)
			if (err != nil) != tt.wantErr || !slices.Equal(got, tt.want) {
				t.Errorf("ParseIDMap(%q) = %v, %v; want %v, error %v", tt.text, got, err, tt.want, tt.wantErr)
			}
		})
	}
}

// judgedAs checks that a judge passes (want "") or fails with want in its message.
func judgedAs(t *testing.T, err error, want string) {
	t.Helper()
	switch {
	case want == "" && err != nil:
		t.Errorf("got %v; want it to pass", err)
	case want != "" && (err == nil || !strings.Contains(err.Error(), want)):
		t.Errorf("got %v; want an error with %q", err, want)
	}
}

func TestJudgeRefusals(t *testing.T) {
	good := mapping{Writer: "root", PID: 13, AgainEPERM: true, Missing: refusal{Errno: "ENOENT"}, Preset: refusal{Errno: "EPERM"}}
	tests := map[string]struct {
		edit func(*mapping)
		want string
	}{
		"recorded":           {},
		"written twice":      {edit: func(m *mapping) { m.AgainEPERM = false }, want: "a map is written once"},
		"missing PID: nil":   {edit: func(m *mapping) { m.Missing = refusal{Errno: "ok"} }, want: "returned success; want an error wrapping ENOENT"},
		"missing PID: %v":    {edit: func(m *mapping) { m.Missing = refusal{Errno: "write: no such file", Err: "write: no such file"} }, want: "wrapping ENOENT"},
		"setgroups dropped":  {edit: func(m *mapping) { m.Preset = refusal{Errno: "ok"} }, want: "want an error wrapping EPERM"},
		"another errno then": {edit: func(m *mapping) { m.Preset = refusal{Errno: "EINVAL", Err: "invalid argument"} }, want: "returned invalid argument"},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			m := good
			if tt.edit != nil {
				tt.edit(&m)
			}
			judgedAs(t, judgeRefusals(m), tt.want)
		})
	}
}

func TestJudgeGovernsMore(t *testing.T) {
	good := powerReport{UpGoverns: true, Limited: refusal{Errno: "EMFILE"}, Closed: refusal{Errno: "EBADF"}}
	tests := map[string]struct {
		edit func(*powerReport)
		want string
	}{
		"recorded":           {},
		"stops at the owner": {edit: func(r *powerReport) { r.UpGoverns = false }, want: "want true"},
		"leaks":              {edit: func(r *powerReport) { r.Leaked = 3 }, want: "3 more open files"},
		"EMFILE is false":    {edit: func(r *powerReport) { r.Limited = refusal{Errno: "ok"} }, want: "wrapping EMFILE"},
		"EBADF is false":     {edit: func(r *powerReport) { r.Closed = refusal{Errno: "ok"} }, want: "wrapping EBADF"},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			r := good
			if tt.edit != nil {
				tt.edit(&r)
			}
			judgedAs(t, judgeGovernsMore(r), tt.want)
		})
	}
}

func TestJudgeChainErrors(t *testing.T) {
	good := nestReport{Missing: refusal{Errno: "ENOENT"}, Limited: refusal{Errno: "EMFILE"}}
	tests := map[string]struct {
		edit func(*nestReport)
		want string
	}{
		"recorded":         {},
		"leaks":            {edit: func(r *nestReport) { r.Leaked = 4 }, want: "4 more open files"},
		"open error lost":  {edit: func(r *nestReport) { r.Missing = refusal{Errno: "ok"} }, want: "wrapping ENOENT"},
		"every error ends": {edit: func(r *nestReport) { r.Limited = refusal{Errno: "ok"} }, want: "wrapping EMFILE"},
		"EMFILE as text":   {edit: func(r *nestReport) { r.Limited = refusal{Errno: "too many", Err: "too many"} }, want: "returned too many"},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			r := good
			if tt.edit != nil {
				tt.edit(&r)
			}
			judgedAs(t, judgeChainErrors(r), tt.want)
		})
	}
}
