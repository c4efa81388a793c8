//go:build linux

package timens

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// Clocks are three clocks of the caller, as clock_gettime(2) reads them,
// each as a duration since the clock's zero.
type Clocks struct {
	Realtime  time.Duration `json:"realtime"`  // CLOCK_REALTIME: since the Unix epoch
	Monotonic time.Duration `json:"monotonic"` // CLOCK_MONOTONIC: since some point at boot, without suspend
	Boottime  time.Duration `json:"boottime"`  // CLOCK_BOOTTIME: since boot, with suspend
}

func (c Clocks) String() string {
	return fmt.Sprintf("realtime %s, monotonic %s, boottime %s",
		time.Unix(0, int64(c.Realtime)).UTC().Format(time.RFC3339), span(c.Monotonic), span(c.Boottime))
}

// Uptime is how long the machine has been up, as a process reads it.
type Uptime struct {
	Proc    time.Duration `json:"proc"`    // the first number of /proc/uptime (hundredths of a second)
	Sysinfo time.Duration `json:"sysinfo"` // the uptime field of sysinfo(2) (whole seconds)
}

func (u Uptime) String() string {
	return fmt.Sprintf("/proc/uptime %s, sysinfo(2) %s", span(u.Proc), span(u.Sysinfo))
}

// clock reads one clock with clock_gettime(2): the lab's own reader.
func clock(id int32) (time.Duration, error) {
	var ts unix.Timespec
	if err := unix.ClockGettime(id, &ts); err != nil {
		return 0, fmt.Errorf("clock_gettime(%d): %w", id, err)
	}
	return time.Duration(ts.Nano()), nil
}

// readClocks is the lab's own reading of the caller's clocks.
func readClocks() (c Clocks, err error) {
	if c.Realtime, err = clock(unix.CLOCK_REALTIME); err != nil {
		return c, err
	}
	if c.Monotonic, err = clock(unix.CLOCK_MONOTONIC); err != nil {
		return c, err
	}
	c.Boottime, err = clock(unix.CLOCK_BOOTTIME)
	return c, err
}

// procUptime reads the first number of /proc/uptime: seconds since boot,
// with two decimals, in the reader's time namespace.
func procUptime() (time.Duration, error) {
	b, err := os.ReadFile("/proc/uptime")
	if err != nil {
		return 0, err
	}
	return parseUptime(string(b))
}

// parseUptime reads "12345.67 23456.78\n": the first number, uptime.
func parseUptime(text string) (time.Duration, error) {
	f := strings.Fields(text)
	if len(f) != 2 {
		return 0, fmt.Errorf("parse /proc/uptime %q: want two numbers", strings.TrimSpace(text))
	}
	secs, frac, _ := strings.Cut(f[0], ".")
	s, err := strconv.ParseInt(secs, 10, 64)
	if err != nil || s < 0 || len(frac) > 9 {
		return 0, fmt.Errorf("parse /proc/uptime %q: bad uptime %q", strings.TrimSpace(text), f[0])
	}
	var n int64
	if frac != "" {
		if n, err = strconv.ParseInt((frac + "000000000")[:9], 10, 64); err != nil || n < 0 {
			return 0, fmt.Errorf("parse /proc/uptime %q: bad uptime %q", strings.TrimSpace(text), f[0])
		}
	}
	return time.Duration(s)*time.Second + time.Duration(n), nil
}

// window is an outside reading of the clocks before and after something
// inside read them: what it read, less the offsets, must fall between.
type window struct {
	Before, After Clocks
}

// slack is what a reading may stray outside its window: the coarse
// resolutions of /proc/uptime (10 ms) and sysinfo(2) (1 s, rounded up), and
// nothing more. The windows themselves are as wide as the machine is slow.
const slack = 2 * time.Second

// within reports whether v lies in [lo - slack, hi + slack].
func within(v, lo, hi time.Duration) bool { return v >= lo-slack && v <= hi+slack }

// sysinfoUptime is the uptime field of sysinfo(2): the lab's own reading.
func sysinfoUptime() (time.Duration, error) {
	var si unix.Sysinfo_t
	if err := unix.Sysinfo(&si); err != nil {
		return 0, fmt.Errorf("sysinfo: %w", err)
	}
	return time.Duration(si.Uptime) * time.Second, nil
}

// clockBoottime is CLOCK_BOOTTIME, for the harness's own reading.
const clockBoottime = unix.CLOCK_BOOTTIME
