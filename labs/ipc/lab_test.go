//go:build linux

package ipc

import (
	"io"
	"slices"
	"strings"
	"testing"

	"github.com/nslab/nslab/pkg/lab"
	"github.com/nslab/nslab/pkg/lab/labtest"
)

// TestLabShape checks the steps and the docs page (labtest.CheckLab).
func TestLabShape(t *testing.T) { labtest.CheckLab(t, Lab, 100) }

func TestParseSysVIPC(t *testing.T) {
	const head = "       key      msqid perms      cbytes       qnum lspid lrpid   uid   gid  cuid  cgid      stime      rtime      ctime\n"
	tests := []struct {
		name, text string
		want       []sysvEntry
		bad        bool
	}{
		{name: "empty", text: head},
		{name: "nothing", text: ""},
		{name: "two", text: head + "    305419896          0   600           0          0     0     0     0     0     0     0          0          0 1700000000\n" +
			"   -559038737          1   600           0          0     0     0     0     0     0     0          0          0 1700000000\n",
			want: []sysvEntry{{Kind: "msg", Key: 0x12345678, ID: 0, Perms: 0o600}, {Kind: "msg", Key: -559038737, ID: 1, Perms: 0o600}}},
		{name: "largest key, sizes", text: head + "2147483647      32768   777        4096          1     0     0     0     0     0     0          0          0 1700000000\n" +
			"-2147483648      32769     0           1          1\n",
			want: []sysvEntry{{Kind: "msg", Key: 0x7fffffff, ID: 32768, Perms: 0o777, Size: 4096}, {Kind: "msg", Key: -0x80000000, ID: 32769, Size: 1}}},
		{name: "blank line", text: head + "\n" + "1 2 600 3\n", want: []sysvEntry{{Kind: "msg", Key: 1, ID: 2, Perms: 0o600, Size: 3}}},
		{name: "short", text: head + "12\n", bad: true},
		{name: "three columns", text: head + "12 0 600\n", bad: true},
		{name: "key one past the largest", text: head + "2147483648 0 600 0\n", bad: true},
		{name: "perms not octal", text: head + "12 0 680 0\n", bad: true},
		{name: "size not a number", text: head + "12 0 600 x\n", bad: true},
		{name: "not a number", text: head + "key id perms size\n", bad: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseSysVIPC("msg", strings.NewReader(tt.text))
			if (err != nil) != tt.bad || !slices.Equal(got, tt.want) {
				t.Errorf("parseSysVIPC(%q) = %v, %v; want %v, error %v", tt.text, got, err, tt.want, tt.bad)
			}
		})
	}
}

func TestParseObjects(t *testing.T) {
	tests := []struct {
		name  string
		words []string
		want  Objects
		bad   bool
	}{
		{name: "three", words: []string{"1", "2", "3"}, want: Objects{Msg: 1, Shm: 2, Sem: 3}},
		{name: "two", words: []string{"1", "2"}, bad: true},
		{name: "not a number", words: []string{"1", "x", "3"}, bad: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseObjects(tt.words)
			if (err != nil) != tt.bad || (!tt.bad && got != tt.want) {
				t.Errorf("parseObjects(%q) = %v, %v; want %v, error %v", tt.words, got, err, tt.want, tt.bad)
			}
		})
	}
}

func TestEntryWords(t *testing.T) {
	e := sysvEntry{Kind: "shm", Key: 0x1234, ID: 7, Perms: 0o600, Size: 4096}
	if got, want := e.word(), "shm:4660:7"; got != want {
		t.Errorf("word() = %q; want %q", got, want)
	}
	if got, want := e.long(), "shm:4660:7:600:4096"; got != want {
		t.Errorf("long() = %q; want %q", got, want)
	}
	if got, want := e.String(), "shm key 0x1234 id 7"; got != want {
		t.Errorf("String() = %q; want %q", got, want)
	}
}

// newCheck is a Check for the check halves that read nothing from outside.
func newCheck(t *testing.T) *lab.Check {
	return lab.NewCheck(lab.NewNarrator(io.Discard), t.TempDir(), 7)
}

func wantFailure(t *testing.T, what string, err error, want string) {
	t.Helper()
	if (err != nil) != (want != "") || (err != nil && !strings.Contains(err.Error(), want)) {
		t.Errorf("%s = %v; want an error with %q", what, err, want)
	}
}

// edit is a case of checkEdits: how it changes a good report, and what the
// check must then fail with ("" when it must still pass).
type edit[R any] struct {
	name   string
	change func(*R)
	want   string
}

// checkEdits runs check on a good report changed by each case.
func checkEdits[R any](t *testing.T, good func() R, check func(*lab.Check, R) error, tests []edit[R]) {
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := good()
			tt.change(&r)
			wantFailure(t, tt.name, check(newCheck(t), r), tt.want)
		})
	}
}

