//go:build linux

package timens

import (
	"fmt"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/nslab/nslab/pkg/lab"
	"github.com/nslab/nslab/pkg/ns"
)

// The check halves of the steps: in the harness, they verify the reports
// of run.go against the kernel where it still holds the facts (the
// namespaces and timens_offsets of the held children and of the nursery
// thread, the harness's own clocks), narrate, and return what the kernel
// was expected to do and did not.

// sets reads the namespaces of the runner and of pids, and prints them side
// by side; titles name them ("holder", or "locked thread, TID" where pid is
// a thread's ID).
func sets(c *lab.Check, titles []string, pids ...int) ([]ns.Set, error) {
	host, err := c.Host()
	if err != nil {
		return nil, fmt.Errorf("read the namespaces of the runner: %w", err)
	}
	out := []ns.Set{host}
	cols := []lab.Column{{Title: fmt.Sprintf("host (PID %d)", host.PID), Set: host}}
	for i, pid := range pids {
		name, word, ok := strings.Cut(titles[i], ", ")
		if !ok {
			word = "PID"
		}
		s, err := c.NS(pid)
		if err != nil {
			return nil, fmt.Errorf("read the namespaces of the %s, %s %d: %w", name, word, pid, err)
		}
		out = append(out, s)
		cols = append(cols, lab.Column{Title: fmt.Sprintf("%s (%s %d)", name, word, pid), Set: s})
	}
	c.Table(cols...)
	return out, nil
}

func get(s ns.Set, k ns.Kind) ns.ID {
	id, _ := s.Get(k)
	return id
}

// offsetsOf reads the offsets of process pid's time_for_children from the harness.
func offsetsOf(c *lab.Check, pid int) (Offsets, error) {
	text, err := c.ReadFile(pid, "timens_offsets")
	if err != nil {
		return Offsets{}, fmt.Errorf("read /proc/%d/timens_offsets: %w", pid, err)
	}
	return parseOffsets(text)
}

func checkForChildren(c *lab.Check, r forChildrenReport) error {
	s, err := sets(c, []string{"locked thread, TID", "its child"}, r.Thread, r.Child)
	if err != nil {
		return err
	}
	host, thread, child := s[0], s[1], s[2]
	c.Say("the locked thread's links before UnshareTime: time %s, time_for_children %s", r.Before.Time, r.Before.ForChildren)
	c.Say("after: time %s, time_for_children %s; its child read time %s", r.After.Time, r.After.ForChildren, r.Saw.Links.Time)
	ht, hfc := get(host, ns.Time), get(host, ns.TimeForChildren)
	tt, tfc := get(thread, ns.Time), get(thread, ns.TimeForChildren)
	ct := get(child, ns.Time)
	switch {
	case tfc.Equal(tt):
		return c.Failf("after UnshareTime, the time_for_children of the thread that called it (TID %d) is %s, its own time namespace; want a new one: unshare(2) with CLONE_NEWTIME, on the calling thread itself (not on another goroutine)", r.Thread, tfc)
	case !tt.Equal(ht):
		return c.Failf("the thread that called UnshareTime is in time namespace %s, the process's is %s; want it to stay where it was (unshare(2) of CLONE_NEWTIME changes time_for_children only)", tt, ht)
	case !hfc.Equal(ht):
		return c.Failf("the process's main thread (PID %d) now has time_for_children %s, not its own time namespace %s; want only the calling thread changed", host.PID, hfc, ht)
	case !ct.Equal(tfc):
		return c.Failf("the first child of the thread is in time namespace %s; want the thread's time_for_children %s", ct, tfc)
	case r.Saw.Links.Time != tfc.String():
		return c.Failf("the child read its time namespace as %q; want %q, the thread's time_for_children", r.Saw.Links.Time, tfc)
	}
	c.Check(true, "the thread stays in %s; its time_for_children is the new %s, where its first child is", tt, tfc)
	if err := lab.CheckNewKinds(host, child, ns.Time); err != nil {
		return c.Failf("%v", err)
	}
	c.Check(true, "the child shares every other kind with the host")
	return checkUnshareRefused(c, r)
}

