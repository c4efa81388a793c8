package host

import (
	"reflect"
	"testing"
)

func TestParseMountinfo(t *testing.T) {
	text := "22 1 0:21 / / rw,relatime shared:1 - ext4 /dev/sda1 rw\n" +
		"35 22 0:5 / /proc rw,nosuid - proc proc rw\n" +
		"garbage\n"
	want := []string{"22 / ext4", "35 /proc proc"}
	if got := ParseMountinfo(text); !reflect.DeepEqual(got, want) {
		t.Errorf("ParseMountinfo = %q, want %q", got, want)
	}
}

func TestParseSysVIPC(t *testing.T) {
	text := "       key      msqid perms      cbytes       qnum\n" +
		"      4660          0   644           0          0\n"
	want := []string{"msg 4660 0"}
	if got := ParseSysVIPC("msg", text); !reflect.DeepEqual(got, want) {
		t.Errorf("ParseSysVIPC = %q, want %q", got, want)
	}
}

func TestParseStat(t *testing.T) {
	tests := []struct {
		text, comm string
		ppid       int
		ok         bool
	}{
		{text: "42 (sleep) S 7 42 42 0", comm: "sleep", ppid: 7, ok: true},
		{text: "43 (a (b) c) R 9 1", comm: "a (b) c", ppid: 9, ok: true},
		{text: "nonsense", ok: false},
	}
	for _, tt := range tests {
		comm, ppid, ok := ParseStat(tt.text)
		if comm != tt.comm || ppid != tt.ppid || ok != tt.ok {
			t.Errorf("ParseStat(%q) = %q, %d, %v; want %q, %d, %v", tt.text, comm, ppid, ok, tt.comm, tt.ppid, tt.ok)
		}
	}
}

func TestDiff(t *testing.T) {
	before := Snapshot{Hostname: "a", Mounts: []string{"1 / ext4"}, SysVIPC: []string{"msg 1 0"}}
	after := Snapshot{Hostname: "b", Mounts: []string{"1 / ext4", "9 /mnt tmpfs"}}
	want := []string{
		`hostname changed: "a" -> "b"`,
		"mount added: 9 /mnt tmpfs",
		"System V IPC object removed: msg 1 0",
	}
	if got := Diff(before, after); !reflect.DeepEqual(got, want) {
		t.Errorf("Diff = %q, want %q", got, want)
	}
	if got := Diff(before, before); got != nil {
		t.Errorf("Diff of a snapshot with itself = %q, want nil", got)
	}
}
