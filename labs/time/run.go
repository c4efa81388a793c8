//go:build linux

package timens

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/nslab/nslab/pkg/holder"
	"github.com/nslab/nslab/pkg/host"
	"github.com/nslab/nslab/pkg/lab"
	"github.com/nslab/nslab/pkg/spawn"
	"golang.org/x/sys/unix"
)

// The run halves of the steps: each calls the learner's code in the lab
// host and returns what it saw; check.go makes the verdicts.

const day = 24 * time.Hour

// The offsets the steps give their namespaces. Step 02's has a negative
// offset with a fraction, which must be written as "-2 500000000".
var (
	offsetsStep02 = Offsets{Monotonic: -1500 * time.Millisecond, Boottime: 7*day + 250*time.Millisecond}
	offsetsStep03 = Offsets{Monotonic: 2*day + 1, Boottime: -750 * time.Millisecond}
	offsetsStep04 = Offsets{Monotonic: 2 * day, Boottime: 7 * day}
	offsetsStep05 = Offsets{Boottime: 365 * day} // a container that booted a year ago
	offsetsStep06 = Offsets{Monotonic: 3 * day, Boottime: 30 * day}
	// tooFar would put the boot-time clock 200 years ahead: past the
	// kernel's limit (KTIME_SEC_MAX/2, about 146 years), so ERANGE.
	tooFar = Offsets{Boottime: 200 * 365 * day}
	// offsetsEdge are negative offsets a nanosecond short of whole seconds:
	// "-1 999999999" and "-2 999999999".
	offsetsEdge = Offsets{Monotonic: -time.Nanosecond, Boottime: -time.Second - time.Nanosecond}
)

// noPID is a PID that no process has: above the kernel's largest (PID_MAX_LIMIT, 2^22).
const noPID = 1 << 30

// inNamespace is a child the lab started from a nursery.
type inNamespace struct {
	Thread int       // the nursery's thread (TID, the lab host's)
	Child  int       // the child, held
	Saw    seen      // what the child read inside
	Links  timeLinks // the thread's time links once the child was started
}

// nurseryFor starts a nursery and schedules its end after everything added
// to cleanup later (its children must die first: their Pdeathsig is tied to it).
func nurseryFor(cleanup *lab.Cleanup) (*nursery, error) {
	n, err := newNursery()
	if err != nil {
		return nil, err
	}
	cleanup.Add(n.close)
	return n, nil
}

// timeNursery starts a nursery (see nurseryFor) whose thread is in a new
// time namespace (the lab's own unshare), with offsets o when not nil.
func timeNursery(cleanup *lab.Cleanup, o *Offsets) (*nursery, error) {
	n, err := nurseryFor(cleanup)
	if err != nil {
		return nil, err
	}
	if err := n.unshareTime(); err != nil {
		return nil, err
	}
	if o != nil {
		if err := writeOffsets(n.tid, offsetsText(*o)); err != nil {
			return nil, fmt.Errorf("the lab's write of %s to the new namespace: %w", *o, err)
		}
	}
	return n, nil
}

// hold starts a child in mode from n, held until cleanup, and reads its report.
func hold(n *nursery, cleanup *lab.Cleanup, mode string) (r inNamespace, err error) {
	r.Thread = n.tid
	h, err := startIn(n, mode)
	if err != nil {
		return r, err
	}
	cleanup.Add(h.Stop)
	r.Child = h.PID()
	if r.Saw, err = readSeen(h, mode); err != nil {
		return r, err
	}
	r.Links, err = n.links()
	return r, err
}

// forChildrenReport is what step 01 saw.
type forChildrenReport struct {
	Before, After timeLinks // the nursery thread's links around UnshareTime
	NoCap         refusal   // UnshareTime on a second nursery, without CAP_SYS_ADMIN
	NoCapThread   int       // that nursery's thread
	NoCapLinks    timeLinks // its links after
	inNamespace
}

func runForChildren(_ context.Context, cleanup *lab.Cleanup) (r forChildrenReport, err error) {
	n, err := nurseryFor(cleanup)
	if err != nil {
		return r, err
	}
	if r.Before, err = n.links(); err != nil {
		return r, err
	}
	if err := n.call("UnshareTime", UnshareTime); err != nil {
		return r, fmt.Errorf("UnshareTime on a locked thread (TID %d): %w", n.tid, err)
	}
	if r.After, err = n.links(); err != nil {
		return r, err
	}
	if r.inNamespace, err = hold(n, cleanup, modeHold); err != nil {
		return r, err
	}
	return r, unshareRefused(cleanup, &r)
}

