//go:build linux

package pid

// The children of steps 03, 04, 05 and 07: inits, and the helpers that make
// a PID namespace with unshare(2) and start an init and its siblings in it.
// Each runs in the lab host, started by the step's runner.

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"runtime"
	"strconv"
	"strings"
	"syscall"

	"github.com/nslab/nslab/pkg/holder"
	"github.com/nslab/nslab/pkg/host"
	"github.com/nslab/nslab/pkg/lab"
	"github.com/nslab/nslab/pkg/ns"
	"github.com/nslab/nslab/pkg/spawn"
	"golang.org/x/sys/unix"
)

// killReport is what a sibling of init saw when it signalled PID 1.
type killReport struct {
	PID     int               // the sibling's own PID in the namespace
	Results map[string]string // signal name: "ok" or the errno of kill(1, sig)
}

// goInitMain is PID 1 of a new namespace and a Go program: it sends itself
// SIGKILL, says it survived, then sends its own thread SIGTERM, for which
// the Go runtime has a handler (docs/labs/pid.md#step-03 explains what then
// happens).
//
// The SIGTERM goes to the calling thread (tgkill(2)), not to the process
// (kill(2)): a signal sent to the process may be delivered to another of its
// threads, whose handler then races this goroutine, which would print
// "survived SIGTERM" and exit with status 0 about once in a hundred runs. A
// signal to the calling thread is delivered before tgkill returns to Go code,
// so the runtime's handler ends the process first, every time.
func goInitMain(args []string) int {
	if len(args) != 0 {
		return usage(entryGoInit, args)
	}
	runtime.LockOSThread() // the thread that signals itself stays this goroutine's
	// Inside, getpid() is 1, but /proc is still the lab host's: /proc/1 there
	// is the lab host's init. The first NSpid field is this process there.
	st, err := readStatus("self")
	if err != nil {
		return spawn.Fail(err)
	}
	pids, err := host.NSpid(st)
	if err != nil {
		return spawn.Fail(err)
	}
	catches, err := Catches(pids[0], unix.SIGTERM)
	if err != nil {
		return spawn.Fail(fmt.Errorf("Catches(%d, SIGTERM): %w", pids[0], err))
	}
	fmt.Printf("pid %d catches-SIGTERM %v kill-KILL %s\n", unix.Getpid(), catches, lab.ErrnoName(unix.Kill(1, unix.SIGKILL)))
	os.Stdout.Sync()
	if err := unix.Tgkill(unix.Getpid(), unix.Gettid(), unix.SIGTERM); err != nil {
		return spawn.Fail(fmt.Errorf("tgkill(SIGTERM): %w", err))
	}
	fmt.Println("survived SIGTERM")
	return 0
}

// signalReport is what the step 03 box saw: init (sleep) has no handlers;
// a sibling in its namespace signals it in vain; the box, in the parent
// namespace, kills it. The box itself ignores SIGHUP and, being a Go
// program, catches SIGTERM.
type signalReport struct {
	InitPID        int    // init's PID as the box (and the runner) sees it
	InitCatchTERM  bool   // Catches(init, SIGTERM)
	BoxCatchTERM   bool   // Catches(box, SIGTERM): a Go program has a handler
	BoxCatchHUP    bool   // Catches(box, SIGHUP): the box ignores SIGHUP, which is not handling it
	BoxMask        uint64 // Catches(box, N) for every signal N from 1 to 64, as bit N-1
	Sibling        killReport
	AliveAfter     bool   // init still running after the sibling's signals
	StateAfter     string // init's state then, from /proc/PID/stat
	KilledBy       string // the signal that ended init, sent from the parent namespace
	CatchesErr     string
	WaitAfterError string
}

