//go:build linux

package mount_test

import (
	"reflect"
	"strings"
	"testing"

	"github.com/nslab/nslab/labs/mount"
	"github.com/nslab/nslab/pkg/lab/labtest"
)

// TestLabShape checks the steps and the docs page (labtest.CheckLab).
func TestLabShape(t *testing.T) { labtest.CheckLab(t, mount.Lab, 100) }

func TestParseMountinfo(t *testing.T) {
	tests := []struct {
		name, text string
		want       []mount.Mount
		bad        bool
	}{
		{name: "empty"},
		{name: "proc(5) example", text: "36 35 98:0 /mnt1 /mnt2 rw,noatime master:1 - ext3 /dev/root rw,errors=continue\n",
			want: []mount.Mount{{ID: 36, Parent: 35, Major: 98, Minor: 0, Root: "/mnt1", Point: "/mnt2", Options: "rw,noatime",
				Optional: []string{"master:1"}, FSType: "ext3", Source: "/dev/root", SuperOptions: "rw,errors=continue"}}},
		{name: "no optional field, escaped space", text: "63 43 0:39 / /tmp/a\\040b rw,relatime - tmpfs x rw,uid=65534\n",
			want: []mount.Mount{{ID: 63, Parent: 43, Minor: 39, Root: "/", Point: "/tmp/a b", Options: "rw,relatime",
				Optional: []string{}, FSType: "tmpfs", Source: "x", SuperOptions: "rw,uid=65534"}}},
		{name: "two optional fields", text: "70 63 0:40 / /tmp/s rw shared:2 master:1 - tmpfs tmpfs rw\n",
			want: []mount.Mount{{ID: 70, Parent: 63, Minor: 40, Root: "/", Point: "/tmp/s", Options: "rw",
				Optional: []string{"shared:2", "master:1"}, FSType: "tmpfs", Source: "tmpfs", SuperOptions: "rw"}}},
		{name: "no separator", text: "70 63 0:40 / /tmp/s rw tmpfs tmpfs rw\n", bad: true},
		{name: "bad ID", text: "x 63 0:40 / /tmp/s rw - tmpfs tmpfs rw\n", bad: true},
		{name: "short", text: "70 63\n", bad: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := mount.ParseMountinfo(strings.NewReader(tt.text))
			if (err != nil) != tt.bad || !reflect.DeepEqual(got, tt.want) {
				t.Errorf("ParseMountinfo(%q) = %+v, %v; want %+v, error %v", tt.text, got, err, tt.want, tt.bad)
			}
		})
	}
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