func TestCheckEdges(t *testing.T) {
	failed := func(errno string) answer { return answer{Err: "it failed", Errno: errno} }
	good := func() edgesReport {
		return edgesReport{
			LongKey: 1, Long: failed("-"), LongRecv: failed("ENOMSG"),
			Key: 2, Full: answer{}, Over: failed("EAGAIN"), RecvFull: answer{Text: strings.Repeat("x", MaxText)},
			RecvEmpty: failed("ENOMSG"), Typed: "typed-2", RecvTyped: answer{Text: "typed-2"},
			NoRoomKey: 3, SendRoom: failed("ENOSPC"), RecvRoom: failed("ENOSPC"), LongC: []string{"msg:1:0:600:0", "msg:2:1:600:0"},
		}
	}
	checkEdits(t, good, checkEdges, []edit[edgesReport]{
		{"all well", func(*edgesReport) {}, ""},
		{"no limits on this kernel", func(e *edgesReport) {
			e.NoLimits, e.Over, e.SendRoom, e.RecvRoom = "limit msgmnb 256: permission denied", answer{}, answer{}, answer{}
		}, ""},
		{"long text sent", func(e *edgesReport) { e.Long = answer{} }, "longer than MaxText"},
		{"long text queued", func(e *edgesReport) { e.LongRecv = failed("E2BIG") }, "must queue nothing longer"},
		{"MaxText refused", func(e *edgesReport) { e.Full = failed("-") }, "is not too long"},
		{"blocked or lost", func(e *edgesReport) { e.Over = answer{} }, "want an error wrapping EAGAIN"},
		{"short buffer", func(e *edgesReport) { e.RecvFull.Text = e.RecvFull.Text[1:] }, "want the 256 bytes sent"},
		{"refused message queued", func(e *edgesReport) { e.RecvEmpty = answer{Text: "x"} }, "refused on the full queue"},
		{"queue left full", func(e *edgesReport) { e.TypedErr = "msgsnd: resource temporarily unavailable" }, "did Receive take the message"},
		{"type 1 only", func(e *edgesReport) { e.RecvTyped = failed("ENOMSG") }, "any type"},
		{"msgget error dropped", func(e *edgesReport) { e.SendRoom = answer{} }, "want both an error wrapping ENOSPC"},
		{"mode", func(e *edgesReport) { e.LongC[1] = "msg:2:1:601:0" }, "mode 0600"},
	})
}

func TestCheckTaken(t *testing.T) {
	tests := []struct {
		name string
		t    taken
		want string
	}{
		{name: "EEXIST", t: taken{Key: 1, Exist: []string{"shm"}, Err: "shmget key 0x1: file exists", Errno: "EEXIST"}},
		{name: "no error", t: taken{Key: 1, Exist: []string{"shm"}, Words: []string{"0", "-1", "0"}}, want: "returned IDs [0 -1 0] and no error"},
		{name: "not wrapped", t: taken{Key: 1, Exist: []string{"msg", "shm"}, Err: "semget failed", Errno: "-"}, want: "want an error wrapping EEXIST"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wantFailure(t, "checkTaken", checkTaken(newCheck(t), "C", "CreateObjects", "EEXIST", []taken{tt.t}), tt.want)
		})
	}
}

func TestCheckQueue(t *testing.T) {
	good := func() mqueueReport {
		return mqueueReport{Dir: "/tmp/d", Name: "/nslab-1", FD: 3, Link: "/nslab-1", Access: "O_RDWR", Mode: "600",
			AgainErr: "mq_open: file exists", AgainErrno: "EEXIST", NulErr: "invalid argument", NulErrno: "EINVAL",
			MissingErr: "mount: no such file or directory", MissingErrno: "ENOENT"}
	}
	checkEdits(t, good, checkQueue, []edit[mqueueReport]{
		{"all well", func(*mqueueReport) {}, ""},
		{"stdin", func(r *mqueueReport) { r.FD, r.Link = 0, "pipe:[12]" }, "links to \"pipe:[12]\""},
		{"read only", func(r *mqueueReport) { r.Access = "O_RDONLY" }, "want O_RDWR"},
		{"mode", func(r *mqueueReport) { r.Mode = "577" }, "want 600"},
		{"no O_EXCL", func(r *mqueueReport) { r.AgainErr, r.AgainErrno = "", "" }, "want an error wrapping EEXIST"},
		{"NUL dropped", func(r *mqueueReport) { r.NulErr, r.NulErrno = "", "" }, "NUL byte"},
		{"NUL not wrapped", func(r *mqueueReport) { r.NulErrno = "-" }, "want an error wrapping EINVAL"},
		{"mount error dropped", func(r *mqueueReport) { r.MissingErr, r.MissingErrno = "", "" }, "want an error wrapping ENOENT"},
	})
}

func TestAccessMode(t *testing.T) {
	tests := []struct{ fdinfo, want string }{
		{"pos:\t0\nflags:\t02000002\nmnt_id:\t30\n", "O_RDWR"},
		{"pos:\t0\nflags:\t02000000\n", "O_RDONLY"},
		{"flags:\t01\n", "O_WRONLY"},
		{"flags:\t03\n", "-"},
		{"flags:\t9\n", "-"},
		{"pos:\t0\n", "-"},
		{"", "-"},
	}
	for _, tt := range tests {
		if got := accessMode(tt.fdinfo); got != tt.want {
			t.Errorf("accessMode(%q) = %q; want %q", tt.fdinfo, got, tt.want)
		}
	}
}
