//go:build linux

package ipc

import (
	"io"
	"strings"
	"testing"

	"github.com/nslab/nslab/pkg/lab"
	"github.com/nslab/nslab/pkg/lab/labtest"
)

// TestLabShape checks the steps and the docs page (labtest.CheckLab).
func TestLabShape(t *testing.T) { labtest.CheckLab(t, Lab, 100) }

func TestParseSysVIPC(t *testing.T) {
	const head = "       key      msqid perms      cbytes       qnum lspid lrpid   uid   gid  cuid  cgid      stime      rtime      ctime\n"
	parse := func(text string) ([]sysvEntry, error) { return parseSysVIPC("msg", strings.NewReader(text)) }
	labtest.Parses(t, "parseSysVIPC", parse, []labtest.Parse[[]sysvEntry]{
		{Name: "empty", Text: head},
		{Name: "nothing", Text: ""},
		{Name: "two", Text: head + "    305419896          0   600           0          0     0     0     0     0     0     0          0          0 1700000000\n" +
			"   -559038737          1   600           0          0     0     0     0     0     0     0          0          0 1700000000\n",
			Want: []sysvEntry{{Kind: "msg", Key: 0x12345678, ID: 0, Perms: 0o600}, {Kind: "msg", Key: -559038737, ID: 1, Perms: 0o600}}},
		{Name: "largest key, sizes", Text: head + "2147483647      32768   777        4096          1     0     0     0     0     0     0          0          0 1700000000\n" +
			"-2147483648      32769     0           1          1\n",
			Want: []sysvEntry{{Kind: "msg", Key: 0x7fffffff, ID: 32768, Perms: 0o777, Size: 4096}, {Kind: "msg", Key: -0x80000000, ID: 32769, Size: 1}}},
		{Name: "blank line", Text: head + "\n" + "1 2 600 3\n", Want: []sysvEntry{{Kind: "msg", Key: 1, ID: 2, Perms: 0o600, Size: 3}}},
		{Name: "short", Text: head + "12\n", Bad: true},
		{Name: "three columns", Text: head + "12 0 600\n", Bad: true},
		{Name: "key one past the largest", Text: head + "2147483648 0 600 0\n", Bad: true},
		{Name: "perms not octal", Text: head + "12 0 680 0\n", Bad: true},
		{Name: "size not a number", Text: head + "12 0 600 x\n", Bad: true},
		{Name: "not a number", Text: head + "key id perms size\n", Bad: true},
	})
}

func TestParseObjects(t *testing.T) {
	parse := func(text string) (Objects, error) { return parseObjects(strings.Fields(text)) }
	labtest.Parses(t, "parseObjects", parse, []labtest.Parse[Objects]{
		{Name: "three", Text: "1 2 3", Want: Objects{Msg: 1, Shm: 2, Sem: 3}},
		{Name: "two", Text: "1 2", Bad: true},
		{Name: "not a number", Text: "1 x 3", Bad: true},
	})
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

// checked is check as a judge for labtest.Edits, on a newCheck.
func checked[R any](t *testing.T, check func(*lab.Check, R) error) func(R) error {
	return func(r R) error { return check(newCheck(t), r) }
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
	labtest.Edits(t, good, checked(t, checkEdges), []labtest.Edit[edgesReport]{
		{Name: "all well"},
		{Name: "no limits on this kernel", Change: func(e *edgesReport) {
			e.NoLimits, e.Over, e.SendRoom, e.RecvRoom = "limit msgmnb 256: permission denied", answer{}, answer{}, answer{}
		}},
		{Name: "long text sent", Change: func(e *edgesReport) { e.Long = answer{} }, Want: "longer than MaxText"},
		{Name: "long text queued", Change: func(e *edgesReport) { e.LongRecv = failed("E2BIG") }, Want: "must queue nothing longer"},
		{Name: "MaxText refused", Change: func(e *edgesReport) { e.Full = failed("-") }, Want: "is not too long"},
		{Name: "blocked or lost", Change: func(e *edgesReport) { e.Over = answer{} }, Want: "want an error wrapping EAGAIN"},
		{Name: "short buffer", Change: func(e *edgesReport) { e.RecvFull.Text = e.RecvFull.Text[1:] }, Want: "want the 256 bytes sent"},
		{Name: "refused message queued", Change: func(e *edgesReport) { e.RecvEmpty = answer{Text: "x"} }, Want: "refused on the full queue"},
		{Name: "queue left full", Change: func(e *edgesReport) { e.TypedErr = "msgsnd: resource temporarily unavailable" }, Want: "did Receive take the message"},
		{Name: "type 1 only", Change: func(e *edgesReport) { e.RecvTyped = failed("ENOMSG") }, Want: "any type"},
		{Name: "msgget error dropped", Change: func(e *edgesReport) { e.SendRoom = answer{} }, Want: "want both an error wrapping ENOSPC"},
		{Name: "mode", Change: func(e *edgesReport) { e.LongC[1] = "msg:2:1:601:0" }, Want: "mode 0600"},
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
			labtest.FailsWith(t, checkTaken(newCheck(t), "C", "CreateObjects", "EEXIST", []taken{tt.t}), tt.want)
		})
	}
}

func TestCheckQueue(t *testing.T) {
	good := func() mqueueReport {
		return mqueueReport{Dir: "/tmp/d", Name: "/nslab-1", FD: 3, Link: "/nslab-1", Access: "O_RDWR", Mode: "600",
			AgainErr: "mq_open: file exists", AgainErrno: "EEXIST", NulErr: "invalid argument", NulErrno: "EINVAL",
			MissingErr: "mount: no such file or directory", MissingErrno: "ENOENT"}
	}
	labtest.Edits(t, good, checked(t, checkQueue), []labtest.Edit[mqueueReport]{
		{Name: "all well"},
		{Name: "stdin", Change: func(r *mqueueReport) { r.FD, r.Link = 0, "pipe:[12]" }, Want: "links to \"pipe:[12]\""},
		{Name: "read only", Change: func(r *mqueueReport) { r.Access = "O_RDONLY" }, Want: "want O_RDWR"},
		{Name: "mode", Change: func(r *mqueueReport) { r.Mode = "577" }, Want: "want 600"},
		{Name: "no O_EXCL", Change: func(r *mqueueReport) { r.AgainErr, r.AgainErrno = "", "" }, Want: "want an error wrapping EEXIST"},
		{Name: "NUL dropped", Change: func(r *mqueueReport) { r.NulErr, r.NulErrno = "", "" }, Want: "NUL byte"},
		{Name: "NUL not wrapped", Change: func(r *mqueueReport) { r.NulErrno = "-" }, Want: "want an error wrapping EINVAL"},
		{Name: "mount error dropped", Change: func(r *mqueueReport) { r.MissingErr, r.MissingErrno = "", "" }, Want: "want an error wrapping ENOENT"},
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