// checkUnshareRefused checks UnshareTime on a thread without CAP_SYS_ADMIN:
// refused with EPERM, and the thread's time_for_children unchanged.
func checkUnshareRefused(c *lab.Check, r forChildrenReport) error {
	if err := refused(c, r.NoCap, "EPERM"); err != nil {
		return err
	}
	l := r.NoCapLinks
	if s, err := c.NS(r.NoCapThread); err == nil {
		l = timeLinks{Time: get(s, ns.Time).String(), ForChildren: get(s, ns.TimeForChildren).String()}
	}
	if l != r.NoCapLinks || l.ForChildren != l.Time {
		return c.Failf("after the refused UnshareTime, thread %d has time %s and time_for_children %s (it reported %s and %s); want its own time namespace for both", r.NoCapThread, l.Time, l.ForChildren, r.NoCapLinks.Time, r.NoCapLinks.ForChildren)
	}
	c.Check(true, "without CAP_SYS_ADMIN, UnshareTime returns the kernel's EPERM and changes nothing")
	return nil
}

// refused checks one call that the kernel refused: it returned an error
// that wraps want (any error when want is ""), and that fmt could format.
func refused(c *lab.Check, r refusal, want string) error {
	c.Say("%s: %s", r.Text, lab.Or(r.Err, "no error"))
	switch {
	case r.Err == "":
		return c.Failf("%s returned nil; want an error%s: return the error of the call that failed, never drop it", r.Text, withErrno(want))
	case want != "" && r.Errno != want:
		return c.Failf("%s returned %q; want an error that wraps the kernel's %s (fmt.Errorf with %%w), so that errors.Is finds it", r.Text, r.Err, want)
	case strings.Contains(r.Err, "%!"):
		return c.Failf("%s returned %q, a text fmt could not format (%%!: a verb without its value, or a value without its verb); want a readable error: check the order of fmt.Errorf's format and arguments", r.Text, r.Err)
	}
	return nil
}

func withErrno(errno string) string {
	if errno == "" {
		return ""
	}
	return " that wraps the kernel's " + errno
}

func checkSetOffsets(c *lab.Check, r setOffsetsReport) error {
	for _, b := range r.Bad {
		c.Say("the lab wrote %q: the kernel said %s", b.Text, lab.Or(b.Err, "nothing (the write succeeded)"))
		if b.Errno != "EINVAL" {
			return c.Failf("writing %q to timens_offsets gave %s; the kernel refuses an unknown clock, or nanoseconds outside [0, 999999999], with EINVAL", b.Text, lab.Or(b.Errno, "nothing (the write succeeded)"))
		}
	}
	c.Say("SetOffsets(%d, %s) returned %q", r.Thread, r.TooFar, r.TooFarEr)
	if !r.IsERANGE {
		return c.Failf("SetOffsets(%d, %s) returned %q; want an error that wraps the kernel's ERANGE (errors.Is(err, syscall.ERANGE)): return the error of write(2), wrapped with %%w", r.Thread, r.TooFar, r.TooFarEr)
	}
	c.Check(true, "an offset past the kernel's range is refused with ERANGE, and SetOffsets says so")
	if err := refused(c, r.NoFile, "ENOENT"); err != nil {
		return err
	}
	c.Say("SetOffsets(%d, %s): %s; the file then read %s", r.Thread, r.Edge, lab.Or(r.EdgeErr, "nil"), r.EdgeGot)
	if r.EdgeErr != "" || r.EdgeGot != r.Edge {
		ms, mn := secsNanos(r.Edge.Monotonic)
		return c.Failf("SetOffsets(%d, %s) returned %s and the namespace then had %s; want %s (a negative offset is whole seconds rounded down plus positive nanoseconds: %s is \"%d %d\", even a single nanosecond)", r.Thread, r.Edge, lab.Or(r.EdgeErr, "nil"), r.EdgeGot, r.Edge, span(r.Edge.Monotonic), ms, mn)
	}
	s, err := sets(c, []string{"locked thread, TID", "its child"}, r.Thread, r.Child)
	if err != nil {
		return err
	}
	host, thread, child := s[0], s[1], s[2]
	if ct := get(child, ns.Time); !ct.Equal(get(thread, ns.TimeForChildren)) || ct.Equal(get(host, ns.Time)) {
		return c.Failf("the child is in time namespace %s; want the new one of the thread, %s", ct, get(thread, ns.TimeForChildren))
	}
	got, err := offsetsOf(c, r.Child)
	if err != nil {
		return err
	}
	c.Say("/proc/%d/timens_offsets (the child's namespace): %s", r.Child, got)
	if got != r.Want {
		ws, wn := secsNanos(r.Want.Monotonic)
		return c.Failf("after SetOffsets(%d, %s), the namespace has %s; want what SetOffsets was given (a negative offset is written as whole seconds rounded down plus positive nanoseconds: %s is \"%d %d\")", r.Thread, r.Want, got, span(r.Want.Monotonic), ws, wn)
	}
	if own, err := offsetsOf(c, c.Runner); err == nil && own != (Offsets{}) {
		return c.Failf("the runner's own time_for_children (PID %d) has offsets %s; want 0: SetOffsets must write the file of the pid it is given", c.Runner, own)
	}
	c.Check(true, "the new namespace has the offsets SetOffsets wrote: %s", got)
	return nil
}

