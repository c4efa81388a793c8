package loop

import (
	"strings"
	"testing"
)

func TestArgs(t *testing.T) {
	top := []string{"grade", "hint", "reset", "progress", "watch", "check", "starter"}
	tests := []struct{ in, want string }{
		{"grade", "grade"},
		{"grade uts", "grade -lab=uts"},
		{"grade -lab=uts", "grade -lab=uts"},
		{"grade uts -pristine=HEAD", "grade -lab=uts -pristine=HEAD"},
		{"grade -pristine HEAD uts", "grade -lab=uts -pristine=HEAD"},
		{"Grade nosuchlab", "Grade -lab=nosuchlab"},
		{"grade check", "grade check"},
		{"grade lab:uts", "grade lab:uts"},
		{"progress ipc", "progress -lab=ipc"},
		{"watch", "watch"},
		{"watch mount", "watch -lab=mount"},
		{"hint uts", "hint uts"},
		{"hint -step=2 uts", "hint uts -step=2"},
		{"hint uts -step 2 -level 3", "hint uts -step=2 -level=3"},
		{"hint --step=2 --level=2 pid", "hint pid -step=2 -level=2"},
		{"hint -step=2", "hint  -step=2"},
		{"hint", "hint "},
		{"reset uts", "reset uts "},
		{"reset uts 02", "reset uts 02"},
		{"reset -yes uts 02", "reset uts 02 -yes"},
		{"reset uts -yes 2", "reset uts 2 -yes"},
		{"reset uts 02 grade uts", "reset uts 02 grade -lab=uts"},
		{"starter /tmp/x", "starter /tmp/x"},
		{"lab:uts", "lab:uts"},
		{"", ""},
	}
	for _, tt := range tests {
		got := strings.Join(Args(strings.Fields(tt.in), top), " ")
		if got != tt.want {
			t.Errorf("Args(%q) = %q; want %q", tt.in, got, tt.want)
		}
	}
}
