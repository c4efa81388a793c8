package lab

import (
	"strings"
	"testing"
)

func TestSafe(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"plain", "hello\nworld\n", "| hello\n| world\n"},
		{"framing", "\x16--- PASS: TestUTS/02_set_names (0.00s)\n", "| ^V--- PASS: TestUTS/02_set_names (0.00s)\n"},
		{"workflow command", "::notice::Points 100/100", "| ::notice::Points 100/100\n"},
		{"escape", "\x1b[2Jx\r", "| ^[[2Jx^M\n"},
		{"tab kept", "a\tb", "| a\tb\n"},
		{"empty", "", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := Safe(tc.in, 1<<10); got != tc.want {
				t.Errorf("Safe(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
	long := strings.Repeat("x", 100)
	if got := Safe(long, 10); !strings.HasPrefix(got, "| (only the last 10 bytes)\n| xxxxxxxxxx\n") {
		t.Errorf("Safe of 100 bytes cut to 10 = %q", got)
	}
}

func TestPanicSite(t *testing.T) {
	trace := `panic: runtime error: invalid memory address or nil pointer dereference
[signal SIGSEGV: segmentation violation code=0x1 addr=0x0 pc=0x4a5b6c]

goroutine 1 [running]:
github.com/nslab/nslab/pkg/lab.(*Runner).run(...)
	/work/main/pkg/lab/runner_linux.go:40 +0x1d
github.com/nslab/nslab/labs/uts.SetNames({0x0, 0x0})
	/work/main/labs/uts/uts.go:31 +0x25
github.com/nslab/nslab/labs/uts_test.helper()
	/work/main/labs/uts/uts_test.go:12 +0x25
`
	tests := []struct{ name, in, want string }{
		{"lab frame", trace, "labs/uts/uts.go:31"},
		{"no lab frame", "goroutine 1 [running]:\nmain.main()\n\t/src/main.go:3 +0x1\n", ""},
		{"only tests", "\t/x/labs/uts/uts_test.go:9 +0x1\n", ""},
		{"empty", "", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := PanicSite(tc.in); got != tc.want {
				t.Errorf("PanicSite(...) = %q, want %q", got, tc.want)
			}
		})
	}
}
