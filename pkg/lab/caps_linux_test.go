package lab

import (
	"errors"
	"os"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// TestWithoutCap: without CAP_SYS_ADMIN the kernel refuses sethostname
// with EPERM (the name asked for is the current one, so nothing would
// change even if it did not), and a panic of fn becomes an error naming
// its line.
func TestWithoutCap(t *testing.T) {
	name, err := os.Hostname()
	if err != nil {
		t.Fatal(err)
	}
	err = WithoutCap(unix.CAP_SYS_ADMIN, func() error { return unix.Sethostname([]byte(name)) })
	if !errors.Is(err, unix.EPERM) {
		t.Errorf("sethostname without CAP_SYS_ADMIN: %v, want EPERM", err)
	}
	err = WithoutCap(unix.CAP_SYS_ADMIN, func() error { panic("learner bug") })
	if err == nil || !strings.Contains(err.Error(), "panic") || !strings.Contains(err.Error(), "learner bug") {
		t.Errorf("a panic in fn: %v, want an error that says it panicked", err)
	}
}
