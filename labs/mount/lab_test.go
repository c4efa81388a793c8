//go:build linux

package mount_test

import (
	"io"
	"maps"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/nslab/nslab/labs/mount"
	"github.com/nslab/nslab/pkg/lab"
	"github.com/nslab/nslab/pkg/lab/labtest"
)

// TestLabShape checks the steps and the docs page (labtest.CheckLab).
func TestLabShape(t *testing.T) { labtest.CheckLab(t, mount.Lab, 100) }

func TestParseMountinfo(t *testing.T) {
	parse := func(text string) ([]mount.Mount, error) { return mount.ParseMountinfo(strings.NewReader(text)) }
	labtest.Parses(t, "ParseMountinfo", parse, []labtest.Parse[[]mount.Mount]{
		{Name: "empty"},
		{Name: "proc(5) example", Text: "36 35 98:0 /mnt1 /mnt2 rw,noatime master:1 - ext3 /dev/root rw,errors=continue\n",
			Want: []mount.Mount{{ID: 36, Parent: 35, Major: 98, Minor: 0, Root: "/mnt1", Point: "/mnt2", Options: "rw,noatime",
				Optional: []string{"master:1"}, FSType: "ext3", Source: "/dev/root", SuperOptions: "rw,errors=continue"}}},
		{Name: "no optional field, escaped space", Text: "63 43 0:39 / /tmp/a\\040b rw,relatime - tmpfs x rw,uid=65534\n",
			Want: []mount.Mount{{ID: 63, Parent: 43, Minor: 39, Root: "/", Point: "/tmp/a b", Options: "rw,relatime",
				Optional: []string{}, FSType: "tmpfs", Source: "x", SuperOptions: "rw,uid=65534"}}},
		{Name: "two optional fields", Text: "70 63 0:40 / /tmp/s rw shared:2 master:1 - tmpfs tmpfs rw\n",
			Want: []mount.Mount{{ID: 70, Parent: 63, Minor: 40, Root: "/", Point: "/tmp/s", Options: "rw",
				Optional: []string{"shared:2", "master:1"}, FSType: "tmpfs", Source: "tmpfs", SuperOptions: "rw"}}},
		{Name: "no separator", Text: "70 63 0:40 / /tmp/s rw tmpfs tmpfs rw\n", Bad: true},
		{Name: "bad ID", Text: "x 63 0:40 / /tmp/s rw - tmpfs tmpfs rw\n", Bad: true},
		{Name: "short", Text: "70 63\n", Bad: true},
	})
}

func TestPropagationType(t *testing.T) {
	tests := []struct {
		p    mount.Propagation
		want string
	}{
		{mount.Propagation{}, "private"},
		{mount.Propagation{Shared: 1}, "shared"},
		{mount.Propagation{Master: 1}, "slave"},
		{mount.Propagation{Shared: 2, Master: 1}, "shared+slave"},
		{mount.Propagation{Unbindable: true}, "unbindable"},
	}
	for _, tt := range tests {
		if got := tt.p.Type(); got != tt.want {
			t.Errorf("%+v.Type() = %q, want %q", tt.p, got, tt.want)
		}
	}
}

func TestFindUnder(t *testing.T) {
	ms := []mount.Mount{{ID: 1, Point: "/"}, {ID: 2, Point: "/tmp"}, {ID: 3, Point: "/tmp/a"}, {ID: 4, Point: "/tmpx"}, {ID: 5, Point: "/tmp"}}
	if m, ok := mount.Find(ms, "/tmp"); !ok || m.ID != 5 {
		t.Errorf("Find(/tmp) = %+v, %v; want the topmost, ID 5", m, ok)
	}
	var ids []int
	for _, m := range mount.Under(ms, "/tmp") {
		ids = append(ids, m.ID)
	}
	if !reflect.DeepEqual(ids, []int{2, 3, 5}) {
		t.Errorf("Under(/tmp) has IDs %v, want [2 3 5] (not /tmpx)", ids)
	}
}