// checkArgv checks, from outside, that the joiner runs the command with
// its own arguments: nsenter executed cmd.Path with cmd.Args[1:] after it.
func checkArgv(c *lab.Check, r joinReport) error {
	text, err := c.ReadFile(r.Joiner, "cmdline")
	if err != nil {
		return fmt.Errorf("read /proc/%d/cmdline: %w", r.Joiner, err)
	}
	argv := strings.Split(strings.TrimSuffix(text, "\x00"), "\x00")
	c.Say("the joiner's command line: %q", argv)
	if !slices.Equal(argv, r.Argv) {
		return c.Failf("the process StartInTimeOf started (PID %d) runs with the arguments %q; want the command's own, %q: nsenter --target PID --time -- cmd.Path, then cmd.Args without its first (the program's name, which cmd.Path replaces)", r.Joiner, argv, r.Argv)
	}
	return nil
}

func checkReadOffsets(c *lab.Check, r readOffsetsReport) error {
	got, err := offsetsOf(c, r.Child)
	if err != nil {
		return err
	}
	c.Say("the lab wrote %s before the child entered; /proc/%d/timens_offsets shows %s", r.Set, r.Child, got)
	if got != r.Set {
		return c.Failf("the namespace's offsets are %s; want %s, what the lab wrote before the first process entered", got, r.Set)
	}
	c.Say("once the child was in, the lab wrote %q: the kernel said %s", r.Late.Text, lab.Or(r.Late.Err, "nothing (the write succeeded)"))
	if r.Late.Errno != "EACCES" {
		return c.Failf("a write to timens_offsets after a process entered the namespace gave %s; want EACCES: the offsets are frozen once a process is in it", lab.Or(r.Late.Errno, "nothing (the write succeeded)"))
	}
	c.Check(true, "the offsets are frozen since the child entered")
	if len(r.Cases) != len(parseTexts)+1 {
		return c.Failf("the report has %d ParseOffsets cases, want %d", len(r.Cases), len(parseTexts)+1)
	}
	for i, pc := range r.Cases {
		text := r.File
		if i > 0 {
			text = parseTexts[i-1].text
		}
		if pc.Text != text {
			return c.Failf("case %q: ParseOffsets was given %q, want %q", pc.Name, pc.Text, text)
		}
		want, werr := parseOffsets(text)
		if i == 0 && want != got {
			return c.Failf("the runner read %q from /proc/%d/timens_offsets; the harness reads %s", r.File, r.Child, got)
		}
		switch {
		case werr != nil && pc.Err == "":
			return c.Failf("ParseOffsets(%q) = %s, no error; want an error (%s: %v)", text, pc.Got, pc.Name, werr)
		case werr == nil && pc.Err != "":
			return c.Failf("ParseOffsets(%q) failed: %s; want %s (%s)", text, pc.Err, want, pc.Name)
		case werr == nil && pc.Got != want:
			return c.Failf("ParseOffsets(%q) = %s; want %s (%s)", text, pc.Got, want, pc.Name)
		case strings.Contains(pc.Err, "%!"):
			return c.Failf("ParseOffsets(%q) returned the error %q, a text fmt could not format (%%!: a verb without its value, or a value without its verb); want a readable error (%s): check the order of fmt.Errorf's format and arguments", text, pc.Err, pc.Name)
		case werr != nil:
			c.Check(true, "%s: refused: %s", pc.Name, pc.Err)
		default:
			c.Check(true, "%s: %s", pc.Name, pc.Got)
		}
	}
	return nil
}

