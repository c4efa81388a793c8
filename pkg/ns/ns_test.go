package ns

import (
	"errors"
	"strings"
	"testing"
)

func TestParseKind(t *testing.T) {
	tests := []struct {
		name, in string
		want     Kind
		err      string
	}{
		{name: "kernel name", in: "uts", want: UTS},
		{name: "for children", in: "pid_for_children", want: PIDForChildren},
		{name: "learner word mount", in: "mount", want: Mnt},
		{name: "learner word network", in: "Network", want: Net},
		{name: "spaces", in: " ipc ", want: IPC},
		{name: "unknown", in: "bogus", err: `unknown namespace kind "bogus" (known: cgroup ipc mnt`},
		{name: "empty", in: "", err: "unknown namespace kind"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseKind(tt.in)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("ParseKind(%q) error = %v, want one containing %q", tt.in, err, tt.err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("ParseKind(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
			}
		})
	}
}

func TestParseLink(t *testing.T) {
	tests := []struct {
		in      string
		kind    Kind
		ino     uint64
		wantErr bool
	}{
		{in: "uts:[4026531838]", kind: UTS, ino: 4026531838},
		{in: "pid:[4026532612]", kind: PID, ino: 4026532612},
		{in: "time:[4026531834]", kind: Time, ino: 4026531834},
		{in: "uts:4026531838", wantErr: true},
		{in: "uts:[x]", wantErr: true},
		{in: "foo:[1]", wantErr: true},
		{in: "", wantErr: true},
	}
	for _, tt := range tests {
		k, ino, err := ParseLink(tt.in)
		if (err != nil) != tt.wantErr || k != tt.kind || ino != tt.ino {
			t.Errorf("ParseLink(%q) = %q, %d, %v; want %q, %d, error %v", tt.in, k, ino, err, tt.kind, tt.ino, tt.wantErr)
		}
	}
}

func TestIDStringAndEqual(t *testing.T) {
	pid := ID{Kind: PID, Dev: 4, Inode: 4026531836}
	forChildren := ID{Kind: PIDForChildren, Dev: 4, Inode: 4026531836}
	otherDev := ID{Kind: PID, Dev: 5, Inode: 4026531836}
	if got := forChildren.String(); got != "pid:[4026531836]" {
		t.Errorf("String() = %q, want the kernel's link text pid:[4026531836]", got)
	}
	if !pid.Equal(forChildren) {
		t.Error("pid and pid_for_children with the same dev and inode should be equal")
	}
	if pid.Equal(otherDev) {
		t.Error("IDs with the same inode on different devices must differ")
	}
	if (ID{}).Equal(ID{}) || (ID{}).String() != "" {
		t.Error("the zero ID names no namespace and equals nothing")
	}
}

func TestDiffAndSame(t *testing.T) {
	a := Set{IDs: map[Kind]ID{UTS: {UTS, 4, 1}, IPC: {IPC, 4, 2}, Net: {Net, 4, 3}}}
	b := Set{IDs: map[Kind]ID{UTS: {UTS, 4, 9}, IPC: {IPC, 4, 2}, Time: {Time, 4, 7}}}
	if got, want := Diff(a, b), []Kind{Net, Time, UTS}; !equalKinds(got, want) {
		t.Errorf("Diff = %v, want %v", got, want)
	}
	if got, want := Same(a, b), []Kind{IPC}; !equalKinds(got, want) {
		t.Errorf("Same = %v, want %v", got, want)
	}
}

func equalKinds(a, b []Kind) bool {
	return strings.Join(kindStrings(a), ",") == strings.Join(kindStrings(b), ",")
}

func kindStrings(ks []Kind) []string {
	s := make([]string, len(ks))
	for i, k := range ks {
		s[i] = string(k)
	}
	return s
}

func TestKindOfCloneFlag(t *testing.T) {
	for _, k := range kinds {
		got, ok := KindOfCloneFlag(k.CloneFlag())
		if !ok || got != k.Base() {
			t.Errorf("KindOfCloneFlag(%#x) = %q, %v; want %q", k.CloneFlag(), got, ok, k.Base())
		}
	}
}

func TestAggregate(t *testing.T) {
	uts1 := ID{Kind: UTS, Dev: 4, Inode: 10}
	uts2 := ID{Kind: UTS, Dev: 4, Inode: 20}
	rows := Aggregate([]Member{
		{ID: uts1, PID: 50, UID: 1000, Command: "sleep 9"},
		{ID: uts1, PID: 7, UID: 0, Command: "/sbin/init"},
		{ID: uts2, PID: 99, UID: 0, Command: "sh"},
		{ID: ID{Kind: PIDForChildren, Dev: 4, Inode: 30}, PID: 3, UID: 0, Command: "x"},
	})
	if len(rows) != 3 {
		t.Fatalf("Aggregate gave %d rows, want 3: %+v", len(rows), rows)
	}
	first := rows[0]
	if first.Inode != 10 || first.NProcs != 2 || first.PID != 7 || first.Command != "/sbin/init" || first.UID != 0 {
		t.Errorf("first row = %+v, want inode 10 with 2 processes, lowest PID 7 /sbin/init", first)
	}
	if rows[2].Kind != PID || rows[2].Link != "pid:[30]" {
		t.Errorf("a pid_for_children member should count under pid: %+v", rows[2])
	}
}

func TestParseStatusUID(t *testing.T) {
	tests := []struct {
		name, text string
		want       int
		wantErr    bool
	}{
		{name: "root", text: "Name:\tbash\nUid:\t0\t0\t0\t0\nGid:\t0\t0\t0\t0\n", want: 0},
		{name: "user", text: "Uid:\t1000\t1001\t1000\t1000\n", want: 1000},
		{name: "missing", text: "Name:\tx\n", want: -1, wantErr: true},
		{name: "empty uid", text: "Uid:\n", want: -1, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseStatusUIDText(tt.text)
			if (err != nil) != tt.wantErr || got != tt.want {
				t.Fatalf("ParseStatusUID = %d, %v; want %d (error %v)", got, err, tt.want, tt.wantErr)
			}
		})
	}
}

func TestErrorMessages(t *testing.T) {
	e := &Error{Op: "read", PID: 4242, Path: "/proc/4242", Err: ErrNoProcess}
	if got, want := e.Error(), "read /proc/4242: no such process (PID 4242 does not exist)"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
	if !errors.Is(e, ErrNoProcess) {
		t.Error("errors.Is(e, ErrNoProcess) = false")
	}
}
