//go:build linux

package pid

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"github.com/nslab/nslab/pkg/ns"
	"github.com/nslab/nslab/pkg/spawn"
	"golang.org/x/sys/unix"
)

// run runs cfg to its end and decodes the one JSON line it prints into v.
func run(ctx context.Context, cfg spawn.Config, v any) error {
	var out, errb bytes.Buffer
	cfg.Stdout, cfg.Stderr = &out, &errb
	if err := spawn.Run(ctx, cfg); err != nil {
		return fmt.Errorf("%s: %w: %s", what(cfg), err, strings.TrimSpace(errb.String()))
	}
	if err := json.Unmarshal(out.Bytes(), v); err != nil {
		return fmt.Errorf("%s: read its report %q: %w", what(cfg), out.String(), err)
	}
	return nil
}

func what(cfg spawn.Config) string {
	if cfg.Entrypoint != "" {
		return cfg.Entrypoint
	}
	return strings.Join(cfg.Args, " ")
}

// piped is a started child with a pipe to its standard input and one from its standard output.
type piped struct {
	child *spawn.Child
	in    *os.File
	out   *bufio.Reader
	outR  *os.File
	errb  bytes.Buffer
}

// startPiped starts cfg held, with pipes on stdin and stdout, and returns it
// held, so that the caller can look at it before Release.
func startPiped(ctx context.Context, cfg spawn.Config, start func(context.Context, spawn.Config) (*spawn.Child, error)) (*piped, error) {
	inR, inW, err := os.Pipe()
	if err != nil {
		return nil, fmt.Errorf("make pipe: %w", err)
	}
	outR, outW, err := os.Pipe()
	if err != nil {
		inR.Close()
		inW.Close()
		return nil, fmt.Errorf("make pipe: %w", err)
	}
	p := &piped{in: inW, outR: outR, out: bufio.NewReader(outR)}
	cfg.Stdin, cfg.Stdout, cfg.Stderr = inR, outW, &p.errb
	p.child, err = start(ctx, cfg)
	inR.Close()
	outW.Close()
	if err != nil {
		inW.Close()
		outR.Close()
		return nil, err
	}
	return p, nil
}

// line reads one line of the child's output; at the end of it, the child's
// exit and standard error say why.
func (p *piped) line() (string, error) {
	s, err := p.out.ReadString('\n')
	if err != nil {
		p.in.Close()
		werr := p.child.Wait()
		return "", fmt.Errorf("PID %d stopped answering: %v (%w): %s", p.child.PID(), werr, err, strings.TrimSpace(p.errb.String()))
	}
	return strings.TrimSpace(s), nil
}

// stop kills the child (SIGKILL: a namespace's init may ignore SIGTERM) and closes the pipes.
func (p *piped) stop() {
	p.in.Close()
	p.child.Stop()
	p.outR.Close()
}

// withKill makes cfg stop with SIGKILL at once.
func withKill(cfg spawn.Config) spawn.Config {
	cfg.StopSignal = unix.SIGKILL
	return cfg
}

// NewNamespace is what step 01 saw.
type NewNamespace struct {
	HostPID     int    // the child's PID as the caller sees it
	Host, Child ns.Set // the namespaces of the caller and of the child, held
	Status      string // the child's /proc/PID/status, read by the caller
	Inside      Whoami // what the child said about itself
}

// RunNewNamespace starts a child with StartInNewPID, reads its status and
// namespaces while it is held, then lets it report getpid and getppid.
func RunNewNamespace(ctx context.Context) (NewNamespace, error) {
	var r NewNamespace
	var out, errb bytes.Buffer
	child, err := StartInNewPID(ctx, withKill(spawn.Config{Entrypoint: entryWhoami, Stdout: &out, Stderr: &errb}))
	if err != nil {
		return r, fmt.Errorf("StartInNewPID: %w", err)
	}
	defer child.Stop()
	r.HostPID = child.PID()
	if r.Host, err = ns.Of(ns.Self); err == nil {
		r.Child, err = child.Namespaces()
	}
	if err != nil {
		return r, err
	}
	if r.Status, err = readStatus(strconv.Itoa(r.HostPID)); err != nil {
		return r, err
	}
	if err := errors.Join(child.Release(), child.Wait()); err != nil {
		return r, fmt.Errorf("%w: %s", err, strings.TrimSpace(errb.String()))
	}
	if err := json.Unmarshal(out.Bytes(), &r.Inside); err != nil {
		return r, fmt.Errorf("read the child's report %q: %w", out.String(), err)
	}
	return r, nil
}