// childInNew checks from the harness that pid is in a new time namespace
// with offsets o, and narrates.
func childInNew(c *lab.Check, pid int, title string, o Offsets) error {
	s, err := sets(c, []string{title}, pid)
	if err != nil {
		return err
	}
	if ct := get(s[1], ns.Time); ct.Equal(get(s[0], ns.Time)) {
		return c.Failf("the %s, PID %d, is in the host's time namespace %s; want a new one", title, pid, ct)
	}
	got, err := offsetsOf(c, pid)
	if err != nil {
		return err
	}
	c.Say("/proc/%d/timens_offsets: %s", pid, got)
	if got != o {
		return c.Failf("the %s's time namespace has offsets %s; want %s, what the lab wrote", title, got, o)
	}
	return nil
}

// shift checks one clock read inside against the window of outside readings:
// inside - offset must fall between before and after.
type shift struct {
	name           string        // CLOCK_BOOTTIME
	inside, offset time.Duration // what was read inside, and the namespace's offset of that clock
	before, after  time.Duration // the machine's clock around the reading
}

func (s shift) ok() bool { return within(s.inside-s.offset, s.before, s.after) }

// ahead is how far the inside reading is from the machine's clock at the middle of the window.
func (s shift) ahead() time.Duration { return s.inside - (s.before + (s.after-s.before)/2) }

func (s shift) say(c *lab.Check) {
	ms := func(d time.Duration) string { return span(d.Round(time.Millisecond)) }
	inside, outside := ms(s.inside), ms(s.before+(s.after-s.before)/2)
	if s.name == "CLOCK_REALTIME" {
		date := func(d time.Duration) string { return time.Unix(0, int64(d)).UTC().Format("2006-01-02 15:04:05.000") }
		inside, outside = date(s.inside), date(s.before+(s.after-s.before)/2)
	}
	c.Check(s.ok(), "%s: inside %s, the machine's %s; ahead by %s (offset %s)", s.name, inside, outside, ms(s.ahead()), span(s.offset))
}

// shiftsOK narrates each shift, then fails on the first that is off, with
// the message why(s).
func shiftsOK(c *lab.Check, shifts []shift, why func(s shift) string) error {
	for _, s := range shifts {
		s.say(c)
	}
	for _, s := range shifts {
		if !s.ok() {
			return c.Failf("%s", why(s))
		}
	}
	return nil
}

