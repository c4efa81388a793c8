//go:build linux

package pid

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/nslab/nslab/pkg/holder"
	"github.com/nslab/nslab/pkg/host"
	"github.com/nslab/nslab/pkg/lab"
	"github.com/nslab/nslab/pkg/labhost"
	"github.com/nslab/nslab/pkg/ns"
	"github.com/nslab/nslab/pkg/spawn"
	"golang.org/x/sys/unix"
)

// The run halves of the steps: each runs in the lab host, calls the
// learner's code (directly, or in the lab's children of entry.go and
// inits.go), and returns what it saw; check.go makes the verdicts. PIDs in
// the reports are the lab host's, as the runner sees them. Children the
// harness should look at stay alive until cleanup.

// parseResult is what ParseNSpid returned for one text.
type parseResult struct {
	Got []int
	Err string
}

// newNamespaceReport is what step 01 saw.
type newNamespaceReport struct {
	PID      int           // the child StartInNewPID returned, held alive for the check
	Status   string        // its /proc/PID/status, read by the runner while it was held
	Parsed   []int         // ParseNSpid(Status)
	ParseErr string        //
	Cases    []parseResult // ParseNSpid of each of nspidCases, in order
	Inside   whoami        // what the child said about itself once released
}

func runNewNamespace(ctx context.Context, cleanup *lab.Cleanup) (r newNamespaceReport, err error) {
	// cfg.New already lists uts, in a slice with room to spare: a function
	// that appends to it in place writes into the caller's array.
	kinds := make([]ns.Kind, 1, 4)
	kinds[0] = ns.UTS
	cfg := withKill(spawn.Config{New: kinds, Entrypoint: entryWhoami})
	p, err := holder.StartWith(ctx, cfg, StartInNewPID)
	if err != nil {
		return r, fmt.Errorf("StartInNewPID: %w", err)
	}
	cleanup.Add(p.Stop)
	if spare := kinds[:cap(kinds)]; spare[1] != "" || len(cfg.New) != 1 {
		return r, fmt.Errorf("StartInNewPID changed the caller's Config in place: the array behind cfg.New now holds %v; want it untouched (append to a copy: slices.Clone(cfg.New))", spare)
	}
	if err := spawn.Held("StartInNewPID", p.Child(), nil); err != nil {
		return r, err
	}
	r.PID = p.PID()
	if r.Status, err = readStatus(strconv.Itoa(r.PID)); err != nil {
		return r, err
	}
	parsed, perr := ParseNSpid(r.Status)
	r.Parsed, r.ParseErr = parsed, lab.ErrText(perr)
	for _, c := range nspidCases {
		got, err := ParseNSpid(c.status)
		r.Cases = append(r.Cases, parseResult{Got: got, Err: lab.ErrText(err)})
	}
	if err := p.Report(&r.Inside); err != nil {
		return r, fmt.Errorf("the child in a new PID namespace: %w", err)
	}
	return r, nil
}

// procMountReport is what step 02 saw.
type procMountReport struct {
	PID, Runner int // the child and the runner, as the runner sees them
	procViews
	Refused refusedMount // MountProc in a child whose user namespace does not own its PID namespace
}

// procViewDir is the working directory of step 02's child: a target
// without its leading slash ("proc") would be looked up there, and found
// missing.
const procViewDir = "/dev"

func runProcMount(ctx context.Context, cleanup *lab.Cleanup) (r procMountReport, err error) {
	r.Runner = os.Getpid()
	cfg := spawn.Config{New: []ns.Kind{ns.PID, ns.Mnt}, Entrypoint: entryProcView, Args: []string{strconv.Itoa(r.Runner)}, Dir: procViewDir}
	if r.PID, err = reporter(ctx, cleanup, cfg, &r.procViews, "a child in new PID and mount namespaces calling MountProc"); err != nil {
		return r, err
	}
	// The kernel refuses a proc mount to a process without CAP_SYS_ADMIN in
	// the user namespace that owns its PID namespace: a child in new user
	// and mount namespaces that stays in the lab host's PID namespace.
	cfg = spawn.Config{New: []ns.Kind{ns.User, ns.Mnt}, MapRoot: true, Entrypoint: entryRefused}
	if _, err := reporter(ctx, cleanup, cfg, &r.Refused, "a child in new user and mount namespaces calling MountProc"); err != nil {
		return r, err
	}
	return r, nil
}

