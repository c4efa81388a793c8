//go:build linux

package user

import (
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
	labtest.Parses(t, "ParseStatus", ParseStatus, []labtest.Parse[Status]{
		{Name: "status", Text: full, Want: Status{UID: 65534, EUID: 65534, GID: 100, CapEff: 0x1ffffffffff}},
		{Name: "no CapEff", Text: "Uid:\t0\t0\t0\t0\nGid:\t0\t0\t0\t0\n", Bad: true},
		{Name: "short Uid", Text: "Uid:\t0\t0\nGid:\t0\t0\t0\t0\nCapEff:\t0\n", Bad: true},
		{Name: "bad caps", Text: "Uid:\t0\t0\t0\t0\nGid:\t0\t0\t0\t0\nCapEff:\tzz\n", Bad: true},
		{Name: "empty", Text: "", Bad: true},
	})
}

func TestParseIDMap(t *testing.T) {
	labtest.Parses(t, "ParseIDMap", ParseIDMap, []labtest.Parse[[]spawn.IDMap]{
		{Name: "unwritten", Text: "", Want: nil},
		{Name: "root", Text: "         0      65534          1\n", Want: []spawn.IDMap{{ContainerID: 0, HostID: 65534, Size: 1}}},
		{Name: "two lines", Text: "0 0 1\n1 100001 65535\n", Want: []spawn.IDMap{{ContainerID: 0, HostID: 0, Size: 1}, {ContainerID: 1, HostID: 100001, Size: 65535}}},
		{Name: "initial", Text: "0 0 4294967295\n", Want: []spawn.IDMap{{ContainerID: 0, HostID: 0, Size: 4294967295}}},
		{Name: "two fields", Text: "0 1\n", Bad: true},
		{Name: "negative", Text: "0 -1 1\n", Bad: true},
	})
}

func TestJudgeRefusals(t *testing.T) {
	good := func() mapping {
		return mapping{Writer: "root", PID: 13, AgainEPERM: true, Missing: refusal{Errno: "ENOENT"}, Preset: refusal{Errno: "EPERM"}}
	}
	labtest.Edits(t, good, judgeRefusals, []labtest.Edit[mapping]{
		{Name: "recorded"},
		{Name: "written twice", Change: func(m *mapping) { m.AgainEPERM = false }, Want: "a map is written once"},
		{Name: "missing PID: nil", Change: func(m *mapping) { m.Missing = refusal{Errno: "ok"} }, Want: "returned success; want an error wrapping ENOENT"},
		{Name: "missing PID: %v", Change: func(m *mapping) { m.Missing = refusal{Errno: "write: no such file", Err: "write: no such file"} }, Want: "wrapping ENOENT"},
		{Name: "setgroups dropped", Change: func(m *mapping) { m.Preset = refusal{Errno: "ok"} }, Want: "want an error wrapping EPERM"},
		{Name: "another errno then", Change: func(m *mapping) { m.Preset = refusal{Errno: "EINVAL", Err: "invalid argument"} }, Want: "returned invalid argument"},
	})
}

func TestJudgeGovernsMore(t *testing.T) {
	good := func() powerReport {
		return powerReport{UpGoverns: true, Limited: refusal{Errno: "EMFILE"}, Closed: refusal{Errno: "EBADF"}}
	}
	labtest.Edits(t, good, judgeGovernsMore, []labtest.Edit[powerReport]{
		{Name: "recorded"},
		{Name: "stops at the owner", Change: func(r *powerReport) { r.UpGoverns = false }, Want: "want true"},
		{Name: "leaks", Change: func(r *powerReport) { r.Leaked = 3 }, Want: "3 more open files"},
		{Name: "EMFILE is false", Change: func(r *powerReport) { r.Limited = refusal{Errno: "ok"} }, Want: "wrapping EMFILE"},
		{Name: "EBADF is false", Change: func(r *powerReport) { r.Closed = refusal{Errno: "ok"} }, Want: "wrapping EBADF"},
	})
}

func TestJudgeChainErrors(t *testing.T) {
	good := func() nestReport {
		return nestReport{Missing: refusal{Errno: "ENOENT"}, Limited: refusal{Errno: "EMFILE"}}
	}
	labtest.Edits(t, good, judgeChainErrors, []labtest.Edit[nestReport]{
		{Name: "recorded"},
		{Name: "leaks", Change: func(r *nestReport) { r.Leaked = 4 }, Want: "4 more open files"},
		{Name: "open error lost", Change: func(r *nestReport) { r.Missing = refusal{Errno: "ok"} }, Want: "wrapping ENOENT"},
		{Name: "every error ends", Change: func(r *nestReport) { r.Limited = refusal{Errno: "ok"} }, Want: "wrapping EMFILE"},
		{Name: "EMFILE as text", Change: func(r *nestReport) { r.Limited = refusal{Errno: "too many", Err: "too many"} }, Want: "returned too many"},
	})
}