func checkClocks(c *lab.Check, r clocksReport) error {
	if err := childInNew(c, r.Child, "child", r.Offsets); err != nil {
		return err
	}
	in := r.Saw.Clocks
	if in == nil {
		return c.Failf("the child reported no clocks from ReadClocks")
	}
	b, a := r.Outside.Before, r.Outside.After
	c.Say("ReadClocks() in the child: %s", in)
	if err := shiftsOK(c, []shift{
		{"CLOCK_REALTIME", in.Realtime, 0, b.Realtime, a.Realtime},
		{"CLOCK_MONOTONIC", in.Monotonic, r.Offsets.Monotonic, b.Monotonic, a.Monotonic},
		{"CLOCK_BOOTTIME", in.Boottime, r.Offsets.Boottime, b.Boottime, a.Boottime},
	}, func(s shift) string {
		return fmt.Sprintf("ReadClocks() in the child: %s is %s ahead of the machine's; want %s, the namespace's offset for it (±%s), read with clock_gettime(2) of that very clock", s.name, span(s.ahead()), span(s.offset), slack)
	}); err != nil {
		return err
	}
	if err := labClocks(c, r.Saw, r.Offsets, r.Outside); err != nil {
		return err
	}
	c.Check(true, "inside, monotonic and boot time are ahead by the offsets; the date is the machine's")
	return nil
}

// labClocks checks the lab's own reading of a child's clocks: the kernel's
// side of the step, whatever the learner's code read.
func labClocks(c *lab.Check, s seen, o Offsets, w window) error {
	for _, x := range []shift{
		{"CLOCK_REALTIME", s.Lab.Realtime, 0, w.Before.Realtime, w.After.Realtime},
		{"CLOCK_MONOTONIC", s.Lab.Monotonic, o.Monotonic, w.Before.Monotonic, w.After.Monotonic},
		{"CLOCK_BOOTTIME", s.Lab.Boottime, o.Boottime, w.Before.Boottime, w.After.Boottime},
	} {
		if !x.ok() {
			return c.Failf("the lab's own reading in the child: %s is %s ahead of the machine's; want %s, the namespace's offset", x.name, span(x.ahead()), span(x.offset))
		}
	}
	// The harness's own clock: the child's reading, less the offset, is in its past.
	if now, err := clock(clockBoottime); err == nil && s.Lab.Boottime-o.Boottime > now+slack {
		return c.Failf("the child's boot-time clock less the offset, %s, is ahead of the harness's %s: the offset the child saw is not the namespace's", span(s.Lab.Boottime-o.Boottime), span(now))
	}
	return nil
}

func checkUptime(c *lab.Check, r clocksReport) error {
	if err := childInNew(c, r.Child, "child", r.Offsets); err != nil {
		return err
	}
	in := r.Saw.Learner
	if in == nil {
		return c.Failf("the child reported no uptime from ReadUptime")
	}
	b, a := r.Outside.Before, r.Outside.After
	c.Say("ReadUptime() in the child: %s", in)
	if err := shiftsOK(c, []shift{
		{"/proc/uptime", in.Proc, r.Offsets.Boottime, b.Boottime, a.Boottime},
		{"sysinfo(2)", in.Sysinfo, r.Offsets.Boottime, b.Boottime, a.Boottime},
	}, func(s shift) string {
		return fmt.Sprintf("ReadUptime() in the child: the uptime from %s is %s ahead of the machine's; want %s, the namespace's boottime offset (±%s): the first number of /proc/uptime, and the uptime field of sysinfo(2)", s.name, span(s.ahead()), span(s.offset), slack)
	}); err != nil {
		return err
	}
	if err := labClocks(c, r.Saw, r.Offsets, r.Outside); err != nil {
		return err
	}
	// The harness's own /proc/uptime, read now: the child's, less the offset, is in its past.
	if text, err := os.ReadFile("/proc/uptime"); err == nil {
		if now, err := parseUptime(string(text)); err == nil {
			c.Say("the harness's /proc/uptime now: %s", span(now))
			if in.Proc-r.Offsets.Boottime > now+slack {
				return c.Failf("the child's /proc/uptime less the offset, %s, is ahead of the harness's %s", span(in.Proc-r.Offsets.Boottime), span(now))
			}
		}
	}
	booted := func(realtime, up time.Duration) string {
		return time.Unix(0, int64(realtime-up)).UTC().Format("2006-01-02 15:04 MST")
	}
	c.Say("so the machine booted at %s, and inside the namespace at %s", booted(b.Realtime, b.Boottime), booted(r.Saw.Lab.Realtime, in.Proc))
	c.Check(true, "uptime inside is the machine's plus a year: /proc/uptime and sysinfo(2) follow the boottime offset")
	return checkFakeUptimes(c, r.Fakes, r.FakeEnd)
}