// signalsReport is what step 03 saw.
type signalsReport struct {
	BoxPID    int          // the box, alive until cleanup
	Box       signalReport // init without handlers, signalled from inside, then from the parent namespace
	ShOut     string       // init is sh, which sends itself SIGKILL and SIGTERM, then prints "alive"
	GoInitOut string       // init is a Go program that sends itself SIGKILL, then SIGTERM
	GoInitEnd string       // how the Go init ended
	Fake      []fakeCatch  // Catches on status files the kernel never writes
}

func runSignals(ctx context.Context, cleanup *lab.Cleanup) (r signalsReport, err error) {
	if r.BoxPID, err = reporter(ctx, cleanup, spawn.Config{Entrypoint: entrySignals}, &r.Box, "the box that signals an init without handlers"); err != nil {
		return r, err
	}
	if _, err := reporter(ctx, cleanup, spawn.Config{New: []ns.Kind{ns.Mnt}, Entrypoint: entryFakeProc}, &r.Fake, "a child calling Catches on a fake /proc"); err != nil {
		return r, err
	}
	var out, errb bytes.Buffer
	sh := withKill(spawn.Config{New: []ns.Kind{ns.PID}, Args: []string{"sh", "-c", "kill -KILL $$; kill -TERM $$; echo alive"}, Stdout: &out, Stderr: &errb})
	if err := spawn.Run(ctx, sh); err != nil {
		return r, fmt.Errorf("sh as init: %w: %s", err, strings.TrimSpace(errb.String()))
	}
	r.ShOut = strings.TrimSpace(out.String())
	out.Reset()
	errb.Reset()
	goInit := withKill(spawn.Config{New: []ns.Kind{ns.PID}, Entrypoint: entryGoInit, Stdout: &out, Stderr: &errb})
	r.GoInitEnd = endOf(spawn.Run(ctx, goInit))
	r.GoInitOut = strings.TrimSpace(out.String() + "\n" + errb.String())
	return r, nil
}

// withKill makes cfg stop with SIGKILL at once (a namespace's init may ignore SIGTERM).
func withKill(cfg spawn.Config) spawn.Config {
	cfg.StopSignal = unix.SIGKILL
	return cfg
}

// endOf describes how a child ended: "status 0", "status 2", "signal SIGKILL".
func endOf(err error) string {
	var ee *spawn.ExitError
	switch {
	case err == nil:
		return "status 0"
	case errors.As(err, &ee) && ee.Signal != 0:
		return "signal " + unix.SignalName(ee.Signal)
	case errors.As(err, &ee):
		return "status " + strconv.Itoa(ee.Code)
	}
	return err.Error()
}

// orphanReport is what step 04 saw, inside the namespace (with its own
// /proc) and from the runner.
type orphanReport struct {
	InitPID     int    // the reaper (init) as the runner sees it
	PID, PPID   int    // the orphan in the namespace, and its parent once the orphaner exited
	State       string // the orphan's state inside after it ended, before ReapOne
	HostPID     int    // the orphan as the runner sees it
	HostState   string // its state then, read by the runner
	HostPPID    int    // its parent then, as the runner sees it
	Reaped      int    // the PID ReapOne returned
	Status      int    // the exit status it returned
	Gone        bool   // /proc/PID vanished inside after ReapOne
	HostGone    bool   // and from the runner's /proc
	HostErr     string // why the runner could not find the orphan
	Running     int    // a second orphan, still running when ReapOne was called
	Waited      int    // the PID ReapOne returned for it
	WaitedEnd   int    // and the exit status
	Early       bool   // ReapOne returned before that orphan ended
	NoChild     string // ReapOne's error (its errno) with no child left
	ReaperLines []string
}

func runOrphans(ctx context.Context, _ *lab.Cleanup) (r orphanReport, err error) {
	cfg := withKill(spawn.Config{New: []ns.Kind{ns.PID}, MountProc: true, Entrypoint: entryReaper})
	p, err := holder.StartWith(ctx, cfg, spawn.Start)
	if err != nil {
		return r, err
	}
	defer p.Stop()
	r.InitPID = p.PID()
	if err := p.Release(); err != nil {
		return r, err
	}
	pidNS, err := ns.Get(r.InitPID, ns.PID)
	if err != nil {
		return r, err
	}
	if err := scanLine(p.Next, &r, "orphan %d %d", &r.PID, &r.PPID); err != nil {
		return r, err
	}
	if err := scanLine(p.Next, &r, "zombie %d %s", new(int), &r.State); err != nil {
		return r, err
	}
	r.lookFromRunner(pidNS)
	reap := func() (string, error) { return p.Line("reap") } // the go-ahead; it answers "reaped …"
	if err := scanLine(reap, &r, "reaped %d %d", &r.Reaped, &r.Status); err != nil {
		return r, err
	}
	if err := scanLine(p.Next, &r, "gone %d %t", new(int), &r.Gone); err != nil {
		return r, err
	}
	if err := scanLine(p.Next, &r, "waited %d %d %d %t", &r.Running, &r.Waited, &r.WaitedEnd, &r.Early); err != nil {
		return r, err
	}
	if err := scanLine(p.Next, &r, "nochild %s", &r.NoChild); err != nil {
		return r, err
	}
	if r.HostPID > 0 {
		r.HostGone = !exists(r.HostPID)
	}
	if err := p.Close(); err != nil {
		return r, fmt.Errorf("the reaper: %w", err)
	}
	return r, nil
}

