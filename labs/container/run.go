//go:build linux

package container

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"os/exec"
	"reflect"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/nslab/nslab/pkg/holder"
	"github.com/nslab/nslab/pkg/lab"
	"github.com/nslab/nslab/pkg/ns"
	"golang.org/x/sys/unix"
)

// The run halves of the steps: each starts a container in the lab host,
// with the learner's piece of the runtime for that step and the lab's own
// for the others, and returns what it saw; check.go makes the verdicts.

// labName returns a name no other run uses: PREFIX-3fa2c1b0.
func labName(prefix string) string {
	var b [4]byte
	rand.Read(b[:])
	return prefix + "-" + hex.EncodeToString(b[:])
}

// cmdShape is what Isolate and MapRoot must leave as they found it.
type cmdShape struct {
	Path, Dir string
	Args, Env []string
	Files     []*os.File
}

func shapeOf(cmd *exec.Cmd) cmdShape {
	return cmdShape{Path: cmd.Path, Dir: cmd.Dir, Args: cmd.Args, Env: cmd.Env, Files: cmd.ExtraFiles}
}

// isolateReport is what step 01 saw.
type isolateReport struct {
	PID       int     // the container's first process, held
	Flags     uintptr // the Cloneflags Isolate set
	Pdeathsig int
	Me        inside  // what it said of itself
	Bare      uintptr // the Cloneflags Isolate set on a command without a SysProcAttr
	Kept      bool    // Setpgid, set before Isolate on another command, is still set after it
}

func runIsolate(_ context.Context, cleanup *lab.Cleanup) (r isolateReport, err error) {
	uts, err := ns.GuardArg(ns.UTS)
	if err != nil {
		return r, err
	}
	b, err := newBox(entryHold, "", uts)
	if err != nil {
		return r, err
	}
	before := shapeOf(b.cmd)
	Isolate(b.cmd)
	if !reflect.DeepEqual(before, shapeOf(b.cmd)) {
		b.stop()
		return r, errors.New("Isolate changed the command's path, arguments, environment, directory or files; want only its SysProcAttr set")
	}
	if b.cmd.SysProcAttr == nil {
		b.stop()
		return r, errors.New("Isolate left cmd.SysProcAttr nil; want a *syscall.SysProcAttr with the Cloneflags of the seven namespaces")
	}
	r.Flags, r.Pdeathsig = b.cmd.SysProcAttr.Cloneflags, int(b.cmd.SysProcAttr.Pdeathsig)
	r.Bare, r.Kept = isolateOthers()
	r.PID, err = b.launch(cleanup, "the SysProcAttr of Isolate", &r.Me)
	return r, err
}

// isolateOthers runs Isolate on two commands it never starts: one without a
// SysProcAttr (exec.Command's), one whose SysProcAttr already asks for
// Setpgid. It returns the Cloneflags of the first, and whether the second
// kept Setpgid.
func isolateOthers() (bare uintptr, kept bool) {
	cmd := exec.Command("true")
	Isolate(cmd)
	if cmd.SysProcAttr != nil {
		bare = cmd.SysProcAttr.Cloneflags
	}
	cmd = exec.Command("true")
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	Isolate(cmd)
	return bare, cmd.SysProcAttr != nil && cmd.SysProcAttr.Setpgid
}

// mapRootReport is what step 02 saw.
type mapRootReport struct {
	PID            int
	Hostname       string // the name the container's first process set
	Me             inside
	UIDMap, GIDMap []syscall.SysProcIDMap // what MapRoot set
	EUID, EGID     int                    // the caller's, in the lab host
}

