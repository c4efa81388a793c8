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

// edit is a case of judgeEdits: how it changes a good report, and what
// the judge must then fail with ("" when it must still pass).
type edit[R any] struct {
	edit func(*R)
	want string
}

// judgeEdits checks judge on good edited by each case (a nil edit leaves
// it as it is): it passes where want is "", else fails with want in its
// message.
func judgeEdits[R any](t *testing.T, good R, judge func(R) error, tests map[string]edit[R]) {
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			r := good
			if tt.edit != nil {
				tt.edit(&r)
			}
			switch err := judge(r); {
			case tt.want == "" && err != nil:
				t.Errorf("got %v; want it to pass", err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
				t.Errorf("got %v; want an error with %q", err, tt.want)
			}
		})
	}
}

func TestJudgeRefusals(t *testing.T) {
	good := mapping{Writer: "root", PID: 13, AgainEPERM: true, Missing: refusal{Errno: "ENOENT"}, Preset: refusal{Errno: "EPERM"}}
	judgeEdits(t, good, judgeRefusals, map[string]edit[mapping]{
		"recorded":           {},
		"written twice":      {func(m *mapping) { m.AgainEPERM = false }, "a map is written once"},
		"missing PID: nil":   {func(m *mapping) { m.Missing = refusal{Errno: "ok"} }, "returned success; want an error wrapping ENOENT"},
		"missing PID: %v":    {func(m *mapping) { m.Missing = refusal{Errno: "write: no such file", Err: "write: no such file"} }, "wrapping ENOENT"},
		"setgroups dropped":  {func(m *mapping) { m.Preset = refusal{Errno: "ok"} }, "want an error wrapping EPERM"},
		"another errno then": {func(m *mapping) { m.Preset = refusal{Errno: "EINVAL", Err: "invalid argument"} }, "returned invalid argument"},
	})
}

func TestJudgeGovernsMore(t *testing.T) {
	good := powerReport{UpGoverns: true, Limited: refusal{Errno: "EMFILE"}, Closed: refusal{Errno: "EBADF"}}
	judgeEdits(t, good, judgeGovernsMore, map[string]edit[powerReport]{
		"recorded":           {},
		"stops at the owner": {func(r *powerReport) { r.UpGoverns = false }, "want true"},
		"leaks":              {func(r *powerReport) { r.Leaked = 3 }, "3 more open files"},
		"EMFILE is false":    {func(r *powerReport) { r.Limited = refusal{Errno: "ok"} }, "wrapping EMFILE"},
		"EBADF is false":     {func(r *powerReport) { r.Closed = refusal{Errno: "ok"} }, "wrapping EBADF"},
	})
}

func TestJudgeChainErrors(t *testing.T) {
	good := nestReport{Missing: refusal{Errno: "ENOENT"}, Limited: refusal{Errno: "EMFILE"}}
	judgeEdits(t, good, judgeChainErrors, map[string]edit[nestReport]{
		"recorded":         {},
		"leaks":            {func(r *nestReport) { r.Leaked = 4 }, "4 more open files"},
		"open error lost":  {func(r *nestReport) { r.Missing = refusal{Errno: "ok"} }, "wrapping ENOENT"},
		"every error ends": {func(r *nestReport) { r.Limited = refusal{Errno: "ok"} }, "wrapping EMFILE"},
		"EMFILE as text":   {func(r *nestReport) { r.Limited = refusal{Errno: "too many", Err: "too many"} }, "returned too many"},
	})
}
