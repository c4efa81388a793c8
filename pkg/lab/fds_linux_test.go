package lab

import (
	"errors"
	"os"
	"testing"

	"golang.org/x/sys/unix"
)

func TestOpenFilesAndOneMore(t *testing.T) {
	before := OpenFiles()
	fd, err := unix.Open("/dev/null", unix.O_RDONLY|unix.O_CLOEXEC, 0) // not os.Open: its first call also opens the runtime's poller
	if err != nil {
		t.Fatal(err)
	}
	if got := OpenFiles(); got != before+1 {
		t.Errorf("OpenFiles after opening one file = %d, want %d", got, before+1)
	}
	unix.Close(fd)
	err = WithOneMoreFile(func() error {
		a, err := os.Open("/dev/null")
		if err != nil {
			t.Errorf("the one more file: %v", err)
			return nil
		}
		defer a.Close()
		b, err := os.Open("/dev/null")
		if err == nil {
			b.Close()
		}
		return err
	})
	if !errors.Is(err, unix.EMFILE) {
		t.Errorf("a second file under WithOneMoreFile: %v, want EMFILE", err)
	}
	if f, err := os.Open("/dev/null"); err != nil {
		t.Errorf("after WithOneMoreFile the limit is not restored: %v", err)
	} else {
		f.Close()
	}
}