func runMapRoot(_ context.Context, cleanup *lab.Cleanup) (r mapRootReport, err error) {
	uts, err := ns.GuardArg(ns.UTS)
	if err != nil {
		return r, err
	}
	r.Hostname, r.EUID, r.EGID = labName("ctr"), os.Geteuid(), os.Getegid()
	b, err := newBox(entryHold, r.Hostname, uts)
	if err != nil {
		return r, err
	}
	b.isolate()
	attr := b.cmd.SysProcAttr
	attr.UidMappings, attr.GidMappings = nil, nil
	flags, before := attr.Cloneflags, shapeOf(b.cmd)
	MapRoot(b.cmd)
	if b.cmd.SysProcAttr != attr || attr.Cloneflags != flags || !reflect.DeepEqual(before, shapeOf(b.cmd)) {
		b.stop()
		return r, errors.New("MapRoot changed more than the maps of cmd.SysProcAttr (its Cloneflags, or the command); want only UidMappings and GidMappings set")
	}
	r.UIDMap, r.GIDMap = attr.UidMappings, attr.GidMappings
	r.PID, err = b.launch(cleanup, "the maps of MapRoot", &r.Me)
	return r, err
}

// rootStep is what steps 03, 04, 05 and 09 saw of a container that built
// its root.
type rootStep struct {
	PID      int
	Dir      string // where the root was built
	File     string // the file written in /usr of the new root (step 03)
	Hostname string
	Report   rootReport
	PS       psReport // ps inside (step 05)
}

// startRoot starts a container that builds its root with the learner's
// piece of step and the lab's others, and waits for its report.
func startRoot(step string, cleanup *lab.Cleanup) (*box, rootStep, error) {
	var r rootStep
	mnt, err := ns.GuardArg(ns.Mnt)
	if err != nil {
		return nil, r, err
	}
	if r.Dir, err = os.MkdirTemp("", "container-root-"); err != nil {
		return nil, r, err
	}
	cleanup.Add(func() { os.Remove(r.Dir) })
	r.File, r.Hostname = labName("nslab-written-inside"), labName("ctr")
	b, err := newBox(entryRoot, step, r.Dir, r.File, r.Hostname, mnt)
	if err != nil {
		return nil, r, err
	}
	b.isolate()
	if r.PID, err = b.launch(cleanup, "its root", &r.Report); err != nil {
		return nil, r, err
	}
	return b, r, nil
}

// buildRootReport is what step 03 saw: the container that built its root
// on the lab host's machine, and BuildRoot in crafted machines.
type buildRootReport struct {
	rootStep
	Scenes []sceneReport
}

func runBuildRoot(_ context.Context, cleanup *lab.Cleanup) (r buildRootReport, err error) {
	_, r.rootStep, err = startRoot("03", cleanup)
	if err == nil {
		err = r.Report.failure(fmt.Sprintf("BuildRoot(%s) in the container", r.Dir))
	}
	if err != nil {
		return r, err
	}
	r.Scenes, err = runScenes(cleanup)
	return r, err
}

func runFurnish(_ context.Context, cleanup *lab.Cleanup) (rootStep, error) {
	_, r, err := startRoot("04", cleanup)
	if err == nil {
		err = r.Report.failure(fmt.Sprintf("Furnish(%s) in the container", r.Report.Root.Dir))
	}
	return r, err
}

// pivotRootReport is what step 05 saw: the container that switched to its
// root, and PivotRoot in crafted containers.
type pivotRootReport struct {
	rootStep
	Scenes []pivotReport
}

func runPivotRoot(_ context.Context, cleanup *lab.Cleanup) (r pivotRootReport, err error) {
	b, rs, err := startRoot("05", cleanup)
	r.rootStep = rs
	if err == nil {
		err = r.Report.failure(fmt.Sprintf("PivotRoot(%s) in the container", r.Report.Root.Dir))
	}
	if err != nil {
		return r, err
	}
	if err := b.order("ps"); err != nil {
		return r, err
	}
	if err := b.read(&r.PS); err != nil {
		return r, err
	}
	r.Scenes, err = runPivotScenes(cleanup)
	return r, err
}

// initRun is one run of step 06: a container whose init is Init, whose
// child leaves an orphan, and a signal sent to the init.
type initRun struct {
	Mode     string // the child's: "term" (SIGTERM kills it), "hup" (it exits 7 on SIGHUP)
	Signal   string // what the lab sent the init
	Want     int    // the status the init must end with
	Ready    orphansReport
	Final    *initReport // nil when the init ended without Init returning
	Exit     int         // the init's exit status (-1: killed by a signal)
	ExitHow  string      // how it ended
	Output   string      // what it printed
	TimedOut bool        // Init did not return within initWait of the signal
	Asleep   bool        // every thread of the init slept while its child ran
	Threads  []string    // where its threads slept (wchan), when one never did
	Children []string    // the init's children once its child's orphan ended (nil: not watched)
}

