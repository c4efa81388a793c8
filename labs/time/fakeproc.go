//go:build linux

package timens

import (
	"context"
	"errors"
	"fmt"
	"os"

	"github.com/nslab/nslab/pkg/holder"
	"github.com/nslab/nslab/pkg/lab"
	"github.com/nslab/nslab/pkg/ns"
	"github.com/nslab/nslab/pkg/spawn"
	"golang.org/x/sys/unix"
)

// A child with a fake /proc: in a new mount namespace of its own, it mounts
// a tmpfs on /proc, and calls ReadUptime with /proc/uptime made, in turn,
// each of fakeUptimes, none of which it can read an uptime from. It reports
// what ReadUptime returned, and waits, as the time-child does.

// fakeUptimes are what the child makes /proc/uptime: a directory (reading
// it fails with EISDIR), or a file with text.
var fakeUptimes = []struct {
	name, text string
	dir        bool
	errno      string // the errno ReadUptime's error must wrap; "" when any error will do
}{
	{name: "a directory", dir: true, errno: "EISDIR"},
	{name: "an empty file"},
	{name: "a file of words", text: "up long\n"},
}

// fakeReport is the child's report: ReadUptime on each of fakeUptimes.
type fakeReport struct {
	Cases []refusal
	Err   string // the lab's own failure to make the fakes
}

// fakeUptimeCases mounts the fake /proc, once it is sure that this is not
// its parent's mount namespace, and calls ReadUptime on each fake.
func fakeUptimeCases(parent string, r *fakeReport) error {
	own, err := ns.Get(ns.Self, ns.Mnt)
	if err != nil {
		return err
	}
	if err := ns.NotIn(own, parent, "mount a fake /proc"); err != nil {
		return err
	}
	if err := unix.Mount("fakeproc", "/proc", "tmpfs", unix.MS_NOSUID|unix.MS_NODEV|unix.MS_NOEXEC, "mode=0755"); err != nil {
		return fmt.Errorf("mount a tmpfs on /proc: %w", err)
	}
	for _, f := range fakeUptimes {
		if err := makeFake(f.dir, f.text); err != nil {
			return err
		}
		_, err := ReadUptime()
		r.Cases = append(r.Cases, refusalOf(fmt.Sprintf("ReadUptime() with %s for /proc/uptime", f.name), err))
		if err := os.RemoveAll("/proc/uptime"); err != nil {
			return err
		}
	}
	return nil
}

// makeFake makes /proc/uptime a directory, or a file with text.
func makeFake(dir bool, text string) error {
	if dir {
		return os.Mkdir("/proc/uptime", 0o755)
	}
	return os.WriteFile("/proc/uptime", []byte(text), 0o644)
}

// runFakeUptime starts the child with a fake /proc, held until cleanup,
// and reads its report. A child that ended before it reported (a panic of
// ReadUptime) is died, for the check to say after its other verdicts; an
// unwritten step is the error.
func runFakeUptime(ctx context.Context, cleanup *lab.Cleanup) (cases []refusal, died string, err error) {
	mnt, err := ns.Get(ns.Self, ns.Mnt)
	if err != nil {
		return nil, "", err
	}
	h, err := holder.Start(ctx, spawn.Config{New: []ns.Kind{ns.Mnt}, Entrypoint: entryFakeUptime, Args: []string{mnt.Arg()}})
	if err != nil {
		return nil, "", fmt.Errorf("start a child in a new mount namespace: %w", err)
	}
	cleanup.Add(h.Stop)
	var r fakeReport
	err = h.Report(&r)
	var ee *spawn.ExitError
	var todo *lab.NotImplemented
	switch {
	case errors.As(err, &ee):
		err := ended(h, modeUptime, ee)
		if errors.As(err, &todo) {
			return nil, "", err
		}
		return nil, err.Error(), nil
	case err != nil:
		return nil, "", err
	case r.Err != "":
		return nil, "", fmt.Errorf("the child with a fake /proc (PID %d): %s", h.PID(), r.Err)
	}
	return r.Cases, "", nil
}