// signalsMain runs in the runner's PID namespace. It unshares CLONE_NEWPID
// on its locked thread, so that the next children of that thread are init
// and a sibling of a new namespace. It reports, then stays alive until its
// standard input closes, so that the harness can read its signal masks.
func signalsMain(args []string) int {
	if len(args) != 0 {
		return usage(entrySignals, args)
	}
	signal.Ignore(unix.SIGHUP) // SigIgn, not SigCgt: Catches must tell them apart
	runtime.LockOSThread()     // never unlocked: the thread's children go to the new namespace
	primeForks()
	if err := unix.Unshare(unix.CLONE_NEWPID); err != nil {
		return spawn.Fail(fmt.Errorf("unshare(CLONE_NEWPID): %w", err))
	}
	init, err := spawn.Start(context.Background(), withKill(spawn.Config{Args: []string{"sleep", "1000"}, NoHold: true}))
	if err != nil {
		return spawn.Fail(err)
	}
	defer init.Stop()
	r := signalReport{InitPID: init.PID()}
	var errT, errB, errH error
	r.InitCatchTERM, errT = Catches(init.PID(), unix.SIGTERM)
	r.BoxCatchTERM, errB = Catches(unix.Getpid(), unix.SIGTERM)
	r.BoxCatchHUP, errH = Catches(unix.Getpid(), unix.SIGHUP)
	r.BoxMask, err = catchMask(unix.Getpid())
	if err := errors.Join(errT, errB, errH, err); err != nil {
		r.CatchesErr = err.Error()
	}
	if err := runSibling(&r.Sibling); err != nil {
		return spawn.Fail(err)
	}
	r.AliveAfter = running(init.PID())
	if st, err := readStat(init.PID()); err == nil {
		r.StateAfter = string(st.State)
	}
	unix.Kill(init.PID(), unix.SIGKILL)
	werr := init.Wait()
	var ee *spawn.ExitError
	if errors.As(werr, &ee) && ee.Signal != 0 {
		r.KilledBy = unix.SignalName(ee.Signal)
	} else {
		r.WaitAfterError = fmt.Sprint(werr)
	}
	return holder.ReportAndHold(r)
}

// catchMask asks Catches about every signal of process pid, 1 to 64, and
// sets bit N-1 for each signal N it says pid catches.
func catchMask(pid int) (uint64, error) {
	var mask uint64
	for n := 1; n <= 64; n++ {
		ok, err := Catches(pid, unix.Signal(n))
		if err != nil {
			return mask, fmt.Errorf("Catches(%d, %s): %w", pid, unix.SignalName(unix.Signal(n)), err)
		}
		if ok {
			mask |= 1 << (n - 1)
		}
	}
	return mask, nil
}

// fakeStatus is a /proc/PID/status the kernel never writes, for Catches'
// error paths: step 03's fake-proc child mounts a tmpfs on /proc, in a
// mount namespace of its own, and writes these.
var fakeStatus = []struct {
	pid        int
	what, text string // text "" means no /proc/PID at all
}{
	{1, "a status without a SigCgt line", "Name:\tfake\nSigIgn:\t0000000000004000\n"},
	{2, "a SigCgt line that is not hexadecimal", "Name:\tfake\nSigCgt:\tnot-a-mask\n"},
	{3, "a process that does not exist (no /proc/3)", ""},
}

// fakeCatch is what Catches(PID, SIGTERM) returned for one fake status.
type fakeCatch struct {
	PID        int
	What       string
	Missing    bool // no /proc/PID at all
	Got        bool
	Errno, Err string // errnoName and text of the error: "ok" and "" for none
}

// fakeProcMain mounts a tmpfs on /proc, writes fakeStatus there, calls
// Catches on each, reports, then stays alive until its standard input
// closes.
func fakeProcMain(args []string) int {
	if len(args) != 0 {
		return usage(entryFakeProc, args)
	}
	if err := unix.Mount("nslab-fake-proc", "/proc", "tmpfs", unix.MS_NOSUID|unix.MS_NODEV|unix.MS_NOEXEC, "mode=0755,size=64k"); err != nil {
		return spawn.Fail(fmt.Errorf("mount a tmpfs on /proc: %w", err))
	}
	var out []fakeCatch
	for _, f := range fakeStatus {
		if f.text != "" {
			dir := "/proc/" + strconv.Itoa(f.pid)
			if err := os.Mkdir(dir, 0o755); err != nil {
				return spawn.Fail(err)
			}
			if err := os.WriteFile(dir+"/status", []byte(f.text), 0o644); err != nil {
				return spawn.Fail(err)
			}
		}
		got, err := Catches(f.pid, unix.SIGTERM)
		out = append(out, fakeCatch{PID: f.pid, What: f.what, Missing: f.text == "", Got: got, Errno: lab.ErrnoName(err), Err: lab.ErrText(err)})
	}
	return holder.ReportAndHold(out)
}