// initWait is how long an init may take to end once its child ended.
const initWait = 10 * time.Second

func runInit(context.Context, *lab.Cleanup) ([]initRun, error) {
	var runs []initRun
	for _, run := range []func() (initRun, error){
		func() (initRun, error) { return oneInit("term") },
		func() (initRun, error) { return oneInit("hup") },
		initZombies, initNoStart,
	} {
		r, err := run()
		if err != nil {
			return runs, err
		}
		runs = append(runs, r)
	}
	return runs, nil
}

// initLine is a line step 06's init reports: its child's, or its own.
type initLine struct {
	orphansReport
	outcome
	Status  *int
	Zombies []string
}

func oneInit(mode string) (r initRun, err error) {
	r.Mode, r.Signal, r.Want = mode, "SIGTERM", 128+int(syscall.SIGTERM)
	sig := syscall.SIGTERM
	if mode == "hup" {
		r.Signal, r.Want, sig = "SIGHUP", 7, syscall.SIGHUP
	}
	b, err := startInit(mode)
	if err != nil {
		return r, err
	}
	defer b.stop()
	var first initLine
	if err := b.read(&first); err != nil {
		return r, err
	}
	if first.Status != nil {
		if err := first.outcome.failure("Init"); err != nil {
			return r, err
		}
		return r, fmt.Errorf("Init returned %d before its child was ready (does it start the child, and wait for it?): %s", *first.Status, b.stderr.String())
	}
	r.Ready = first.orphansReport
	if r.Ready.Err != "" {
		return r, fmt.Errorf("the init's child could not make its orphan: %s", r.Ready.Err)
	}
	watchInit(b, &r)
	if err := unix.Kill(b.PID(), sig); err != nil {
		return r, fmt.Errorf("send %s to the init: %w", r.Signal, err)
	}
	if err := awaitInit(b, &r); err != nil {
		return r, err
	}
	return r, nil
}

// awaitInit reads the init's last line, sent when it has ended, within
// initWait (after that the init is killed and r says it timed out), waits
// for it, and records its exit and what it printed.
func awaitInit(b *box, r *initRun) error {
	final := make(chan *initLine, 1)
	go func() {
		var l initLine
		if b.read(&l) != nil || l.Status == nil {
			final <- nil
			return
		}
		final <- &l
	}()
	select {
	case l := <-final:
		if l != nil {
			if err := l.outcome.failure("Init"); err != nil {
				return err
			}
			r.Final = &initReport{Status: *l.Status, Zombies: l.Zombies}
		}
	case <-time.After(initWait):
		r.TimedOut = true
		b.cmd.Process.Kill()
		<-final
	}
	b.wait()
	if st := b.cmd.ProcessState; st != nil {
		r.Exit, r.ExitHow = st.ExitCode(), st.String()
	}
	r.Output = b.stderr.String()
	return nil
}

// connectReport is what step 07 saw.
type connectReport struct {
	Link               Link
	Bastion, Container netView // read after Connect, on threads that visit each
	TCP                []tcpResult
	Probes             connectProbes // the other calls of Connect
}

func runConnect(_ context.Context, cleanup *lab.Cleanup) (r connectReport, err error) {
	uts, err := ns.GuardArg(ns.UTS)
	if err != nil {
		return r, err
	}
	if r.Link, err = pair(cleanup, uts); err != nil {
		return r, err
	}
	if err := Connect(r.Link); err != nil {
		return r, fmt.Errorf("Connect: %w", err)
	}
	if r.Bastion, err = viewNetOf(r.Link.Bastion); err != nil {
		return r, fmt.Errorf("read the bastion's links: %w", err)
	}
	if r.Container, err = viewNetOf(r.Link.Container); err != nil {
		return r, fmt.Errorf("read the container's links: %w", err)
	}
	token := labName("hello")
	r.TCP = []tcpResult{
		tcp(r.Link.Bastion, r.Link.Container, netip.AddrPortFrom(containerAddr.Addr(), 8080), token+"-to-container"),
		tcp(r.Link.Container, r.Link.Bastion, netip.AddrPortFrom(bastionAddr.Addr(), 8081), token+"-to-bastion"),
	}
	r.TCP[0].From, r.TCP[0].To, r.TCP[1].From, r.TCP[1].To = "bastion", "container", "container", "bastion"
	r.Probes, err = probeConnect(cleanup)
	return r, err
}