// scanLine reads a line of the reaper with read and scans it with format.
func scanLine(read func() (string, error), r *orphanReport, format string, args ...any) error {
	s, err := read()
	if err != nil {
		return fmt.Errorf("the reaper (init): %w", err)
	}
	r.ReaperLines = append(r.ReaperLines, s)
	if _, err := fmt.Sscanf(s, format, args...); err != nil {
		return fmt.Errorf("the reaper (init) said %q; want %q: %w", s, format, err)
	}
	return nil
}

// lookFromRunner finds the zombie orphan in the runner's /proc and reads its state and parent.
func (r *orphanReport) lookFromRunner(pidNS ns.ID) {
	hostPID, err := pidIn(pidNS, r.PID)
	if err != nil {
		r.HostErr = err.Error()
		return
	}
	r.HostPID = hostPID
	st, err := readStat(hostPID)
	if err != nil {
		r.HostErr = err.Error()
		return
	}
	r.HostState, r.HostPPID = string(st.State), st.PPID
}

// pidIn finds the caller's PID of the process that has PID nspid in PID namespace id.
func pidIn(id ns.ID, nspid int) (int, error) {
	for _, pid := range labMembers(id) {
		st, err := readStatus(strconv.Itoa(pid))
		if err != nil {
			continue
		}
		if pids, err := host.NSpid(st); err == nil && pids[len(pids)-1] == nspid {
			return pid, nil
		}
	}
	return 0, fmt.Errorf("no process with PID %d in %s in /proc", nspid, id)
}

// labMembers is the lab's own list of the processes in PID namespace id,
// from the link text of /proc/PID/ns/pid, in numeric order; unreadable ones
// are left out.
func labMembers(id ns.ID) []int {
	pids, _ := procPIDs("/proc")
	var out []int
	for _, pid := range pids {
		if link, err := os.Readlink("/proc/" + strconv.Itoa(pid) + "/ns/pid"); err == nil && link == id.String() {
			out = append(out, pid)
		}
	}
	return out
}

// initDeathReport is what step 05 saw.
type initDeathReport struct {
	NS                ns.ID
	InitPID           int
	Before, BeforeLab []int // Members, then the lab's own scan, before init is killed
	After, AfterLab   []int // the same after init was killed and reaped
	InitEnd           string
	NoProc            membersReport // Members in a child with no /proc to read
}

// treePID is the lab host's ns_last_pid before step 05 starts its tree:
// the tree's PIDs then cross 100, where sorting them as strings ("100"
// before "99") differs from sorting them as numbers.
const treePID = 97

// runInitDeath starts init with children and a grandchild, lists the
// namespace's members with Members, kills init from the runner, and lists
// them again. It holds the namespace open until cleanup, so that its inode
// number cannot go to another namespace before the harness has checked.
func runInitDeath(ctx context.Context, cleanup *lab.Cleanup) (r initDeathReport, err error) {
	if err := r.membersWithoutProc(ctx, cleanup); err != nil {
		return r, err
	}
	if err := setNextPID(treePID); err != nil {
		return r, err
	}
	p, err := holder.StartWith(ctx, withKill(spawn.Config{New: []ns.Kind{ns.PID}, Entrypoint: entryTree}), spawn.Start)
	if err != nil {
		return r, err
	}
	defer p.Stop()
	r.InitPID = p.PID()
	h, err := ns.Open(r.InitPID, ns.PID)
	if err != nil {
		return r, err
	}
	cleanup.Add(func() { h.Close() })
	r.NS = h.ID()
	if err := p.Release(); err != nil {
		return r, err
	}
	if s, err := p.Next(); err != nil || s != "ready" {
		return r, fmt.Errorf("init (the tree) said %q, %v; want ready", s, err)
	}
	if r.Before, err = Members(r.NS); err != nil {
		return r, fmt.Errorf("Members(%s): %w", r.NS, err)
	}
	r.BeforeLab = labMembers(r.NS)
	if err := unix.Kill(r.InitPID, unix.SIGKILL); err != nil {
		return r, fmt.Errorf("kill init, PID %d: %w", r.InitPID, err)
	}
	r.InitEnd = endOf(p.Child().Wait())
	if r.After, err = Members(r.NS); err != nil {
		return r, fmt.Errorf("Members(%s): %w", r.NS, err)
	}
	r.AfterLab = labMembers(r.NS)
	return r, nil
}