// primeForks makes the Go runtime run, now, the check it runs once before
// the first process it starts: whether clone(CLONE_PIDFD) works, which it
// finds out by starting a child that exits at once. Done after
// unshare(CLONE_NEWPID), that child would become the new namespace's init
// and end it; every later fork into it would fail with ENOMEM.
func primeForks() {
	if p, err := os.FindProcess(os.Getpid()); err == nil {
		p.Release()
	}
}

// siblingScript signals PID 1 of its namespace with four signals and
// prints its PID and the result of each.
const siblingScript = `echo pid $$; for s in TERM INT HUP KILL; do if kill -s $s 1; then echo SIG$s ok; else echo SIG$s failed; fi; done`

// runSibling starts, from the unshared thread, a second process in the new
// namespace, sh, that signals PID 1 with SIGTERM, SIGINT, SIGHUP and SIGKILL.
func runSibling(r *killReport) error {
	out, err := outsider("sh", "-c", siblingScript)
	if err != nil {
		return fmt.Errorf("sibling: %w", err)
	}
	r.Results = map[string]string{}
	for line := range strings.Lines(out) {
		f := strings.Fields(line)
		switch {
		case len(f) == 2 && f[0] == "pid":
			if r.PID, err = strconv.Atoi(f[1]); err != nil {
				return fmt.Errorf("sibling said %q: %w", line, err)
			}
		case len(f) == 2:
			r.Results[f[0]] = f[1]
		}
	}
	return nil
}

// outsider runs a command from the calling thread and returns its output.
// It has no Pdeathsig: Go's fork code, when asked for one, checks that the
// parent is still there by comparing getppid(2) with the parent's PID, and
// kills the child if they differ. A child whose parent is in another PID
// namespace sees getppid() = 0 and would kill itself at once (an init
// survives this, for the reason step 03 shows). The namespace's init has
// Pdeathsig, and when it dies the kernel kills this child too.
func outsider(args ...string) (string, error) {
	var errb bytes.Buffer
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Stderr = &errb
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("%s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(errb.String()))
	}
	return string(out), nil
}

// running reports whether child pid has not ended, without reaping it.
func running(pid int) bool {
	var info unix.Siginfo
	err := unix.Waitid(unix.P_PID, pid, &info, unix.WEXITED|unix.WNOHANG|unix.WNOWAIT, nil)
	// With WNOHANG and no child ended, waitid(2) leaves the zeroed siginfo as it is.
	return err == nil && info.Signo == 0
}

// orphanerMain starts cat on its own standard input, in a process group of
// its own (as a shell's job), without Pdeathsig, prints cat's PID and
// exits: cat becomes an orphan.
func orphanerMain(args []string) int {
	if len(args) != 0 {
		return usage(entryOrphaner, args)
	}
	cmd := exec.Command("cat")
	cmd.Stdin = os.Stdin
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		return spawn.Fail(err)
	}
	fmt.Println(cmd.Process.Pid)
	return 0
}

// reaperMain is init (PID 1, with its own /proc). It starts the orphaner,
// then tells its parent, one line at a time, what happens to the orphan:
//
//	orphan PID PPID     the orphaner exited; the orphan's parent is now PPID
//	zombie PID STATE    the orphan ended; not yet reaped, it is in STATE
//	(waits for a line on stdin, so that the parent can look too)
//	reaped PID STATUS   ReapOne returned it, with its exit status
//	gone PID BOOL       whether /proc/PID disappeared
//
// Then it calls ReapOne while a second orphan still runs, and once it has
// no child left:
//
//	waited PID REAPED STATUS EARLY   the second orphan, what ReapOne returned, and
//	                                 whether it returned before the orphan ended
//	nochild ERRNO                    ReapOne's error with no child: ECHILD
func reaperMain(args []string) int {
	if len(args) != 0 {
		return usage(entryReaper, args)
	}
	ctx := context.Background() // the reaper's children end with it (Pdeathsig) or with its namespace
	if err := reapZombie(ctx); err != nil {
		return spawn.Fail(err)
	}
	if err := reapRunning(ctx); err != nil {
		return spawn.Fail(err)
	}
	_, _, err := ReapOne()
	fmt.Printf("nochild %s\n", lab.ErrnoName(err))
	return 0
}