// unshareRefused calls UnshareTime on a second nursery whose thread has
// dropped CAP_SYS_ADMIN: the kernel refuses unshare(2) with EPERM, and
// the thread's time_for_children stays its own time namespace.
func unshareRefused(cleanup *lab.Cleanup, r *forChildrenReport) error {
	n, err := nurseryFor(cleanup)
	if err != nil {
		return err
	}
	r.NoCapThread = n.tid
	n.do(func() { _, err = lab.DropEffective(unix.CAP_SYS_ADMIN) })
	if err != nil {
		return err
	}
	r.NoCap = refusalOf(fmt.Sprintf("UnshareTime() on a thread without CAP_SYS_ADMIN (TID %d)", n.tid), n.call("UnshareTime", UnshareTime))
	r.NoCapLinks, err = n.links()
	return err
}

// refusal is a call that the kernel refused: a write to timens_offsets of
// the lab's own, or a call of the learner's code.
type refusal struct {
	Text  string // what was written, or the call
	Errno string // the error's name: EINVAL, ERANGE, EACCES; "" for none
	Err   string // "" when the call returned nil
}

// refusalOf records the error of a call.
func refusalOf(call string, err error) refusal {
	r := refusal{Text: call}
	if err != nil {
		r.Err, r.Errno = err.Error(), errnoName(err)
	}
	return r
}

// setOffsetsReport is what step 02 saw.
type setOffsetsReport struct {
	Want     Offsets   // what SetOffsets was asked to set
	Bad      []refusal // the lab's own writes of lines the kernel refuses
	TooFar   Offsets   // what SetOffsets was asked to set first, out of range
	TooFarEr string    // the error it returned for it
	IsERANGE bool      // whether that error wraps ERANGE
	NoFile   refusal   // SetOffsets of a PID that does not exist
	Edge     Offsets   // what SetOffsets was asked to set next, offsetsEdge
	EdgeErr  string    // its error
	EdgeGot  Offsets   // the offsets the thread's timens_offsets showed then
	inNamespace
}

func runSetOffsets(_ context.Context, cleanup *lab.Cleanup) (r setOffsetsReport, err error) {
	n, err := timeNursery(cleanup, nil)
	if err != nil {
		return r, err
	}
	for _, text := range []string{"realtime 1 0\n", "monotonic 0 1000000000\n"} {
		r.Bad = append(r.Bad, tryWrite(n.tid, text))
	}
	r.TooFar, r.Want = tooFar, offsetsStep02
	tooFarErr := SetOffsets(n.tid, r.TooFar)
	if tooFarErr == nil {
		return r, fmt.Errorf("SetOffsets(%d, %s) returned nil; want the kernel's ERANGE: a boot-time clock 200 years ahead is past its limit (about 146 years), and the error of write(2) must not be dropped", n.tid, r.TooFar)
	}
	r.TooFarEr, r.IsERANGE = tooFarErr.Error(), errors.Is(tooFarErr, syscall.ERANGE)
	r.NoFile = refusalOf(fmt.Sprintf("SetOffsets(%d, %s), a PID that does not exist", noPID, r.Want), SetOffsets(noPID, r.Want))
	if err := setEdge(n.tid, &r); err != nil {
		return r, err
	}
	if err := SetOffsets(n.tid, r.Want); err != nil {
		return r, fmt.Errorf("SetOffsets(%d, %s): %w%s", n.tid, r.Want, err, writeHint(err))
	}
	r.inNamespace, err = hold(n, cleanup, modeHold)
	return r, err
}

