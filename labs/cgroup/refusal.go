//go:build linux

package cgroup

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/nslab/nslab/pkg/lab"
	"golang.org/x/sys/unix"
)

// A refusal is a call of the learner's code that the kernel must refuse:
// a step passes only when the learner's function returns the kernel's
// error, wrapped (errors.Is finds it), not nil and not an error of its own.
type refusal struct {
	Call string // the call, as the learner would write it
	Want string // the error it must wrap: the kernel's ENOENT, the kernel's ESRCH, strconv's ErrSyntax
	Err  string // what the call returned; "" for nil
	Is   bool   // errors.Is(err, the kernel's answer)
	Name string // a path the error must name; "" for none
}

func refused(call string, err error, want string) refusal {
	target := map[string]error{"the kernel's ENOENT": fs.ErrNotExist, "the kernel's ESRCH": unix.ESRCH, "strconv's ErrSyntax": strconv.ErrSyntax}[want]
	return refusal{Call: call, Want: want, Err: lab.ErrText(err), Is: err != nil && errors.Is(err, target)}
}

// checkRefused is the check half of a refusal.
func checkRefused(c *lab.Check, r refusal) error {
	c.Say("%s returned %q", r.Call, r.Err)
	switch {
	case r.Err == "":
		return c.Failf("%s returned no error; want the error that refused it (%s), not nil", r.Call, r.Want)
	case !r.Is:
		return c.Failf("%s returned %q; want an error that wraps %s (return it, or fmt.Errorf with %%w), so that errors.Is finds it", r.Call, r.Err, r.Want)
	case !strings.Contains(r.Err, r.Name):
		return c.Failf("%s returned %q; want an error that names the file it could not read, %s", r.Call, r.Err, r.Name)
	}
	c.Check(true, "%s returns %s, wrapped", r.Call, r.Want)
	return nil
}

// endedPID is the PID of a process that has ended and been reaped: no
// process has it now.
func endedPID() (int, error) {
	cmd := exec.Command("true")
	if err := cmd.Run(); err != nil {
		return 0, fmt.Errorf("run true, for a PID that no process has: %w", err)
	}
	return cmd.Process.Pid, nil
}

// garbled makes a directory whose pids.max holds a number and whose
// pids.current holds none, as no kernel writes it.
func garbled() (string, error) {
	dir, err := os.MkdirTemp("", "nslab-garbled-")
	if err != nil {
		return "", err
	}
	if err := os.WriteFile(filepath.Join(dir, "pids.max"), []byte("64\n"), 0o644); err != nil {
		return dir, err
	}
	return dir, os.WriteFile(filepath.Join(dir, "pids.current"), []byte("many\n"), 0o644)
}