// reapZombie makes an orphan, lets it end, shows its zombie, and reaps it
// with ReapOne once the parent says so.
func reapZombie(ctx context.Context) error {
	orphan, w, err := startOrphaner(ctx)
	if err != nil {
		return err
	}
	st, err := readStat(orphan)
	if err != nil {
		return err
	}
	fmt.Printf("orphan %d %d\n", orphan, st.PPID)
	w.Close() // cat reads EOF and exits
	var info unix.Siginfo
	if err := unix.Waitid(unix.P_PID, orphan, &info, unix.WEXITED|unix.WNOWAIT, nil); err != nil {
		return fmt.Errorf("waitid(%d, WNOWAIT): %w", orphan, err)
	}
	if st, err = readStat(orphan); err != nil {
		return err
	}
	fmt.Printf("zombie %d %c\n", orphan, st.State)
	if _, err := bufio.NewReader(os.Stdin).ReadString('\n'); err != nil {
		return fmt.Errorf("wait for the go-ahead to reap: %w", err)
	}
	pid, ws, err := ReapOne()
	if err != nil {
		return fmt.Errorf("ReapOne() with one child, the adopted zombie %d (in a process group of its own): %w", orphan, err)
	}
	fmt.Printf("reaped %d %d\n", pid, ws.ExitStatus())
	_, err = os.Stat("/proc/" + strconv.Itoa(orphan))
	fmt.Printf("gone %d %v\n", orphan, os.IsNotExist(err))
	return nil
}

// reaped is what ReapOne returned.
type reaped struct {
	pid int
	ws  unix.WaitStatus
	err error
}

// reapRunning makes a second orphan, still running, calls ReapOne on a
// thread of its own, and lets the orphan end only once that thread waits
// in the kernel (its wchan is do_wait), so that ReapOne must wait for it.
func reapRunning(ctx context.Context) error {
	orphan, w, err := startOrphaner(ctx)
	if err != nil {
		return err
	}
	tids, done := make(chan int, 1), make(chan reaped, 1)
	go func() {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		tids <- unix.Gettid()
		pid, ws, err := ReapOne()
		done <- reaped{pid, ws, err}
	}()
	early := !awaitWait(<-tids, done)
	w.Close() // the orphan ends
	got := <-done
	if early { // reap it here, so that no child is left
		var ws unix.WaitStatus
		unix.Wait4(orphan, &ws, 0, nil)
	}
	if got.err != nil && !early {
		return fmt.Errorf("ReapOne() while the adopted child %d still ran: %w", orphan, got.err)
	}
	fmt.Printf("waited %d %d %d %v\n", orphan, got.pid, got.ws.ExitStatus(), early)
	return nil
}

// awaitWait returns true once thread tid of this process sleeps in wait(2)
// (wchan do_wait), or has slept elsewhere for a long while (an
// implementation that polls); false when ReapOne returned first (a result
// on done, which it puts back).
func awaitWait(tid int, done chan reaped) bool {
	path := fmt.Sprintf("/proc/self/task/%d/wchan", tid)
	for elsewhere := 0; elsewhere < 10000; {
		select {
		case got := <-done:
			done <- got
			return false
		default:
		}
		b, err := os.ReadFile(path)
		switch {
		case err == nil && string(b) == "do_wait":
			return true
		case err == nil && string(b) != "0":
			elsewhere++
		}
		runtime.Gosched()
	}
	return true
}

// startOrphaner runs the orphaner, reaps it, and returns the orphan's PID
// and the write end of a pipe that is cat's input: the orphan ends once it
// is closed.
func startOrphaner(ctx context.Context) (int, *os.File, error) {
	r, w, err := os.Pipe()
	if err != nil {
		return 0, nil, err
	}
	defer r.Close()
	var out, errb bytes.Buffer
	if err := spawn.Run(ctx, spawn.Config{Entrypoint: entryOrphaner, Stdin: r, Stdout: &out, Stderr: &errb}); err != nil {
		w.Close()
		return 0, nil, fmt.Errorf("orphaner: %w: %s", err, strings.TrimSpace(errb.String()))
	}
	pid, err := strconv.Atoi(strings.TrimSpace(out.String()))
	if err != nil {
		w.Close()
		return 0, nil, fmt.Errorf("orphaner said %q: %w", out.String(), err)
	}
	return pid, w, nil
}

