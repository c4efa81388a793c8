//go:build linux

package timens

import (
	"github.com/nslab/nslab/pkg/lab"
)

// Lab is the time lab, registered with pkg/lab.
var Lab = &lab.Lab{
	Name:    "time",
	Title:   "Time namespaces: clocks of one's own",
	Summary: "   A time namespace holds two offsets, added to the monotonic and boot-time clocks of the processes in it; the date (CLOCK_REALTIME) is never shifted.",
	Steps: []*lab.Step{
		{
			ID: "01", Slug: "for_children", Title: "unshare changes time_for_children only", Points: 10,
			Explain: "unshare(2) with CLONE_NEWTIME makes a new time namespace for the calling thread's next children; the thread itself stays where it was.",
			Hints: []string{
				"One system call, on the calling thread: golang.org/x/sys/unix has a wrapper for unshare(2), and the flag for a time namespace.",
				"return unix.Unshare(unix.CLONE_NEWTIME) (wrapped with what failed); do not start a goroutine: the thread that calls it is the one whose children get the namespace.",
			},
			Do: lab.Do(runForChildren, checkForChildren),
		},
		{
			ID: "02", Slug: "set_offsets", Title: "Setting the offsets before anyone enters", Points: 10,
			Explain: "/proc/PID/timens_offsets sets the clocks of PID's time_for_children, one line a clock, in a single write(2); the kernel checks every line.",
			Hints: []string{
				"Open /proc/PID/timens_offsets for writing (os.OpenFile with os.O_WRONLY) and write both lines at once: \"monotonic SECS NANOSECS\\nboottime SECS NANOSECS\\n\".",
				"NANOSECS must be in [0, 999999999]: for a negative duration, take seconds rounded down (d/time.Second, minus 1 when d%time.Second < 0) and add a second to the remainder.",
				"Return the write's error wrapped with %w, so that errors.Is(err, syscall.ERANGE) still sees the kernel's refusal.",
			},
			Do: lab.Do(runSetOffsets, checkSetOffsets),
		},
		{
			ID: "03", Slug: "read_offsets", Title: "Reading the offsets back; frozen once entered", Points: 10,
			Explain: "the offsets of a namespace can be read by anyone at any time, and written only until its first process enters: then EACCES.",
			Hints: []string{
				"The kernel pads the fields with blanks (\"monotonic          -2 500000000\"): strings.Fields splits on any run of them.",
				"For each non-empty line: three fields, a known clock name, strconv.ParseInt for both numbers, nanoseconds in [0, 999999999]; offset = secs*time.Second + nanos.",
			},
			Do: lab.Do(runReadOffsets, checkReadOffsets),
		},
		{
			ID: "04", Slug: "clocks", Title: "Monotonic and boot time shift, the date does not", Points: 10,
			Explain: "inside a time namespace, CLOCK_MONOTONIC and CLOCK_BOOTTIME read the machine's value plus the namespace's offsets; CLOCK_REALTIME is the machine's.",
			Hints: []string{
				"clock_gettime(2), once for each clock: unix.ClockGettime(id, &ts) with unix.CLOCK_REALTIME, unix.CLOCK_MONOTONIC and unix.CLOCK_BOOTTIME.",
				"time.Duration(ts.Nano()) turns a unix.Timespec into a duration since the clock's zero.",
			},
			Do: lab.Do(runClocks, checkClocks),
		},
		{
			ID: "05", Slug: "uptime", Title: "A machine that booted a year ago", Points: 10,
			Explain: "/proc/uptime and sysinfo(2) count from boot with CLOCK_BOOTTIME, so they follow the namespace's boottime offset: uptime(1) inside says a year.",
			Hints: []string{
				"/proc/uptime holds two numbers: the uptime first, then the idle time of all CPUs; only the first is what you want.",
				"strconv.ParseFloat the first field of /proc/uptime and multiply by float64(time.Second); unix.Sysinfo(&si) gives si.Uptime in whole seconds.",
			},
			Do: lab.Do(runUptime, checkUptime),
		},
		{
			ID: "06", Slug: "join", Title: "Joining needs a single-threaded process", Points: 10,
			Explain: "setns(2) into a time namespace fails with EUSERS unless the caller has one thread; a Go program gets a process in through nsenter(1).",
			Hints: []string{
				"Neither ns.Do nor spawn's Join can do it: both call setns(2) from a Go process, which always has several threads.",
				"Run the command under nsenter(1): set cmd.Args to nsenter --target PID --time -- cmd.Path and the rest of cmd.Args, cmd.Path to exec.LookPath(\"nsenter\"), and cmd.Start().",
			},
			Do: lab.Do(runJoin, checkJoin),
		},
	},
}

func init() { lab.Register(Lab) }
