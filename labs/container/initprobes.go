//go:build linux

package container

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/nslab/nslab/pkg/ns"
	"golang.org/x/sys/unix"
)

// Step 06 runs Init in more ways than a child that ends on a signal: a
// child that cannot start, and a child that dies while the init is
// stopped, leaving zombies the init adopts at the same time. It also
// watches the init while it waits: asleep, and reaping an orphan at once.
// This file holds those runs (both halves).

// noStart is the child of the init that cannot start.
const noStart = "/nonexistent/nslab-child"

// pollWait bounds how long the lab waits for a process to reach a state.
const pollWait = 5 * time.Second

// poll calls ok every few milliseconds until it says true, for at most
// pollWait; it returns the last answer.
func poll(ok func() bool) bool {
	for end := time.Now().Add(pollWait); ; time.Sleep(5 * time.Millisecond) {
		if ok() {
			return true
		}
		if time.Now().After(end) {
			return false
		}
	}
}

// wchans reads where each thread of process pid sleeps in the kernel
// (/proc/PID/task/TID/wchan): "0" for a thread that runs or waits for a CPU.
// The state letter of stat would not do: wait4 with WNOHANG reads "S"
// while it runs.
func wchans(pid int) []string {
	files, _ := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/wchan", pid))
	var out []string
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			b = []byte("0")
		}
		out = append(out, string(b))
	}
	return out
}

// asleep says whether every thread of process pid sleeps in the kernel
// (none runs, none waits for a CPU).
func asleep(pid int) bool {
	ws := wchans(pid)
	for _, w := range ws {
		if w == "0" {
			return false
		}
	}
	return len(ws) > 0
}

// wchanWorks says whether this kernel names where threads sleep: some
// thread of the caller's other than the calling one sleeps now.
func wchanWorks() bool {
	for _, w := range wchans(os.Getpid()) {
		if w != "0" {
			return true
		}
	}
	return false
}

// inState says whether process pid (its main thread) is in state s.
func inState(pid int, s string) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	_, state, ok := statState(string(b))
	return ok && state == s
}

// children lists the children of every thread of process pid, zombies too.
func children(pid int) []string {
	files, _ := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/children", pid))
	var out []string
	for _, f := range files {
		b, _ := os.ReadFile(f)
		out = append(out, strings.Fields(string(b))...)
	}
	return out
}

// watchInit records how the init of b waits for its child: asleep (no
// thread spinning), and with no child but its own once the orphan ended.
func watchInit(b *box, r *initRun) {
	pid := b.PID()
	r.Asleep = !wchanWorks() || poll(func() bool { return asleep(pid) })
	if !r.Asleep {
		r.Threads = wchans(pid)
	}
	if r.Mode != "zombies" {
		poll(func() bool { return len(children(pid)) == 1 })
		r.Children = children(pid)
	}
}

// pidfdWait waits until process pid has ended, without reaping it.
func pidfdWait(pid int) error {
	fd, err := unix.PidfdOpen(pid, 0)
	if err != nil {
		return fmt.Errorf("pidfd_open %d: %w", pid, err)
	}
	defer unix.Close(fd)
	fds := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
	for {
		_, err := unix.Poll(fds, -1)
		if !errors.Is(err, unix.EINTR) {
			return err
		}
	}
}

// zombiesReport is what step 06's child says in mode "zombies".
type zombiesReport struct {
	Child    int   // itself, inside
	Ended    []int // its children that ended, never waited for
	Living   int   // its child that stays
	ChildErr string
}

// zombiesMain is step 06's child in mode "zombies": it starts two
// processes (each in a process group of its own) and never waits for them,
// starts a third that stays, says so, and waits for its end.
func zombiesMain() int {
	r := zombiesReport{Child: os.Getpid()}
	for range 2 {
		cmd := exec.Command("/bin/true")
		cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
		err := cmd.Start()
		if err == nil {
			err = pidfdWait(cmd.Process.Pid)
		}
		if err != nil {
			r.ChildErr = err.Error()
			break
		}
		r.Ended = append(r.Ended, cmd.Process.Pid)
	}
	living := exec.Command("/usr/bin/sleep", "1000")
	if err := living.Start(); err != nil && r.ChildErr == "" {
		r.ChildErr = err.Error()
	} else if err == nil {
		r.Living = living.Process.Pid
	}
	report(r)
	for {
		unix.Pause()
	}
}