// limitReport is what step 08 saw.
type limitReport struct {
	Parent, Cgroups Cgroups // the lab host's cgroups and the container's (the runner's view)
	Max             int
	PID             int      // the container's first process (sh, then perl)
	Inside          []string // /proc/self/cgroup inside
	Forks           int      // how many processes the fork bomb made
	Errno           int      // what the fork that failed returned (0: none failed)
	Error           string
	Probes          limitProbes // the other calls of Limit and StartIn
}

// maxPids is the container's pids.max in step 08: its first process and
// the fork bomb's children.
const maxPids = 8

// bomb is step 08's container: it waits for "go" (it is in its cgroups
// then), prints its cgroups and forks until the kernel refuses, then holds.
const bomb = `read go || exit 1
cat /proc/self/cgroup
echo end
exec /usr/bin/perl -e '
$| = 1; my $n = 0;
while ($n < 64) {
	my $p = fork();
	if (!defined $p) { printf "forks %d errno %d %s\n", $n, $!+0, $!; last }
	if ($p == 0) { sleep 1000; exit 0 }
	$n++;
}
print "forks $n errno 0 none\n" if $n >= 64;
<STDIN>;
'`

func runLimit(_ context.Context, cleanup *lab.Cleanup) (r limitReport, err error) {
	if _, err := os.Stat("/usr/bin/perl"); err != nil {
		return r, fmt.Errorf("the fork bomb of this step is a perl one-liner, and perl is missing: %w", err)
	}
	if r.Parent, err = labCgroups(); err != nil {
		return r, err
	}
	if r.Parent.PidsV1 == "" {
		if err := evacuate(r.Parent.V2, "lab"); err != nil {
			return r, fmt.Errorf("prepare the lab host's cgroup: %w", err)
		}
	}
	if err := probeLimit(&r.Probes, r.Parent); err != nil {
		return r, err
	}
	r.Max = maxPids
	r.Cgroups, err = Limit(r.Parent, "ctr", r.Max)
	cleanup.Add(func() { removeCgroups(r.Cgroups) })
	if err != nil {
		return r, fmt.Errorf("Limit: %w", err)
	}
	probeAgain(&r.Probes, r.Parent, r.Cgroups)
	if err := probeStartIn(&r.Probes, r.Parent); err != nil {
		return r, err
	}
	cmd := exec.Command("/bin/sh", "-c", bomb)
	b := &box{cmd: cmd}
	b.isolate()
	stdin, stdout, stderr, err := pipes(cmd)
	if err != nil {
		return r, err
	}
	err = StartIn(cmd, r.Cgroups)
	if cmd.Process != nil {
		cleanup.Add(func() { stdin.Close(); cmd.Process.Kill(); cmd.Wait() })
	}
	if err != nil {
		return r, fmt.Errorf("StartIn: %w", err)
	}
	if cmd.Process == nil {
		return r, errors.New("StartIn returned no error but did not start the command")
	}
	r.PID = cmd.Process.Pid
	if _, err := io.WriteString(stdin, "go\n"); err != nil {
		return r, err
	}
	out := bufio.NewScanner(stdout)
	for out.Scan() && out.Text() != "end" {
		r.Inside = append(r.Inside, out.Text())
	}
	if !out.Scan() {
		return r, fmt.Errorf("the container printed no result of its fork bomb: %s", stderr.String())
	}
	if _, err := fmt.Sscanf(out.Text(), "forks %d errno %d", &r.Forks, &r.Errno); err != nil {
		return r, fmt.Errorf("the fork bomb printed %q: %w", out.Text(), err)
	}
	r.Error = out.Text()
	return r, nil
}

