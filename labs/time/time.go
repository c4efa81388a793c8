//go:build linux

package timens

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// UnshareTime is step 01: give the calling thread a new time namespace for
// its children, with unshare(2). The caller has locked its goroutine to the
// thread (runtime.LockOSThread) and starts a child from it afterwards; the
// caller itself stays in its time namespace. Return the kernel's error
// wrapped when it refuses (EPERM without CAP_SYS_ADMIN).
func UnshareTime() error {
	// BEGIN SOLUTION
	if err := unix.Unshare(unix.CLONE_NEWTIME); err != nil {
		return fmt.Errorf("unshare(CLONE_NEWTIME): %w", err)
	}
	return nil
	// END SOLUTION
}

// SetOffsets is step 02: set the offsets of the time namespace that process
// (or thread) pid's next children will be born in, its time_for_children,
// by writing o to /proc/PID/timens_offsets: one line a clock, "monotonic
// SECS NANOSECS" and "boottime SECS NANOSECS", NANOSECS in [0, 999999999].
// Return the kernel's error, wrapped, when it refuses.
func SetOffsets(pid int, o Offsets) error {
	// BEGIN SOLUTION
	line := func(clock string, d time.Duration) string {
		secs, nanos := d/time.Second, d%time.Second
		if nanos < 0 { // the kernel wants whole seconds rounded down, then nanoseconds >= 0
			secs, nanos = secs-1, nanos+time.Second
		}
		return fmt.Sprintf("%s %d %d\n", clock, int64(secs), int64(nanos))
	}
	text := line("monotonic", o.Monotonic) + line("boottime", o.Boottime)
	path := fmt.Sprintf("/proc/%d/timens_offsets", pid)
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		return err
	}
	_, err = f.WriteString(text) // one write(2): the kernel checks both lines before it applies either
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("write %q to %s: %w", text, path, err)
	}
	return nil
	// END SOLUTION
}

// ParseOffsets is step 03: parse the text of /proc/PID/timens_offsets. Each
// line is "CLOCK SECS NANOSECS", the fields separated by any number of
// blanks; CLOCK is monotonic or boottime; the offset is SECS seconds (which
// may be negative) plus NANOSECS nanoseconds, in [0, 999999999]. Both
// clocks must have a line; any other line is an error.
func ParseOffsets(text string) (Offsets, error) {
	// BEGIN SOLUTION
	var o Offsets
	seen := map[string]bool{}
	for line := range strings.Lines(text) {
		f := strings.Fields(line)
		if len(f) == 0 {
			continue
		}
		if len(f) != 3 {
			return Offsets{}, fmt.Errorf("timens_offsets line %q: want CLOCK SECS NANOSECS", line)
		}
		secs, err := strconv.ParseInt(f[1], 10, 64)
		if err != nil {
			return Offsets{}, fmt.Errorf("timens_offsets line %q: %w", line, err)
		}
		nanos, err := strconv.ParseInt(f[2], 10, 64)
		if err != nil || nanos < 0 || nanos > 999999999 {
			return Offsets{}, fmt.Errorf("timens_offsets line %q: nanoseconds must be in [0, 999999999]", line)
		}
		d := time.Duration(secs)*time.Second + time.Duration(nanos)
		switch f[0] {
		case "monotonic":
			o.Monotonic = d
		case "boottime":
			o.Boottime = d
		default:
			return Offsets{}, fmt.Errorf("timens_offsets line %q: unknown clock %q", line, f[0])
		}
		seen[f[0]] = true
	}
	if !seen["monotonic"] || !seen["boottime"] {
		return Offsets{}, fmt.Errorf("timens_offsets %q: want a monotonic and a boottime line", text)
	}
	return o, nil
	// END SOLUTION
}

// ReadClocks is step 04: read the caller's CLOCK_REALTIME, CLOCK_MONOTONIC
// and CLOCK_BOOTTIME with clock_gettime(2). The lab calls it in a child
// whose time namespace has offsets.
func ReadClocks() (Clocks, error) {
	// BEGIN SOLUTION
	read := func(id int32) (time.Duration, error) {
		var ts unix.Timespec
		if err := unix.ClockGettime(id, &ts); err != nil {
			return 0, fmt.Errorf("clock_gettime(%d): %w", id, err)
		}
		return time.Duration(ts.Nano()), nil
	}
	var c Clocks
	var err error
	if c.Realtime, err = read(unix.CLOCK_REALTIME); err != nil {
		return c, err
	}
	if c.Monotonic, err = read(unix.CLOCK_MONOTONIC); err != nil {
		return c, err
	}
	c.Boottime, err = read(unix.CLOCK_BOOTTIME)
	return c, err
	// END SOLUTION
}

// ReadUptime is step 05: how long the machine has been up, as the caller's
// time namespace tells it: the first number of /proc/uptime (seconds, with
// two decimals), and the uptime field of sysinfo(2) (whole seconds). When
// /proc/uptime cannot be read, or holds no number, return an error (the
// system call's wrapped).
func ReadUptime() (Uptime, error) {
	// BEGIN SOLUTION
	b, err := os.ReadFile("/proc/uptime")
	if err != nil {
		return Uptime{}, err
	}
	f := strings.Fields(string(b))
	if len(f) == 0 {
		return Uptime{}, fmt.Errorf("/proc/uptime is empty")
	}
	secs, err := strconv.ParseFloat(f[0], 64)
	if err != nil {
		return Uptime{}, fmt.Errorf("/proc/uptime %q: %w", b, err)
	}
	var si unix.Sysinfo_t
	if err := unix.Sysinfo(&si); err != nil {
		return Uptime{}, fmt.Errorf("sysinfo: %w", err)
	}
	return Uptime{
		Proc:    time.Duration(secs * float64(time.Second)),
		Sysinfo: time.Duration(si.Uptime) * time.Second,
	}, nil
	// END SOLUTION
}

// StartInTimeOf is step 06: start cmd in the time namespace of process pid.
// cmd is ready to start: Path is absolute, Args[0] is the program's name,
// and its Env, standard files and SysProcAttr are set; keep them. setns(2)
// into a time namespace needs a single-threaded caller, which a Go program
// never is: hand the work to one that is, nsenter(1).
func StartInTimeOf(pid int, cmd *exec.Cmd) error {
	// BEGIN SOLUTION
	nsenter, err := exec.LookPath("nsenter")
	if err != nil {
		return errors.New("nsenter(1) not found in $PATH: install util-linux")
	}
	cmd.Args = append([]string{"nsenter", "--target", strconv.Itoa(pid), "--time", "--", cmd.Path}, cmd.Args[1:]...)
	cmd.Path = nsenter
	return cmd.Start()
	// END SOLUTION
}