// membersWithoutProc has a child, chrooted into an empty directory, call
// Members: os.ReadDir("/proc") fails there with ENOENT.
func (r *initDeathReport) membersWithoutProc(ctx context.Context, cleanup *lab.Cleanup) error {
	if _, err := reporter(ctx, cleanup, spawn.Config{New: []ns.Kind{ns.Mnt}, Entrypoint: entryNoProc}, &r.NoProc, "a child without /proc calling Members"); err != nil {
		return err
	}
	return nil
}

// setNextPID makes next the last PID the lab host handed out, so that its
// next process gets next+1, when the runner's own PID is below it. The
// runner is root of the lab host, whose next PID it may set
// (/proc/sys/kernel/ns_last_pid, pid_namespaces(7)); with NSLAB_BARE=1 it
// leaves the machine's alone, whose PIDs are large.
func setNextPID(next int) error {
	if labhost.Bare() || os.Getpid() >= next {
		return nil
	}
	if err := os.WriteFile("/proc/sys/kernel/ns_last_pid", []byte(strconv.Itoa(next)), 0); err != nil {
		return fmt.Errorf("set the lab host's next PID: %w", err)
	}
	return nil
}

// reachReport is what step 06 saw: a child in new PID and mount namespaces
// looked for a process of the lab host, the target.
type reachReport struct {
	ChildPID int // the child, as the runner sees it; alive until cleanup
	reachView
}

func runNoEscape(ctx context.Context, cleanup *lab.Cleanup) (r reachReport, err error) {
	target, err := startFarTarget(ctx)
	if err != nil {
		return r, err
	}
	cleanup.Add(func() { target.Stop() })
	cfg := spawn.Config{New: []ns.Kind{ns.PID, ns.Mnt}, Entrypoint: entryReach, Args: []string{strconv.Itoa(target.PID())}}
	if r.ChildPID, err = reporter(ctx, cleanup, cfg, &r.reachView, fmt.Sprintf("a child in a new PID namespace calling Reach(%d)", target.PID())); err != nil {
		return r, err
	}
	return r, nil
}

// farPID is the lab host's ns_last_pid before step 06 starts its target.
const farPID = 9999

// startFarTarget starts sleep in the lab host with a PID above farPID. A
// process of the lab host with a small PID will not do as the target: the
// child's new namespace hands out 1 to the child and 2, 3, … to its threads
// (a Go program has several), and kill(2) of a thread's ID reaches its
// process, the child itself.
func startFarTarget(ctx context.Context) (*spawn.Child, error) {
	if err := setNextPID(farPID); err != nil {
		return nil, err
	}
	target, err := spawn.Start(ctx, withKill(spawn.Config{Args: []string{"sleep", "1000"}, NoHold: true}))
	if err != nil {
		return nil, fmt.Errorf("start a target for Reach: %w", err)
	}
	return target, nil
}

// unshareStep is what step 07 saw: the box's report; the box, its thread
// and its init stay alive until cleanup, for the harness to read.
type unshareStep struct {
	BoxPID int
	Report unshareReport
}

func runUnshare(ctx context.Context, cleanup *lab.Cleanup) (r unshareStep, err error) {
	if r.BoxPID, err = reporter(ctx, cleanup, spawn.Config{Entrypoint: entryUnshare}, &r.Report, "a Go program calling UnshareForChildren on a locked thread"); err != nil {
		return r, err
	}
	return r, nil
}

// depth is how many PID namespaces step 08 nests below the runner's.
const depth = 4

// nestedReport is what step 08 saw.
type nestedReport struct {
	Levels       [][]int // NSpid of each level (1 … depth), as the runner's /proc shows it
	LevelNS      []ns.ID // the PID namespace of each level, read by the runner
	Own          ns.ID   // the runner's PID namespace
	OwnUp        string  // NS_GET_PARENT of the runner's own PID namespace: its error
	OwnUpOutside bool    // and whether that is ns.ErrOutsideScope
	Ancestry     []ns.ID // Ancestry(deepest level)
	FDs          [2]int  // the runner's open files before and after that call
	Missing      string  // Ancestry of a PID that no process has: its error (errno)
	MissingErr   string  //
	Limited      string  // Ancestry(deepest) with room for one more open file only: its error (errno)
	LimitedErr   string  //
}

