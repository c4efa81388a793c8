package ns

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Offsets are the clock offsets of a time namespace, as
// /proc/PID/timens_offsets shows them for the process's time_for_children
// namespace (time_namespaces(7)): what CLOCK_MONOTONIC and CLOCK_BOOTTIME
// read inside minus what they read outside.
type Offsets struct {
	Monotonic time.Duration `json:"monotonic_ns"`
	Boottime  time.Duration `json:"boottime_ns"`
}

func (o Offsets) String() string {
	return fmt.Sprintf("monotonic %v, boottime %v", o.Monotonic, o.Boottime)
}

// ParseOffsets reads the text of /proc/PID/timens_offsets: one line per
// clock, "monotonic SECONDS NANOSECONDS" and "boottime SECONDS NANOSECONDS"
// (SECONDS may be negative; NANOSECONDS lies in [0, 1e9)).
func ParseOffsets(text string) (Offsets, error) {
	var o Offsets
	seen := map[string]bool{}
	for line := range strings.Lines(text) {
		f := strings.Fields(line)
		if len(f) == 0 {
			continue
		}
		d, err := parseOffset(f)
		if err != nil {
			return Offsets{}, fmt.Errorf("parse timens_offsets line %q: %w", strings.TrimSpace(line), err)
		}
		switch f[0] {
		case "monotonic":
			o.Monotonic = d
		case "boottime":
			o.Boottime = d
		}
		seen[f[0]] = true
	}
	if !seen["monotonic"] || !seen["boottime"] {
		return Offsets{}, fmt.Errorf("parse timens_offsets %q: want a monotonic and a boottime line", text)
	}
	return o, nil
}

func parseOffset(f []string) (time.Duration, error) {
	if len(f) != 3 || (f[0] != "monotonic" && f[0] != "boottime") {
		return 0, fmt.Errorf("want CLOCK SECONDS NANOSECONDS with CLOCK monotonic or boottime")
	}
	secs, err := strconv.ParseInt(f[1], 10, 64)
	if err != nil {
		return 0, fmt.Errorf("seconds: %w", err)
	}
	nsecs, err := strconv.ParseInt(f[2], 10, 64)
	if err != nil || nsecs < 0 || nsecs >= 1e9 {
		return 0, fmt.Errorf("nanoseconds %q: want 0 to 999999999", f[2])
	}
	if secs > int64(time.Duration(1<<63-1)/time.Second)-1 || secs < -int64(time.Duration(1<<63-1)/time.Second)+1 {
		return 0, fmt.Errorf("seconds %d: beyond what a Go duration holds", secs)
	}
	return time.Duration(secs)*time.Second + time.Duration(nsecs), nil
}
