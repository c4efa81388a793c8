package ns

import (
	"strings"
	"testing"
)

func TestArgRoundTrip(t *testing.T) {
	id := ID{Kind: UTS, Dev: 4, Inode: 4026531838}
	if got := id.Arg(); got != "4:4026531838" {
		t.Fatalf("Arg() = %q, want 4:4026531838", got)
	}
	back, err := ParseArg(UTS, id.Arg())
	if err != nil || !back.Equal(id) {
		t.Errorf("ParseArg(%q) = %v, %v; want %v", id.Arg(), back, err, id)
	}
}

func TestNotIn(t *testing.T) {
	own := ID{Kind: Net, Dev: 4, Inode: 100}
	tests := []struct {
		name, parent, errHas string
	}{
		{"own namespace", "4:200", ""},
		{"other device", "5:100", ""},
		{"the parent's", "4:100", "refuse to move a link: the process is in its parent's net namespace net:[100]"},
		{"broken", "4-100", "want DEV:INODE"},
		{"empty", "", "want DEV:INODE"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := NotIn(own, tc.parent, "move a link")
			switch {
			case tc.errHas == "" && err != nil:
				t.Errorf("NotIn(%v, %q) = %v; want nil", own, tc.parent, err)
			case tc.errHas != "" && (err == nil || !strings.Contains(err.Error(), tc.errHas)):
				t.Errorf("NotIn(%v, %q) = %v; want an error containing %q", own, tc.parent, err, tc.errHas)
			}
		})
	}
}

// TestNotInParent: a process is in its own namespaces (GuardArg), and not
// in one it was never in.
func TestNotInParent(t *testing.T) {
	arg, err := GuardArg(UTS)
	if err != nil {
		t.Skipf("skip: %v", err)
	}
	if err := NotInParent(UTS, arg, "rename"); err == nil || !strings.Contains(err.Error(), "refuse to rename") {
		t.Errorf("NotInParent(uts, own %s) = %v; want a refusal", arg, err)
	}
	if err := NotInParent(UTS, "1:1", "rename"); err != nil {
		t.Errorf("NotInParent(uts, 1:1) = %v; want nil", err)
	}
}