// zombiesLine is a line of the init in mode "zombies": its child's, or its own.
type zombiesLine struct {
	zombiesReport
	outcome
	Status  *int
	Zombies []string
}

// initZombies runs Init with the child of mode "zombies": once the child
// made its zombies, the lab stops the init (SIGSTOP), kills the child
// (SIGKILL), and lets the init go on (SIGCONT). The init then finds, at
// once, its child ended and the zombies it inherited from it: it must
// return the child's status (128+9) and leave none of them.
func initZombies() (r initRun, err error) {
	r.Mode, r.Signal, r.Want = "zombies", "SIGKILL to the child, while the init was stopped", 128+int(syscall.SIGKILL)
	b, err := startInit(r.Mode)
	if err != nil {
		return r, err
	}
	defer b.stop()
	var first zombiesLine
	if err := b.read(&first); err != nil {
		return r, err
	}
	if first.Status != nil || first.ChildErr != "" {
		return r, fmt.Errorf("the init's child could not make its zombies (%s), or Init returned first: %s", first.ChildErr, b.stderr.String())
	}
	watchInit(b, &r)
	pidns, err := ns.Get(b.PID(), ns.PID)
	if err != nil {
		return r, err
	}
	child, err := outerPID(pidns, first.Child)
	if err != nil {
		return r, err
	}
	if err := stopKillGo(b.PID(), child); err != nil {
		return r, err
	}
	if err := awaitInit(b, &r); err != nil {
		return r, err
	}
	return r, nil
}

// stopKillGo stops the init, kills its child and lets the init go on,
// each once the kernel shows the last one done.
func stopKillGo(init, child int) error {
	if err := unix.Kill(init, syscall.SIGSTOP); err != nil {
		return fmt.Errorf("stop the init: %w", err)
	}
	if !poll(func() bool { return inState(init, "T") }) {
		return errors.New("the init did not stop on SIGSTOP")
	}
	if err := unix.Kill(child, syscall.SIGKILL); err != nil {
		return fmt.Errorf("kill the init's child: %w", err)
	}
	if !poll(func() bool { return inState(child, "Z") }) {
		return errors.New("the init's child did not end on SIGKILL")
	}
	return unix.Kill(init, syscall.SIGCONT)
}

// startInit starts a container whose init runs Init with the child of mode.
func startInit(mode string) (*box, error) {
	mnt, err := ns.GuardArg(ns.Mnt)
	if err != nil {
		return nil, err
	}
	return startIsolated(entryInit, mode, mnt)
}

// initNoStart runs Init with a child that cannot start.
func initNoStart() (r initRun, err error) {
	r.Mode, r.Signal, r.Want = "nostart", "a child that cannot start", 127
	b, err := startInit(r.Mode)
	if err != nil {
		return r, err
	}
	defer b.stop()
	if err := awaitInit(b, &r); err != nil {
		return r, err
	}
	r.Asleep = true
	return r, nil
}

// checkInitRun checks what the lab watched of one init, beyond its status.
func checkInitRun(r initRun) string {
	switch {
	case r.Mode == "nostart" && !strings.Contains(r.Output, noStart):
		return fmt.Sprintf("Init returned %d for a child that cannot start (%s), and printed %q; want it to say why on stderr, naming the command", r.Want, noStart, r.Output)
	case !r.Asleep:
		return fmt.Sprintf("while its child ran, a thread of the init never slept (where its threads were: %q): wait4 without WNOHANG blocks until a child ends, instead of asking again and again", r.Threads)
	case r.Children != nil && len(r.Children) != 1:
		return fmt.Sprintf("the orphan of the init's child ended, and %v later the init still had children %v (its own child and the orphan, a zombie): wait for any child, wait4(-1), not only those of its process group (0)", pollWait, r.Children)
	}
	return ""
}