// removeCgroups removes the cgroups the lab made for a container, best
// effort: the lab host's end removes what is left.
func removeCgroups(cg Cgroups) {
	for _, dir := range []string{cg.PidsV1, cg.V2} {
		if dir != "" {
			unix.Rmdir(dir)
		}
	}
}

// execReport is what step 09 saw.
type execReport struct {
	Init     int    // the container's init
	Exec     int    // the process Exec started in it, as the runner sees it
	Inner    int    // its PID in the container, as it said
	Hostname string // the container's
	Saw      string // the host name it read
	Args     []string
}

func runExec(_ context.Context, cleanup *lab.Cleanup) (r execReport, err error) {
	_, root, err := startRoot("09", cleanup)
	if err == nil {
		err = root.Report.failure("build the container's root")
	}
	if err != nil {
		return r, err
	}
	r.Init, r.Hostname = root.PID, root.Hostname
	cmd := Exec(r.Init, []string{"/bin/sh", "-c", "echo $$; cat /proc/sys/kernel/hostname; exec cat"})
	if cmd == nil {
		return r, errors.New("Exec returned no command; want an *exec.Cmd that enters the container (nsenter)")
	}
	r.Args = cmd.Args
	stdin, stdout, stderr, err := pipes(cmd)
	if err != nil {
		return r, err
	}
	if err := cmd.Start(); err != nil {
		return r, fmt.Errorf("start the command of Exec (%q): %w", cmd.Args, err)
	}
	cleanup.Add(func() { stdin.Close(); cmd.Process.Kill(); cmd.Wait() })
	out := bufio.NewScanner(stdout)
	var lines []string
	for len(lines) < 2 && out.Scan() {
		lines = append(lines, out.Text())
	}
	if len(lines) < 2 {
		cmd.Wait()
		return r, fmt.Errorf("the command of Exec (%q) printed %q and ended (%v): %s", cmd.Args, lines, cmd.ProcessState, stderr.String())
	}
	if r.Inner, err = strconv.Atoi(lines[0]); err != nil {
		return r, fmt.Errorf("the shell Exec ran printed %q, not its PID", lines[0])
	}
	r.Saw = lines[1]
	pidns, err := ns.Get(r.Init, ns.PID)
	if err != nil {
		return r, err
	}
	r.Exec, err = outerPID(pidns, r.Inner)
	if err != nil {
		r.Exec, err = execOuter(cmd.Process.Pid, r.Inner)
	}
	return r, err
}

