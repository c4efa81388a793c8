//go:build linux

package container

import (
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/nslab/nslab/pkg/lab"
	"github.com/nslab/nslab/pkg/lab/labtest"
)

// TestLabShape checks the steps and the docs page (labtest.CheckLab).
func TestLabShape(t *testing.T) { labtest.CheckLab(t, Lab, 160) }

func TestParseMountinfo(t *testing.T) {
	text := `22 1 0:21 / / rw,relatime shared:1 - tmpfs tmpfs rw,mode=755
23 22 0:85 / /usr rw,relatime - overlay overlay rw,lowerdir=/usr,upperdir=/tmp/x/upper,workdir=/tmp/x/work
24 22 8:1 /usr /my\040dir ro,relatime master:2 - ext4 /dev/sda1 rw
`
	ms, err := parseMountinfo(strings.NewReader(text))
	if err != nil || len(ms) != 3 {
		t.Fatalf("parseMountinfo = %v, %v; want 3 mounts", ms, err)
	}
	if m, ok := mountAt(ms, "/usr"); !ok || m.FSType != "overlay" {
		t.Errorf("mountAt(/usr) = %+v, %v; want the overlay", m, ok)
	}
	if up, _ := option(ms[1].Super, "upperdir"); up != "/tmp/x/upper" {
		t.Errorf("upperdir = %q", up)
	}
	if ms[2].Target != "/my dir" || ms[2].Root != "/usr" || !hasFlag(ms[2].Options, "ro") || ms[2].FSType != "ext4" {
		t.Errorf("third mount = %+v; want ext4 /usr on \"/my dir\", ro", ms[2])
	}
	if _, err := parseMountinfo(strings.NewReader("1 2 3\n")); err == nil {
		t.Error("a line without its separator parsed")
	}
}

func TestStatState(t *testing.T) {
	tests := []struct{ stat, comm, state string }{
		{"15 (cat) Z 1 15 1 0", "cat", "Z"},
		{"7 (a) b) (c) S 1 7", "a) b) (c", "S"},
	}
	for _, tt := range tests {
		comm, state, ok := statState(tt.stat)
		if !ok || comm != tt.comm || state != tt.state {
			t.Errorf("statState(%q) = %q, %q, %v; want %q, %q", tt.stat, comm, state, ok, tt.comm, tt.state)
		}
	}
	if _, _, ok := statState("garbage"); ok {
		t.Error("statState(garbage) ok")
	}
}

// TestCheckInit runs step 06's check, pure over its report, on recorded runs.
func TestCheckInit(t *testing.T) {
	good := func() []initRun {
		return []initRun{
			{Mode: "term", Signal: "SIGTERM", Want: 143, Final: &initReport{Status: 143}, Exit: 143, Asleep: true, Children: []string{"9"}},
			{Mode: "hup", Signal: "SIGHUP", Want: 7, Final: &initReport{Status: 7}, Exit: 7, Asleep: true, Children: []string{"9"}},
			{Mode: "zombies", Want: 137, Final: &initReport{Status: 137}, Exit: 137, Asleep: true},
			{Mode: "nostart", Want: 127, Final: &initReport{Status: 127}, Exit: 127, Asleep: true, Output: "init: start " + noStart + ": no such file"},
		}
	}
	tests := []struct {
		name string
		edit func([]initRun)
		want string
	}{
		{"good", func([]initRun) {}, ""},
		{"init died", func(r []initRun) { r[0].Final, r[0].Exit, r[0].ExitHow = nil, 2, "exit status 2" }, "before Init returned"},
		{"zombie", func(r []initRun) { r[0].Final.Zombies = []string{"9 cat"} }, "zombies"},
		{"status", func(r []initRun) { r[1].Final.Status = 0 }, "want 7"},
		{"hang", func(r []initRun) { r[1].TimedOut = true }, "had not returned"},
		{"spins", func(r []initRun) { r[0].Asleep = false }, "never slept"},
		{"group only", func(r []initRun) { r[1].Children = []string{"9", "12"} }, "wait4(-1)"},
		{"zombies left", func(r []initRun) { r[2].Final.Zombies = []string{"14 true"} }, "zombies"},
		{"silent", func(r []initRun) { r[3].Output = "" }, "say why"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			runs := good()
			tt.edit(runs)
			labtest.FailsWith(t, lab.CheckReport(Lab.Steps[5].Do, lab.NewCheck(lab.NewNarrator(io.Discard), "/nonexistent", 1), runs), tt.want)
		})
	}
}

// TestCheckStopEarly runs step 10's check on reports it refuses before it
// looks at the lab host.
func TestCheckStopEarly(t *testing.T) {
	stubborn := stopRun{Mode: "stubborn", Grace: stubbornGrace, Waited: true, Killed: true, Exit: -1, ExitHow: "signal: killed", Elapsed: stubbornGrace}
	tests := []struct {
		name string
		runs []stopRun
		want string
	}{
		{"killed at once", []stopRun{{Mode: "polite", Grace: politeGrace, Waited: true, Killed: true, Exit: -1, ExitHow: "signal: killed"}, stubborn}, "SIGTERM first"},
		{"not waited", []stopRun{{Mode: "polite", Grace: politeGrace}, stubborn}, "wait for it"},
		{"error", []stopRun{{Mode: "polite", Err: "boom"}, stubborn}, "boom"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			labtest.FailsWith(t, lab.CheckReport(Lab.Steps[9].Do, lab.NewCheck(lab.NewNarrator(io.Discard), "/nonexistent", 1), stopsReport{Runs: tt.runs}), tt.want)
		})
	}
}

// TestWantTree checks that what a right Limit leaves in the stand-ins of
// step 08 reads, through tree, as wantTree says.
func TestWantTree(t *testing.T) {
	for _, layout := range []string{"v2", "hybrid"} {
		dir := t.TempDir()
		parent, err := fakeLayout(dir, layout)
		if err != nil {
			t.Fatal(err)
		}
		um, err := umask()
		if err != nil {
			t.Fatal(err)
		}
		limited := parent.V2
		os.Mkdir(filepath.Join(parent.V2, "ctr"), 0o755)
		if layout == "v2" {
			os.WriteFile(filepath.Join(parent.V2, "cgroup.subtree_control"), []byte("+pids"), 0)
		} else {
			limited = parent.PidsV1
			os.Mkdir(filepath.Join(parent.PidsV1, "ctr"), 0o755)
		}
		os.WriteFile(filepath.Join(limited, "ctr", "pids.max"), []byte("8\n"), 0o644)
		if got, want := tree(dir), wantTree(layout, um, 8); !slices.Equal(got, want) {
			t.Errorf("%s: tree = %q; want %q", layout, got, want)
		}
	}
}