// treeMain is init of a namespace with two sleeping children and a shell
// whose background child is a grandchild; none of them has Pdeathsig. It
// prints "ready" once they all exist, then waits to be killed.
func treeMain(args []string) int {
	if len(args) != 0 {
		return usage(entryTree, args)
	}
	for range 2 {
		if err := exec.Command("sleep", "1000").Start(); err != nil {
			return spawn.Fail(err)
		}
	}
	sh := exec.Command("sh", "-c", "sleep 1000 & echo $!; wait")
	out, err := sh.StdoutPipe()
	if err != nil {
		return spawn.Fail(err)
	}
	if err := sh.Start(); err != nil {
		return spawn.Fail(err)
	}
	if _, err := bufio.NewReader(out).ReadString('\n'); err != nil {
		return spawn.Fail(fmt.Errorf("read the grandchild's PID: %w", err))
	}
	fmt.Println("ready")
	io.Copy(io.Discard, os.Stdin)
	return 0
}

// unshareReport is what the step 07 box saw around UnshareForChildren.
type unshareReport struct {
	TID, Threads          int    // the unsharing thread, and how many threads the process had
	PIDBefore, PIDAfter   ns.ID  // /proc/thread-self/ns/pid
	PFCBefore, PFCAfter   ns.ID  // /proc/thread-self/ns/pid_for_children
	PFCEarly              string // opening pid_for_children after unshare, before any child: ENOENT
	UnshareErr, SecondErr string
	AgainErr              string // UnshareForChildren called a second time: its errno
	InitPID               int    // the first child started from the thread, as the box sees it
	Second                whoami // the second child's report about itself
}

// unshareMain calls UnshareForChildren on its locked thread, starts init
// (sleep) and a second child from it, reports, and waits for its standard
// input to close before it kills init and exits.
func unshareMain(args []string) int {
	if len(args) != 0 {
		return usage(entryUnshare, args)
	}
	runtime.LockOSThread() // never unlocked
	r := unshareReport{TID: unix.Gettid()}
	st, err := readStatus("self")
	if err != nil {
		return spawn.Fail(err)
	}
	if r.Threads, err = strconv.Atoi(fieldOr(st, "Threads")); err != nil {
		return spawn.Fail(fmt.Errorf("Threads of /proc/self/status: %w", err))
	}
	if r.PIDBefore, err = ns.GetPath("/proc/thread-self/ns/pid"); err != nil {
		return spawn.Fail(err)
	}
	if r.PFCBefore, err = ns.GetPath("/proc/thread-self/ns/pid_for_children"); err != nil {
		return spawn.Fail(err)
	}
	primeForks()
	if err := UnshareForChildren(); err != nil {
		r.UnshareErr = lab.ErrnoName(err)
		return holder.ReportAndHold(r)
	}
	if r.PIDAfter, err = ns.GetPath("/proc/thread-self/ns/pid"); err != nil {
		return spawn.Fail(err)
	}
	_, err = ns.GetPath("/proc/thread-self/ns/pid_for_children")
	r.PFCEarly = lab.ErrnoName(err)
	r.SecondErr = lab.ErrnoName(unix.Unshare(unix.CLONE_NEWPID))
	r.AgainErr = lab.ErrnoName(UnshareForChildren())
	init, err := spawn.Start(context.Background(), withKill(spawn.Config{Args: []string{"sleep", "1000"}, NoHold: true}))
	if err != nil {
		return spawn.Fail(err)
	}
	defer init.Stop()
	r.InitPID = init.PID()
	r.PFCAfter, _ = ns.GetPath("/proc/thread-self/ns/pid_for_children") // zero when the thread has no new namespace: the check says so
	out, err := outsider("sh", "-c", "echo $$ $PPID; exec grep NSpid /proc/self/status")
	if err != nil {
		return spawn.Fail(fmt.Errorf("second child: %w", err))
	}
	if _, err := fmt.Sscan(out, &r.Second.PID, &r.Second.PPID); err != nil {
		return spawn.Fail(fmt.Errorf("second child said %q: %w", out, err))
	}
	if r.Second.NSpid, err = host.NSpid(out); err != nil {
		return spawn.Fail(fmt.Errorf("second child said %q: %w", out, err))
	}
	return holder.ReportAndHold(r)
}

func fieldOr(status, name string) string {
	v, _ := StatusField(status, name)
	return v
}
