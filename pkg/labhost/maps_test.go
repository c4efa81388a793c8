package labhost

import (
	"strings"
	"testing"
)

func TestSubordinateRange(t *testing.T) {
	tests := []struct {
		name, text string
		want       Range
		ok         bool
	}{
		{"root", "alice:100000:65536\nroot:200000:65536\n", Range{200000, Size}, true},
		{"root by UID", "0:300000:100000\n", Range{300000, Size}, true},
		{"too small", "root:200000:1000\n", Range{}, false},
		{"others only", "alice:100000:65536\n", Range{}, false},
		{"broken", "root:x:65536\nroot:1\n\n", Range{}, false},
		{"empty", "", Range{}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := SubordinateRange(strings.NewReader(tc.text), "root")
			if got != tc.want || ok != tc.ok {
				t.Errorf("SubordinateRange(%q) = %v, %v; want %v, %v", tc.text, got, ok, tc.want, tc.ok)
			}
		})
	}
}

func TestV2Mount(t *testing.T) {
	hybrid := "31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755\n" +
		"39 31 0:36 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids\n" +
		"41 31 0:38 / /sys/fs/cgroup/unified rw,relatime shared:9 - cgroup2 cgroup2 rw\n"
	tests := []struct {
		name, text, want string
		ok               bool
	}{
		{"hybrid", hybrid, "/sys/fs/cgroup/unified", true},
		{"v2", "30 23 0:26 / /sys/fs/cgroup rw,nosuid shared:4 - cgroup2 cgroup2 rw,nsdelegate\n", "/sys/fs/cgroup", true},
		{"a subtree only", "30 23 0:26 /user.slice /sys/fs/cgroup rw - cgroup2 cgroup2 rw\n", "", false},
		{"v1 only", "39 31 0:36 / /sys/fs/cgroup/pids rw - cgroup cgroup rw,pids\n", "", false},
		{"empty", "", "", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := V2Mount(strings.NewReader(tc.text))
			if got != tc.want || ok != tc.ok {
				t.Errorf("V2Mount(%q) = %q, %v; want %q, %v", tc.text, got, ok, tc.want, tc.ok)
			}
		})
	}
}

func TestV1Mount(t *testing.T) {
	text := "39 31 0:36 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids\n" +
		"32 31 0:29 / /sys/fs/cgroup/cpu,cpuacct rw - cgroup cgroup rw,cpu,cpuacct\n" +
		"41 31 0:38 / /sys/fs/cgroup/unified rw - cgroup2 cgroup2 rw\n"
	for _, tc := range []struct{ controller, want string }{{"pids", "/sys/fs/cgroup/pids"}, {"cpuacct", "/sys/fs/cgroup/cpu,cpuacct"}, {"memory", ""}} {
		got, ok := V1Mount(strings.NewReader(text), tc.controller)
		if got != tc.want || ok != (tc.want != "") {
			t.Errorf("V1Mount(%s) = %q, %v; want %q", tc.controller, got, ok, tc.want)
		}
	}
}