// runNested starts depth levels of nested PID namespaces, each level
// started by the one above it, and walks back up from the deepest. The
// levels stay alive until cleanup.
func runNested(ctx context.Context, cleanup *lab.Cleanup) (r nestedReport, err error) {
	cfg := withKill(spawn.Config{New: []ns.Kind{ns.PID}, Entrypoint: entryNest, Args: []string{"1", strconv.Itoa(depth)}})
	p, err := holder.StartWith(ctx, cfg, spawn.Start)
	if err != nil {
		return r, err
	}
	cleanup.Add(p.Stop)
	if err := p.Release(); err != nil {
		return r, err
	}
	for l := 1; l <= depth; l++ {
		pids, err := readLevel(p, l)
		if err != nil {
			return r, err
		}
		r.Levels = append(r.Levels, pids)
		id, err := ns.Get(pids[0], ns.PID)
		if err != nil {
			return r, err
		}
		r.LevelNS = append(r.LevelNS, id)
	}
	if r.Own, err = ns.Get(ns.Self, ns.PID); err != nil {
		return r, err
	}
	up := ownParent()
	r.OwnUp, r.OwnUpOutside = lab.ErrText(up), errors.Is(up, ns.ErrOutsideScope)
	deepest := r.Levels[depth-1][0]
	r.FDs[0] = lab.OpenFiles()
	r.Ancestry, err = Ancestry(deepest)
	r.FDs[1] = lab.OpenFiles()
	switch {
	case errors.Is(err, ns.ErrOutsideScope):
		return r, fmt.Errorf("Ancestry(%d) returned ns.ErrOutsideScope (%v) after %d namespaces; want the walk to end there without an error: EPERM from NS_GET_PARENT means the caller's own PID namespace was reached", deepest, err, len(r.Ancestry))
	case err != nil:
		return r, fmt.Errorf("Ancestry(%d): %w", deepest, err)
	}
	return r, r.ancestryFails(deepest)
}

// ancestryFails calls Ancestry where the kernel refuses: for a PID that no
// process has (no /proc/PID), and for the deepest level when the runner
// may open one more file only, so that NS_GET_PARENT, which opens one,
// fails with EMFILE.
func (r *nestedReport) ancestryFails(deepest int) error {
	pidMax, err := host.ReadInt("/proc/sys/kernel/pid_max") // PIDs are below it
	if err != nil {
		return err
	}
	_, err = Ancestry(pidMax)
	r.Missing, r.MissingErr = lab.ErrnoName(err), lab.ErrText(err)
	err = lab.WithOneMoreFile(func() error {
		_, err := Ancestry(deepest)
		return err
	})
	r.Limited, r.LimitedErr = lab.ErrnoName(err), lab.ErrText(err)
	return nil
}

func readLevel(p *holder.Holder, l int) ([]int, error) {
	s, err := p.Next()
	if err != nil {
		return nil, fmt.Errorf("level %d: %w", l, err)
	}
	f := strings.Fields(s)
	if len(f) < 3 || f[0] != "level" || f[1] != strconv.Itoa(l) {
		return nil, fmt.Errorf("level %d said %q; want \"level %d NSPID...\"", l, s, l)
	}
	return host.PIDs(f[2:])
}

// ownParent asks for the parent of the caller's own PID namespace.
func ownParent() error {
	h, err := ns.Open(ns.Self, ns.PID)
	if err != nil {
		return err
	}
	defer h.Close()
	parent, err := h.Parent()
	if err == nil {
		parent.Close()
		return errors.New("NS_GET_PARENT gave a parent")
	}
	return err
}

// reporter starts cfg (withKill) as a holder, stopped after the check, and
// reads its report into v; what says who it is in an error. It returns the
// holder's PID.
func reporter(ctx context.Context, cleanup *lab.Cleanup, cfg spawn.Config, v any, what string) (int, error) {
	p, err := holder.StartWith(ctx, withKill(cfg), spawn.Start)
	if err != nil {
		return 0, err
	}
	cleanup.Add(p.Stop)
	if err := p.Report(v); err != nil {
		return p.PID(), fmt.Errorf("%s: %w", what, err)
	}
	return p.PID(), nil
}