// TestChecksOnReports runs check halves on recorded reports, with the lab
// host's /proc faked by a directory: the runner is PID 7, the holder PID 9.
func TestChecksOnReports(t *testing.T) {
	const runnerInfo = "20 1 254:0 / / rw,relatime - ext4 /dev/vda rw\n21 20 0:40 / /tmp rw,nosuid,nodev - tmpfs tmpfs rw\n"
	const holderInfo = "30 1 254:0 / / rw,relatime - ext4 /dev/vda rw\n31 30 0:41 / /tmp rw - tmpfs tmpfs rw\n"
	hostBefore := []string{"/ ext4", "/tmp tmpfs"}
	kept := map[string]any{"Words": []string{"file"}}
	gone := map[string]any{"Dir": map[string]any{"Err": "lstat /tmp/t: no such file or directory", "Errno": "ENOENT"}}
	busy := map[string]any{"Why": "busy", "Dir": "/tmp/t1", "Errno": "EBUSY", "Kept": kept,
		"Got": map[string]any{"Err": "unmount /tmp/t1/m: device or resource busy", "Errno": "EBUSY"}}
	noProc := map[string]any{"Why": "no /proc", "Dir": "/tmp/t2", "Kept": kept,
		"Got": map[string]any{"Err": "open /proc/thread-self/mountinfo: no such file or directory", "Errno": "ENOENT"}}
	refused := []map[string]any{busy, noProc}
	with := func(m map[string]any, k string, v any) map[string]any {
		out := maps.Clone(m)
		out[k] = v
		return out
	}
	tests := []struct {
		name, runner, want string
		report             map[string]any
	}{
		{name: "all well", runner: runnerInfo, report: map[string]any{"Host": hostBefore, "PID": 9, "Keep": kept, "Dir": gone["Dir"], "Refused": refused}},
		{name: "busy and nil", runner: runnerInfo, want: "want a well-formed error that wraps the kernel's EBUSY",
			report: map[string]any{"Host": hostBefore, "PID": 9, "Keep": kept, "Dir": gone["Dir"], "Refused": []map[string]any{with(busy, "Got", map[string]any{}), noProc}}},
		{name: "no errno", runner: runnerInfo, want: "want a well-formed error that wraps the kernel's:",
			report: map[string]any{"Host": hostBefore, "PID": 9, "Keep": kept, "Dir": gone["Dir"], "Refused": []map[string]any{busy, with(noProc, "Got", map[string]any{"Err": "no mount table", "Errno": "-"})}}},
		{name: "deleted after a failure", runner: runnerInfo, want: "delete nothing once a call has failed",
			report: map[string]any{"Host": hostBefore, "PID": 9, "Keep": kept, "Dir": gone["Dir"], "Refused": []map[string]any{with(busy, "Kept", map[string]any{"Err": "lstat: no such file or directory", "Errno": "ENOENT"}), noProc}}},
		{name: "deleted through a mount", runner: runnerInfo, want: "never delete through a mount",
			report: map[string]any{"Host": hostBefore, "PID": 9, "Keep": map[string]any{"Err": "lstat: no such file or directory", "Errno": "ENOENT"}}},
		{name: "busy", runner: runnerInfo, want: "unmount the deepest first",
			report: map[string]any{"Host": hostBefore, "PID": 9, "Keep": kept, "Teardown": map[string]any{"Err": "unmount /tmp/t/a: device or resource busy", "Errno": "EBUSY"}}},
		{name: "mounted in the lab host", runner: runnerInfo + "22 21 0:42 / /tmp/x rw - tmpfs tmpfs rw\n", want: "has a new mount: tmpfs on /tmp/x",
			report: map[string]any{"Host": hostBefore, "PID": 9, "Keep": kept, "Dir": gone["Dir"], "Refused": refused}},
	}
	step, err := mount.Lab.Step("09")
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			proc := t.TempDir()
			for pid, info := range map[string]string{"7": tt.runner, "9": holderInfo} {
				if err := os.Mkdir(filepath.Join(proc, pid), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(filepath.Join(proc, pid, "mountinfo"), []byte(info), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			c := lab.NewCheck(lab.NewNarrator(io.Discard), proc, 7)
			labtest.FailsWith(t, lab.CheckReport(step.Do, c, tt.report), tt.want)
		})
	}
}