// RunProcMount runs a child in new PID and mount namespaces that lists /proc,
// calls MountProc and lists it again, looking for the caller's PID.
func RunProcMount(ctx context.Context) (ProcViews, error) {
	var r ProcViews
	cfg := spawn.Config{New: []ns.Kind{ns.PID, ns.Mnt}, Entrypoint: entryProcView, Args: []string{strconv.Itoa(os.Getpid())}}
	return r, run(ctx, withKill(cfg), &r)
}

// Signals is what step 03 saw.
type Signals struct {
	Box       SignalReport // init without handlers, signalled from inside, then from the parent namespace
	ShOut     string       // init is sh, which sends itself SIGKILL and SIGTERM, then prints "alive"
	GoInitOut string       // init is a Go program that sends itself SIGKILL, then SIGTERM
	GoInitEnd string       // how the Go init ended
}

// RunSignals runs the three inits of step 03.
func RunSignals(ctx context.Context) (Signals, error) {
	var r Signals
	box := withKill(spawn.Config{New: []ns.Kind{ns.User}, MapRoot: true, Entrypoint: entrySignals})
	if err := run(ctx, box, &r.Box); err != nil {
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

// Orphan is what step 04 saw, inside the namespace (with its own /proc) and from the host.
type Orphan struct {
	InitPID     int    // the reaper (init) as the host sees it
	PID, PPID   int    // the orphan in the namespace, and its parent once the orphaner exited
	State       string // the orphan's state inside after it ended, before ReapOne
	HostPID     int    // the orphan as the host sees it
	HostState   string // its state then, read by the host
	HostPPID    int    // its parent then, as the host sees it
	Reaped      int    // the PID ReapOne returned
	Status      int    // the exit status it returned
	Gone        bool   // /proc/PID vanished inside after ReapOne
	HostGone    bool   // and from the host's /proc
	HostErr     string // why the host could not find the orphan
	ReaperLines []string
}

// RunOrphan starts the reaper as init of a new PID namespace with its own
// /proc and follows the orphan from the host while the reaper reports.
func RunOrphan(ctx context.Context) (Orphan, error) {
	var r Orphan
	cfg := withKill(spawn.Config{New: []ns.Kind{ns.PID}, MountProc: true, Entrypoint: entryReaper})
	p, err := startPiped(ctx, cfg, spawn.Start)
	if err != nil {
		return r, err
	}
	defer p.stop()
	r.InitPID = p.child.PID()
	if err := p.child.Release(); err != nil {
		return r, err
	}
	pidNS, err := ns.Get(r.InitPID, ns.PID)
	if err != nil {
		return r, err
	}
	if err := scanLine(p, &r, "orphan %d %d", &r.PID, &r.PPID); err != nil {
		return r, err
	}
	if err := scanLine(p, &r, "zombie %d %s", new(int), &r.State); err != nil {
		return r, err
	}
	r.lookFromHost(pidNS)
	if _, err := io.WriteString(p.in, "reap\n"); err != nil {
		return r, fmt.Errorf("tell the reaper to reap: %w", err)
	}
	if err := scanLine(p, &r, "reaped %d %d", &r.Reaped, &r.Status); err != nil {
		return r, err
	}
	if err := scanLine(p, &r, "gone %d %t", new(int), &r.Gone); err != nil {
		return r, err
	}
	if r.HostPID > 0 {
		_, err := os.Stat("/proc/" + strconv.Itoa(r.HostPID))
		r.HostGone = os.IsNotExist(err)
	}
	p.in.Close()
	if err := p.child.Wait(); err != nil {
		return r, fmt.Errorf("the reaper: %w: %s", err, strings.TrimSpace(p.errb.String()))
	}
	return r, nil
}

func scanLine(p *piped, r *Orphan, format string, args ...any) error {
	s, err := p.line()
	if err != nil {
		return fmt.Errorf("the reaper (init): %w", err)
	}
	r.ReaperLines = append(r.ReaperLines, s)
	if _, err := fmt.Sscanf(s, format, args...); err != nil {
		return fmt.Errorf("the reaper (init) said %q; want %q: %w", s, format, err)
	}
	return nil
}

// lookFromHost finds the zombie orphan in the host's /proc and reads its state and parent.
func (r *Orphan) lookFromHost(pidNS ns.ID) {
	hostPID, err := hostPIDOf(pidNS, r.PID)
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

// hostPIDOf finds the caller's PID of the process that has PID nspid in PID namespace id.
func hostPIDOf(id ns.ID, nspid int) (int, error) {
	for _, pid := range labMembers(id) {
		st, err := readStatus(strconv.Itoa(pid))
		if err != nil {
			continue
		}
		if pids, err := NSpidOf(st); err == nil && pids[len(pids)-1] == nspid {
			return pid, nil
		}
	}
	return 0, fmt.Errorf("no process with PID %d in %s in /proc", nspid, id)
}

// labMembers is the lab's own list of the processes in PID namespace id,
// from the link text of /proc/PID/ns/pid; unreadable ones are left out.
func labMembers(id ns.ID) []int {
	entries, _ := os.ReadDir("/proc")
	var out []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if link, err := os.Readlink("/proc/" + e.Name() + "/ns/pid"); err == nil && link == id.String() {
			out = append(out, pid)
		}
	}
	return out
}

// InitDeath is what step 05 saw.
type InitDeath struct {
	NS                ns.ID
	InitPID           int
	Before, BeforeLab []int // Members, then the lab's own scan, before init is killed
	After, AfterLab   []int // the same after init was killed and reaped
	InitEnd           string
}

// RunInitDeath starts init with children and a grandchild, lists the
// namespace's members with Members, kills init from the host, and lists them
// again. It holds the namespace open meanwhile, so that its inode number
// cannot go to another namespace.
func RunInitDeath(ctx context.Context) (InitDeath, error) {
	var r InitDeath
	p, err := startPiped(ctx, withKill(spawn.Config{New: []ns.Kind{ns.PID}, Entrypoint: entryTree}), spawn.Start)
	if err != nil {
		return r, err
	}
	defer p.stop()
	r.InitPID = p.child.PID()
	h, err := ns.Open(r.InitPID, ns.PID)
	if err != nil {
		return r, err
	}
	defer h.Close()
	r.NS = h.ID()
	if err := p.child.Release(); err != nil {
		return r, err
	}
	if s, err := p.line(); err != nil || s != "ready" {
		return r, fmt.Errorf("init (the tree) said %q, %v; want ready", s, err)
	}
	if r.Before, err = Members(r.NS); err != nil {
		return r, fmt.Errorf("Members(%s): %w", r.NS, err)
	}
	r.BeforeLab = labMembers(r.NS)
	unix.Kill(r.InitPID, unix.SIGKILL)
	r.InitEnd = endOf(p.child.Wait())
	if r.After, err = Members(r.NS); err != nil {
		return r, fmt.Errorf("Members(%s): %w", r.NS, err)
	}
	r.AfterLab = labMembers(r.NS)
	return r, nil
}

// RunReach runs a child in new PID and mount namespaces that tries to reach
// the caller.
func RunReach(ctx context.Context) (ReachReport, error) {
	var r ReachReport
	cfg := spawn.Config{New: []ns.Kind{ns.PID, ns.Mnt}, Entrypoint: entryReach, Args: []string{strconv.Itoa(os.Getpid())}}
	return r, run(ctx, withKill(cfg), &r)
}

// Unshare is what step 07 saw: the box's report and what the host read meanwhile.
type Unshare struct {
	Report  UnshareReport
	BoxPID  int
	HostPID ns.ID // the caller's PID namespace
	BoxNS   ns.ID // /proc/BOX/ns/pid, read by the caller
	TaskPFC ns.ID // /proc/BOX/task/TID/ns/pid_for_children, read by the caller
	InitNS  ns.ID // /proc/INIT/ns/pid, read by the caller
}

// RunUnshare runs the box of step 07 in a user namespace of its own (so
// that it may unshare without root) and checks its report from the host.
func RunUnshare(ctx context.Context) (Unshare, error) {
	var r Unshare
	cfg := withKill(spawn.Config{New: []ns.Kind{ns.User}, MapRoot: true, Entrypoint: entryUnshare})
	p, err := startPiped(ctx, cfg, spawn.Start)
	if err != nil {
		return r, err
	}
	defer p.stop()
	r.BoxPID = p.child.PID()
	if err := p.child.Release(); err != nil {
		return r, err
	}
	s, err := p.line()
	if err != nil {
		return r, fmt.Errorf("the unsharing box: %w", err)
	}
	if err := json.Unmarshal([]byte(s), &r.Report); err != nil {
		return r, fmt.Errorf("the unsharing box said %q: %w", s, err)
	}
	r.HostPID, _ = ns.Get(ns.Self, ns.PID)
	r.BoxNS, _ = ns.Get(r.BoxPID, ns.PID)
	r.TaskPFC, _ = ns.GetPath(fmt.Sprintf("/proc/%d/task/%d/ns/pid_for_children", r.BoxPID, r.Report.TID))
	if r.Report.InitPID > 0 {
		r.InitNS, _ = ns.Get(r.Report.InitPID, ns.PID)
	}
	p.in.Close()
	if err := p.child.Wait(); err != nil {
		return r, fmt.Errorf("the unsharing box: %w: %s", err, strings.TrimSpace(p.errb.String()))
	}
	return r, nil
}

// Depth is how many PID namespaces step 08 nests below the caller's.
const Depth = 4

// Nested is what step 08 saw.
type Nested struct {
	Levels   [][]int // NSpid of each level (1 … Depth), as the caller's /proc shows it
	LevelNS  []ns.ID // the PID namespace of each level, read by the caller
	Own      ns.ID   // the caller's PID namespace
	OwnUp    error   // NS_GET_PARENT of the caller's own PID namespace
	Ancestry []ns.ID // Ancestry(deepest level)
}

// RunNested starts Depth levels of nested PID namespaces, each level
// started by the one above it, and walks back up from the deepest.
func RunNested(ctx context.Context) (Nested, error) {
	var r Nested
	cfg := withKill(spawn.Config{New: []ns.Kind{ns.PID}, Entrypoint: entryNest, Args: []string{"1", strconv.Itoa(Depth)}})
	p, err := startPiped(ctx, cfg, spawn.Start)
	if err != nil {
		return r, err
	}
	defer p.stop()
	if err := p.child.Release(); err != nil {
		return r, err
	}
	for l := 1; l <= Depth; l++ {
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
	r.OwnUp = ownParent()
	deepest := r.Levels[Depth-1][0]
	if r.Ancestry, err = Ancestry(deepest); err != nil {
		return r, fmt.Errorf("Ancestry(%d): %w", deepest, err)
	}
	return r, nil
}

func readLevel(p *piped, l int) ([]int, error) {
	s, err := p.line()
	if err != nil {
		return nil, fmt.Errorf("level %d: %w", l, err)
	}
	f := strings.Fields(s)
	if len(f) < 3 || f[0] != "level" || f[1] != strconv.Itoa(l) {
		return nil, fmt.Errorf("level %d said %q; want \"level %d NSPID...\"", l, s, l)
	}
	return atois(f[2:])
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