// setEdge has SetOffsets write offsetsEdge to the thread's new namespace,
// and reads them back (the lab's own reader); SetOffsets of the step's
// offsets overwrites them next, before any process enters.
func setEdge(tid int, r *setOffsetsReport) error {
	r.Edge = offsetsEdge
	if err := SetOffsets(tid, r.Edge); err != nil {
		r.EdgeErr = fmt.Sprintf("%v%s", err, writeHint(err))
		return nil
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/timens_offsets", tid))
	if err != nil {
		return err
	}
	r.EdgeGot, err = parseOffsets(string(b))
	return err
}

// writeHint explains the kernel's refusals of a write to timens_offsets.
func writeHint(err error) string {
	switch {
	case errors.Is(err, syscall.EINVAL):
		return " (EINVAL: each line must be \"monotonic SECS NANOSECS\" or \"boottime SECS NANOSECS\" with NANOSECS in [0, 999999999]: a negative offset is whole seconds rounded down plus nanoseconds, so -1.5s is \"-2 500000000\")"
	case errors.Is(err, syscall.EPERM):
		return " (EPERM: that file belongs to a time namespace the lab host may not change, the machine's; write /proc/PID/timens_offsets of the pid you are given, the thread that unshared, not /proc/self, the process's main thread)"
	case errors.Is(err, syscall.EACCES):
		return " (EACCES: a process is already in that namespace, and its offsets are frozen)"
	case errors.Is(err, syscall.ENOENT):
		return " (ENOENT: /proc/PID/timens_offsets exists for PIDs and thread IDs; /proc/thread-self/ has no such file)"
	}
	return ""
}

// tryWrite writes text to thread tid's timens_offsets with the lab's own
// code, expecting the kernel to refuse it.
func tryWrite(tid int, text string) refusal {
	return refusalOf(text, writeOffsets(tid, text))
}

// writeOffsets is the lab's own write of text to /proc/TID/timens_offsets, in one write(2).
func writeOffsets(tid int, text string) error {
	f, err := os.OpenFile(fmt.Sprintf("/proc/%d/timens_offsets", tid), os.O_WRONLY, 0)
	if err != nil {
		return err
	}
	_, err = f.WriteString(text)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// errnoName is the name of the errno err wraps, or "" without one.
func errnoName(err error) string {
	var e syscall.Errno
	if !errors.As(err, &e) {
		return ""
	}
	if name := unix.ErrnoName(e); name != "" {
		return name
	}
	return strconv.Itoa(int(e))
}

// parseCase is one text given to ParseOffsets, and what it returned.
type parseCase struct {
	Name string
	Text string
	Got  Offsets
	Err  string
}

// readOffsetsReport is what step 03 saw.
type readOffsetsReport struct {
	Set   Offsets     // what the lab wrote before the child entered
	File  string      // the child's /proc/PID/timens_offsets, as the runner read it
	Cases []parseCase // the file and fixed texts, through ParseOffsets
	Late  refusal     // the lab's write once the child was in the namespace
	inNamespace
}

// parseTexts are the fixed texts step 03 gives ParseOffsets: valid ones,
// then ones that must be refused.
var parseTexts = []struct{ name, text string }{
	{"the initial namespace", "monotonic           0         0\nboottime            0         0\n"},
	{"negative, padded", "monotonic          -2 500000000\nboottime     31536000         0\n"},
	{"other order, one space", "boottime 5 0\nmonotonic 7 1\n"},
	{"blank lines between", "monotonic 1 0\n\n   \nboottime 2 3\n\n"},
	{"the largest nanoseconds", "monotonic 0 999999999\nboottime -1 999999999\n"},
	{"one clock only", "boottime 5 0\n"},
	{"two fields", "monotonic 1\nboottime 0 0\n"},
	{"a clock alone on its line", "monotonic\nboottime 0 0\nmonotonic 0 0\n"},
	{"an unknown clock", "realtime 1 0\n"},
	{"nanoseconds out of range", "monotonic 0 1000000000\nboottime 0 0\n"},
	{"negative nanoseconds", "monotonic 0 -1\nboottime 0 0\n"},
	{"a word for seconds", "monotonic one 0\nboottime 0 0\n"},
	{"a word for nanoseconds", "monotonic 0 0\nboottime 0 many\n"},
}

func runReadOffsets(_ context.Context, cleanup *lab.Cleanup) (r readOffsetsReport, err error) {
	r.Set = offsetsStep03
	n, err := timeNursery(cleanup, &r.Set)
	if err != nil {
		return r, err
	}
	if r.inNamespace, err = hold(n, cleanup, modeHold); err != nil {
		return r, err
	}
	r.Late = tryWrite(n.tid, offsetsText(Offsets{Boottime: 9 * day}))
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/timens_offsets", r.Child))
	if err != nil {
		return r, err
	}
	r.File = string(b)
	r.Cases = append(r.Cases, runParse("the child's timens_offsets", r.File))
	for _, t := range parseTexts {
		r.Cases = append(r.Cases, runParse(t.name, t.text))
	}
	return r, nil
}

func runParse(name, text string) parseCase {
	c := parseCase{Name: name, Text: text}
	got, err := ParseOffsets(text)
	c.Got = got
	if err != nil {
		c.Err = err.Error()
	}
	return c
}

// clocksReport is what steps 04 and 05 saw: a child in a namespace with
// Offsets read its clocks between two readings of the lab's outside.
type clocksReport struct {
	Offsets Offsets
	Outside window    // the runner's clocks before the child started and after it reported
	Fakes   []refusal // step 05: ReadUptime on each of fakeUptimes, in a child with a fake /proc
	FakeEnd string    // step 05: how that child ended before it reported, if it did
	inNamespace
}

func runClocks(_ context.Context, cleanup *lab.Cleanup) (clocksReport, error) {
	return clocksIn(cleanup, offsetsStep04, modeClocks)
}

func runUptime(ctx context.Context, cleanup *lab.Cleanup) (clocksReport, error) {
	r, err := clocksIn(cleanup, offsetsStep05, modeUptime)
	if err != nil {
		return r, err
	}
	r.Fakes, r.FakeEnd, err = runFakeUptime(ctx, cleanup)
	return r, err
}

// clocksIn makes a namespace with o and has a child in mode read its clocks there.
func clocksIn(cleanup *lab.Cleanup, o Offsets, mode string) (r clocksReport, err error) {
	r.Offsets = o
	n, err := timeNursery(cleanup, &o)
	if err != nil {
		return r, err
	}
	if r.Outside.Before, err = readClocks(); err != nil {
		return r, err
	}
	if r.inNamespace, err = hold(n, cleanup, mode); err != nil {
		return r, err
	}
	r.Outside.After, err = readClocks()
	return r, err
}

// joinReport is what step 06 saw.
type joinReport struct {
	Offsets  Offsets
	Holder   inNamespace // a child in a new time namespace with Offsets
	Threads  int         // the runner's threads when it tried setns(2) itself
	SetnsErr string      // what setns(2) of the holder's time namespace returned to the runner
	Errno    string
	Joiner   int      // the process StartInTimeOf started
	Argv     []string // the command's own arguments, cmd.Args before StartInTimeOf
	Saw      seen     // what it read
	Outside  window
}

func runJoin(_ context.Context, cleanup *lab.Cleanup) (r joinReport, err error) {
	r.Offsets = offsetsStep06
	n, err := timeNursery(cleanup, &r.Offsets)
	if err != nil {
		return r, err
	}
	if r.Holder, err = hold(n, cleanup, modeHold); err != nil {
		return r, err
	}
	if r.Threads, r.SetnsErr, r.Errno, err = trySetns(r.Holder.Child); err != nil {
		return r, err
	}
	cmd, err := spawn.EntrypointCommand(entryChild, []string{modeHold})
	if err != nil {
		return r, err
	}
	// /proc/self/exe would name nsenter once nsenter runs: give it this binary.
	cmd.Path = fmt.Sprintf("/proc/%d/exe", os.Getpid())
	cmd.Args[0] = cmd.Path
	r.Argv = slices.Clone(cmd.Args)
	if r.Outside.Before, err = readClocks(); err != nil {
		return r, err
	}
	h, err := holder.StartCommand(cmd, func(cmd *exec.Cmd) error { return StartInTimeOf(r.Holder.Child, cmd) })
	switch {
	case errors.Is(err, holder.ErrNotStarted):
		return r, fmt.Errorf("StartInTimeOf(%d) returned nil without starting the command; want it started (cmd.Start)", r.Holder.Child)
	case err != nil:
		return r, fmt.Errorf("StartInTimeOf(%d): %w%s", r.Holder.Child, err, setnsHint(err))
	}
	cleanup.Add(h.Stop)
	r.Joiner = h.PID()
	if r.Saw, err = readSeen(h, modeHold); err != nil {
		return r, fmt.Errorf("the process StartInTimeOf started: %w", err)
	}
	r.Outside.After, err = readClocks()
	return r, err
}

func setnsHint(err error) string {
	if errors.Is(err, syscall.EUSERS) || strings.Contains(err.Error(), "too many users") {
		return " (EUSERS: setns(2) of a time namespace needs a single-threaded caller, and a Go process has many threads, even with its goroutine locked: let a single-threaded program such as nsenter(1) join, then execute the command)"
	}
	return ""
}

// trySetns has a locked thread of the runner try to join the time
// namespace of pid, as nsenter(1) would: the kernel refuses a
// multi-threaded caller. It returns the runner's thread count and the error.
func trySetns(pid int) (threads int, msg, errno string, err error) {
	threads, err = threadCount()
	if err != nil {
		return 0, "", "", err
	}
	done := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		target, err := os.Open(fmt.Sprintf("/proc/%d/ns/time", pid))
		if err != nil {
			runtime.UnlockOSThread()
			done <- err
			return
		}
		own, err := os.Open("/proc/thread-self/ns/time")
		if err != nil {
			target.Close()
			runtime.UnlockOSThread()
			done <- err
			return
		}
		serr := unix.Setns(int(target.Fd()), unix.CLONE_NEWTIME)
		target.Close()
		if serr == nil { // never for a Go process; should it happen, go back
			if unix.Setns(int(own.Fd()), unix.CLONE_NEWTIME) != nil {
				own.Close()
				done <- errors.New("setns(2) into a time namespace succeeded and the way back failed")
				return // locked: the thread ends with the goroutine
			}
		}
		own.Close()
		runtime.UnlockOSThread()
		if serr == nil {
			done <- errors.New("setns(2) into a time namespace succeeded in a multi-threaded process; this kernel does not refuse it")
			return
		}
		msg, errno = serr.Error(), errnoName(serr)
		done <- nil
	}()
	return threads, msg, errno, <-done
}

// threadCount is the Threads: line of /proc/self/status.
func threadCount() (int, error) {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0, err
	}
	if v, ok := host.StatusField(string(b), "Threads"); ok {
		return strconv.Atoi(v)
	}
	return 0, errors.New("no Threads: line in /proc/self/status")
}