// checkFakeUptimes checks ReadUptime on each of fakeUptimes: an error each
// time, never a panic (end: how the child ended before it reported).
func checkFakeUptimes(c *lab.Check, fakes []refusal, end string) error {
	if end != "" {
		return c.Failf("ReadUptime() in a child whose /proc/uptime is a directory, an empty file, then a file of words: %s; want an error each time", end)
	}
	if len(fakes) != len(fakeUptimes) {
		return c.Failf("the child with a fake /proc reported %d calls of ReadUptime; want %d", len(fakes), len(fakeUptimes))
	}
	c.Say("in a child whose /proc is a tmpfs of the lab's:")
	for i, f := range fakeUptimes {
		if err := refused(c, fakes[i], f.errno); err != nil {
			return err
		}
	}
	c.Check(true, "where /proc/uptime holds no uptime, ReadUptime says so with an error")
	return nil
}

func checkJoin(c *lab.Check, r joinReport) error {
	c.Say("a locked thread of the runner (%d threads) tried setns(2) into the holder's time namespace: %s", r.Threads, r.SetnsErr)
	if r.Errno != "EUSERS" {
		return c.Failf("setns(2) of a time namespace from the multi-threaded runner gave %s; want EUSERS (too many users): the kernel lets only a single-threaded process join a time namespace", lab.Or(r.Errno, "nothing (the write succeeded)"))
	}
	c.Check(true, "the kernel refuses a multi-threaded joiner with EUSERS, even on a locked thread")
	s, err := sets(c, []string{"holder", "joiner"}, r.Holder.Child, r.Joiner)
	if err != nil {
		return err
	}
	host, holder, joiner := s[0], s[1], s[2]
	ht, jt, jfc := get(holder, ns.Time), get(joiner, ns.Time), get(joiner, ns.TimeForChildren)
	switch {
	case ht.Equal(get(host, ns.Time)):
		return c.Failf("the holder is in the host's time namespace %s; want a new one", ht)
	case !jt.Equal(ht):
		return c.Failf("the process StartInTimeOf started (PID %d) is in time namespace %s, the holder (PID %d) in %s; want the holder's: have a single-threaded program join it, nsenter --target %d --time, then execute the command", r.Joiner, jt, r.Holder.Child, ht, r.Holder.Child)
	case !jfc.Equal(ht):
		return c.Failf("the joiner's time_for_children is %s; want the holder's namespace %s too (setns(2) sets both)", jfc, ht)
	}
	if err := lab.CheckNewKinds(host, joiner, ns.Time); err != nil {
		return c.Failf("the joiner: %v", err)
	}
	if err := checkArgv(c, r); err != nil {
		return err
	}
	got, err := offsetsOf(c, r.Joiner)
	if err != nil {
		return err
	}
	c.Say("/proc/%d/timens_offsets: %s", r.Joiner, got)
	if got != r.Offsets {
		return c.Failf("the joiner's time namespace has offsets %s; want the holder's %s", got, r.Offsets)
	}
	for _, x := range []shift{
		{"CLOCK_MONOTONIC", r.Saw.Lab.Monotonic, r.Offsets.Monotonic, r.Outside.Before.Monotonic, r.Outside.After.Monotonic},
		{"CLOCK_BOOTTIME", r.Saw.Lab.Boottime, r.Offsets.Boottime, r.Outside.Before.Boottime, r.Outside.After.Boottime},
	} {
		x.say(c)
	}
	if err := labClocks(c, r.Saw, r.Offsets, r.Outside); err != nil {
		return err
	}
	c.Check(true, "the joiner is in the holder's time namespace %s and its clocks run with its offsets", ht)
	return nil
}