// execOuter finds the process Exec started when it is not in the
// container's PID namespace: the child of the started command, or the command.
func execOuter(started, inner int) (int, error) {
	if inner == started {
		return started, nil
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/task/%d/children", started, started))
	if err != nil {
		return 0, err
	}
	for _, f := range strings.Fields(string(b)) {
		if pid, err := strconv.Atoi(f); err == nil {
			return pid, nil
		}
	}
	return 0, fmt.Errorf("the shell Exec ran says it is PID %d, which is no process of the container, nor a child of PID %d", inner, started)
}

// stopRun is one container stopped by Stop in step 10.
type stopRun struct {
	Mode     string // "polite" ends on SIGTERM; "stubborn" ignores it
	Grace    time.Duration
	Init     int   // its init, as the runner saw it
	PIDNS    ns.ID // its PID namespace
	Sleeper  int   // a process it started, as the runner saw it
	Link     Link
	Cgroups  Cgroups
	Killed   bool
	Err      string
	Elapsed  time.Duration
	Waited   bool   // Stop waited for the init (its ProcessState is set)
	Exit     int    // the init's exit status, -1 when a signal killed it
	ExitHow  string // ProcessState.String()
	Left     []int  // processes of its PID namespace left once Stop returned
	LinkLeft bool   // the bastion still has Link.Name
	CgLeft   []string
}

// The grace periods of step 10: long for an init that stops on SIGTERM
// (a loaded machine is slow), short for one that ignores it.
const (
	politeGrace   = 10 * time.Second
	stubbornGrace = 150 * time.Millisecond
)

// stopsReport is what step 10 saw: its two containers, and the probes.
type stopsReport struct {
	Runs   []stopRun
	Probes []stopProbe
}

func runStop(_ context.Context, cleanup *lab.Cleanup) (r stopsReport, err error) {
	// The containers get cgroups where the step's lab host has one of its
	// own (Step.Cgroup); elsewhere Stop has none to remove.
	parent, err := labCgroups()
	if err != nil {
		parent = Cgroups{}
	}
	bastion, err := startBastion()
	if err != nil {
		return r, err
	}
	cleanup.Add(bastion.stop)
	for _, mode := range []string{"polite", "stubborn"} {
		run, err := oneStop(mode, parent, bastion.PID(), cleanup)
		r.Runs = append(r.Runs, run)
		if err != nil {
			return r, err
		}
	}
	r.Probes, err = probeStops(cleanup, parent, bastion.PID())
	return r, err
}

func oneStop(mode string, parent Cgroups, bastion int, cleanup *lab.Cleanup) (r stopRun, err error) {
	r.Mode, r.Grace = mode, politeGrace
	if mode == "stubborn" {
		r.Grace = stubbornGrace
	}
	b, err := newBox(entryStop, mode)
	if err != nil {
		return r, err
	}
	b.isolate()
	if parent.V2 != "" {
		if r.Cgroups, err = labCgroup(parent, "ctr-"+mode); err != nil {
			return r, err
		}
		cleanup.Add(func() { removeCgroups(r.Cgroups) })
		err = labStartIn(b, r.Cgroups)
	} else {
		err = b.start()
	}
	if b.cmd.Process != nil {
		cleanup.Add(b.stop)
	}
	if err != nil {
		return r, err
	}
	var ready stopReport
	if err := b.read(&ready); err != nil {
		return r, err
	}
	if ready.Err != "" {
		return r, fmt.Errorf("the container's init: %s", ready.Err)
	}
	r.Init = b.PID()
	if r.PIDNS, err = ns.Get(r.Init, ns.PID); err != nil {
		return r, err
	}
	if r.Sleeper, err = outerPID(r.PIDNS, ready.Sleeper); err != nil {
		return r, err
	}
	r.Link = Link{Bastion: bastion, Container: r.Init, BastionAddr: bastionAddr, ContainerAddr: containerAddr}
	r.Link.Name, r.Link.Peer = linkNames()
	if err := labConnect(r.Link); err != nil {
		return r, err
	}
	if err := holdNet(cleanup, r.Init); err != nil {
		return r, err
	}
	c := &Container{Cmd: b.cmd, Link: r.Link, Cgroups: r.Cgroups}
	start := time.Now()
	r.Killed, err = Stop(c, r.Grace)
	r.Elapsed = time.Since(start)
	if err != nil {
		r.Err = err.Error()
	}
	if st := b.cmd.ProcessState; st != nil {
		r.Waited, r.Exit, r.ExitHow = true, st.ExitCode(), st.String()
	}
	r.left(bastion)
	return r, nil
}

// left records what Stop left behind: processes of the container's PID
// namespace, its link on the bastion, its cgroup directories.
func (r *stopRun) left(bastion int) {
	r.Left = procsIn("/proc", r.PIDNS)
	if v, err := viewNetOf(bastion); err == nil {
		_, r.LinkLeft = v.link(r.Link.Name)
	}
	for _, dir := range []string{r.Cgroups.V2, r.Cgroups.PidsV1} {
		if _, err := os.Stat(dir); dir != "" && err == nil {
			r.CgLeft = append(r.CgLeft, dir)
		}
	}
}

// pipes connects cmd's stdin and stdout to the caller, and its stderr to a
// buffer.
func pipes(cmd *exec.Cmd) (io.WriteCloser, io.ReadCloser, *holder.SyncBuffer, error) {
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, nil, nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, nil, nil, err
	}
	stderr := &holder.SyncBuffer{}
	cmd.Stderr = stderr
	return stdin, stdout, stderr, nil
}
