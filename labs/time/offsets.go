package timens

import (
	"fmt"
	"time"

	"github.com/nslab/nslab/pkg/ns"
)

// Offsets are what a time namespace adds to two clocks of the machine: the
// lines of /proc/PID/timens_offsets (time_namespaces(7)). CLOCK_REALTIME has
// no offset: a time namespace never changes the date.
type Offsets struct {
	Monotonic time.Duration `json:"monotonic"` // added to CLOCK_MONOTONIC (and _RAW, _COARSE)
	Boottime  time.Duration `json:"boottime"`  // added to CLOCK_BOOTTIME, /proc/uptime and sysinfo(2)
}

func (o Offsets) String() string {
	return fmt.Sprintf("monotonic %s, boottime %s", span(o.Monotonic), span(o.Boottime))
}

// secsNanos splits d as the kernel writes an offset: whole seconds rounded
// down and nanoseconds in [0, 1e9), so -1.5 s is -2 s and 500000000 ns.
func secsNanos(d time.Duration) (secs, nanos int64) {
	secs, nanos = int64(d/time.Second), int64(d%time.Second)
	if nanos < 0 {
		secs, nanos = secs-1, nanos+int64(time.Second)
	}
	return secs, nanos
}

// offsetsText is the lab's own rendering of o for timens_offsets: one line a
// clock, "CLOCK SECS NANOSECS".
func offsetsText(o Offsets) string {
	ms, mn := secsNanos(o.Monotonic)
	bs, bn := secsNanos(o.Boottime)
	return fmt.Sprintf("monotonic %d %d\nboottime %d %d\n", ms, mn, bs, bn)
}

// parseOffsets is the reader of /proc/PID/timens_offsets that the harness
// trusts: the project's own, ns.ParseOffsets (table-tested in pkg/ns).
func parseOffsets(text string) (Offsets, error) {
	o, err := ns.ParseOffsets(text)
	return Offsets(o), err
}

// span prints a duration for people: "365 days", "7 days + 250ms", "-1.5s".
func span(d time.Duration) string {
	const day = 24 * time.Hour
	if d < day && d > -day {
		return d.String()
	}
	sign := ""
	if d < 0 {
		sign, d = "-", -d
	}
	days, rest := d/day, d%day
	unit := "days"
	if days == 1 {
		unit = "day"
	}
	switch {
	case rest == 0:
		return fmt.Sprintf("%s%d %s", sign, days, unit)
	case sign != "":
		return fmt.Sprintf("-(%d %s + %s)", days, unit, rest)
	}
	return fmt.Sprintf("%d %s + %s", days, unit, rest)
}
