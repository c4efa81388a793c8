//go:build linux

package container

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"

	"github.com/nslab/nslab/pkg/lab"
	"github.com/nslab/nslab/pkg/ns"
	"github.com/nslab/nslab/pkg/spawn"
	"golang.org/x/sys/unix"
)

// The lab's entrypoints: Go functions that spawn runs in a re-executed
// binary, most of them as a container's first process. They report on fd 3
// (one JSON value a line) and take orders on fd 4 (one a line), and end at
// the end of their orders.
const (
	entryHold    = "container-hold"    // reports who it is inside, then waits
	entryRoot    = "container-root"    // builds a root (steps 03-05, 09), reports, runs ps on order
	entryInit    = "container-init"    // runs Init (step 06) with a child that leaves an orphan
	entryOrphans = "container-orphans" // the child of step 06's init
	entryStop    = "container-stop"    // an init that obeys SIGTERM, or ignores it (step 10)
	entryIdle    = "container-idle"    // the bastion: waits
)

func init() {
	spawn.Register(entryHold, holdMain)
	spawn.Register(entryRoot, rootMain)
	spawn.Register(entryInit, initMain)
	spawn.Register(entryOrphans, orphansMain)
	spawn.Register(entryStop, stopMain)
	spawn.Register(entryIdle, idleMain)
}

// report writes v as one line on fd 3.
func report(v any) int {
	if err := json.NewEncoder(os.NewFile(3, "report")).Encode(v); err != nil {
		fmt.Fprintf(os.Stderr, "report: %v\n", err)
		return 1
	}
	return 0
}

// awaitEnd blocks until the end of the orders on fd 4.
func awaitEnd() { io.Copy(io.Discard, os.NewFile(4, "orders")) }

// reportAndWait reports v, then waits for the end of the orders: an
// entrypoint that the lab looks at while it lives.
func reportAndWait(v any) int {
	if code := report(v); code != 0 {
		return code
	}
	awaitEnd()
	return 0
}

func usage(format string) int {
	fmt.Fprintln(os.Stderr, "usage: "+format)
	return 2
}

// inside is who a container's first process is, as it sees itself.
type inside struct {
	PID, PPID, UID, GID int
	Hostname            string
	SetHostname         string // the error of sethostname(2), when asked and refused
}

func whoAmI() inside {
	var u unix.Utsname
	unix.Uname(&u)
	return inside{PID: os.Getpid(), PPID: os.Getppid(), UID: os.Getuid(), GID: os.Getgid(), Hostname: unix.ByteSliceToString(u.Nodename[:])}
}

// holdMain: args are a host name to set ("" for none) and the caller's UTS
// namespace (ns.ID.Arg), which it refuses to rename.
func holdMain(args []string) int {
	if len(args) != 2 {
		return usage("container-hold HOSTNAME PARENT-UTS")
	}
	var setErr error
	if args[0] != "" {
		setErr = ns.NotInParent(ns.UTS, args[1], "rename")
		if setErr == nil {
			setErr = unix.Sethostname([]byte(args[0]))
		}
	}
	me := whoAmI()
	if setErr != nil {
		me.SetHostname = setErr.Error()
	}
	return reportAndWait(me)
}

// rootReport is what a container that built its root says.
type rootReport struct {
	outcome
	Root     Root     // what BuildRoot returned
	Allowed  string   // when BuildRoot fell back: "" if the kernel refuses an overlay here too, else that it allows one
	Wrote    string   // the file written in /usr of the new root, when it is an overlay
	WriteErr string   // why that write failed
	Absent   string   // step 03: the error of BuildRoot on a directory that does not exist
	AbsentIs bool     // and whether it wraps the kernel's ENOENT
	Cwd      string   // the working directory after the switch
	Entries  []string // the names in / after the switch
	Me       inside
	// Step 04: the calls of Furnish where the kernel refuses.
	Probes []refusal
}

// rootMain: args are the step (03, 04, 05: whose piece is the learner's;
// 09: none), the directory to build in, the name of a file to write in
// /usr, the host name, and the caller's mount namespace (ns.ID.Arg), in
// which it refuses to mount. Then it runs ps on the order "ps".
func rootMain(args []string) int {
	if len(args) != 5 {
		return usage("container-root STEP DIR FILE HOSTNAME PARENT-MNT")
	}
	step, dir, file, host, parent := args[0], args[1], args[2], args[3], args[4]
	var r rootReport
	r.outcome = buildRoot(&r, step, dir, file, host, parent)
	r.Me = whoAmI()
	if code := report(r); code != 0 || r.outcome != (outcome{}) {
		return code
	}
	orders := bufio.NewScanner(os.NewFile(4, "orders"))
	for orders.Scan() {
		if orders.Text() != "ps" {
			report(psReport{Err: fmt.Sprintf("unknown order %q", orders.Text())})
			continue
		}
		report(runPS())
	}
	return 0
}

// buildRoot builds the container's root: the lab's pieces but the step's.
func buildRoot(r *rootReport, step, dir, file, host, parent string) outcome {
	if err := ns.NotInParent(ns.Mnt, parent, "mount"); err != nil {
		return outcome{Err: err.Error()}
	}
	if err := unix.Mount("", "/", "", unix.MS_REC|unix.MS_PRIVATE, ""); err != nil {
		return outcome{Err: fmt.Sprintf("make / private: %v", err)}
	}
	if err := unix.Sethostname([]byte(host)); err != nil {
		return outcome{Err: fmt.Sprintf("sethostname: %v", err)}
	}
	build := labBuildRoot
	if step == "03" {
		build = BuildRoot
		unix.Umask(0o022) // the usual one: root/ must come out 0755
		if o := buildAbsent(r, dir); o != (outcome{}) {
			return o
		}
	}
	if o := call(func() (err error) { r.Root, err = build(dir); return err }); o != (outcome{}) {
		return o
	}
	if step == "03" {
		if !r.Root.Overlay {
			r.Allowed = overlayAllowed(dir)
		}
		r.Wrote, r.WriteErr = writeThrough(r.Root.Dir, file)
		return outcome{}
	}
	furnish, pivot := labFurnish, labPivotRoot
	switch step {
	case "04":
		furnish = Furnish
	case "05":
		pivot = PivotRoot
	}
	if o := call(func() error { return furnish(r.Root.Dir) }); o != (outcome{}) {
		return o
	}
	if step == "04" {
		var err error
		if r.Probes, err = furnishProbes(dir); err != nil {
			return outcome{Err: "the lab's other calls of Furnish: " + err.Error()}
		}
		return outcome{}
	}
	if o := call(func() error { return pivot(r.Root.Dir) }); o != (outcome{}) {
		return o
	}
	r.Cwd, _ = os.Getwd()
	entries, _ := os.ReadDir("/")
	for _, e := range entries {
		r.Entries = append(r.Entries, e.Name())
	}
	return outcome{}
}

// buildAbsent runs BuildRoot on a directory that does not exist, in dir:
// the kernel refuses the tmpfs, and BuildRoot must say so.
func buildAbsent(r *rootReport, dir string) outcome {
	return call(func() error {
		_, err := BuildRoot(filepath.Join(dir, "absent"))
		r.Absent, r.AbsentIs = lab.ErrText(err), errors.Is(err, fs.ErrNotExist)
		return nil
	})
}

// writeThrough writes file in /usr of root when that /usr is an overlay
// (read in the container's own mountinfo): the write must land in the
// upper layer. On anything else it writes nothing, so that the lab never
// writes to a file system of the machine.
func writeThrough(root, file string) (wrote, why string) {
	usr := filepath.Join(root, "usr")
	mounts, err := readMountinfo("/proc/self/mountinfo")
	if err != nil {
		return "", err.Error()
	}
	m, ok := mountAt(mounts, usr)
	if !ok || m.FSType != "overlay" {
		return "", fmt.Sprintf("%s is not an overlay: nothing written", usr)
	}
	path := filepath.Join(usr, file)
	if err := os.WriteFile(path, []byte("written inside the container\n"), 0o644); err != nil {
		return "", err.Error()
	}
	return path, ""
}

// overlayAllowed tries an overlay of its own, on a tmpfs in dir, and takes
// it down again: "" when the kernel refuses it too, else a sentence.
func overlayAllowed(dir string) string {
	probe := filepath.Join(dir, ".probe")
	if err := os.Mkdir(probe, 0o700); err != nil {
		return ""
	}
	defer os.Remove(probe)
	if err := unix.Mount("tmpfs", probe, "tmpfs", 0, ""); err != nil {
		return ""
	}
	defer unix.Unmount(probe, unix.MNT_DETACH)
	for _, d := range []string{"u", "w", "m"} {
		os.Mkdir(filepath.Join(probe, d), 0o700)
	}
	data := fmt.Sprintf("lowerdir=/usr,upperdir=%s/u,workdir=%s/w", probe, probe)
	if err := unix.Mount("overlay", probe+"/m", "overlay", 0, data); err != nil {
		return ""
	}
	unix.Unmount(probe+"/m", unix.MNT_DETACH)
	return "the lab mounted an overlay on the machine's /usr in the same container"
}

// psReport is what ps(1) printed inside.
type psReport struct {
	Out string
	Err string
}

func runPS() psReport {
	out, err := exec.Command("/usr/bin/ps", "-e", "-o", "pid=,comm=").CombinedOutput()
	r := psReport{Out: string(out)}
	if err != nil {
		r.Err = err.Error()
	}
	return r
}

// initReport is what step 06's init reports once Init returned.
type initReport struct {
	outcome
	Status  int
	Zombies []string // "PID comm" of the zombies left in the container
}

// initMain runs Init (step 06) as PID 1 with the orphan-making child;
// args are the child's mode (see orphansMain) and the caller's mount
// namespace (ns.ID.Arg), in which it refuses to mount.
func initMain(args []string) int {
	if len(args) != 2 {
		return usage("container-init MODE PARENT-MNT")
	}
	if err := ns.NotInParent(ns.Mnt, args[1], "mount"); err != nil {
		return report(initReport{outcome: outcome{Err: err.Error()}}) + 1
	}
	if err := unix.Mount("", "/", "", unix.MS_REC|unix.MS_PRIVATE, ""); err != nil {
		return report(initReport{outcome: outcome{Err: err.Error()}}) + 1
	}
	if err := unix.Mount("proc", "/proc", "proc", unix.MS_NOSUID|unix.MS_NODEV|unix.MS_NOEXEC, ""); err != nil {
		return report(initReport{outcome: outcome{Err: "mount proc: " + err.Error()}}) + 1
	}
	// Init forks and waits on this thread: its child is on this thread's
	// list of children, which wait4 scans first (see initZombies).
	runtime.LockOSThread()
	child, err := spawn.EntrypointCommand(entryOrphans, args[:1])
	if args[0] == "nostart" {
		child, err = exec.Command(noStart), nil
	}
	if err != nil {
		return report(initReport{outcome: outcome{Err: err.Error()}}) + 1
	}
	child.ExtraFiles = []*os.File{os.NewFile(3, "report")}
	child.Stdout, child.Stderr = os.Stderr, os.Stderr
	var r initReport
	r.outcome = call(func() error { r.Status = Init(child); return nil })
	if r.Zombies, err = zombies(); err != nil && r.outcome == (outcome{}) {
		r.outcome.Err = err.Error()
	}
	report(r)
	return r.Status
}

// zombies lists the processes of this PID namespace (the caller's /proc)
// that ended and were not reaped.
func zombies() ([]string, error) {
	var out []string
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil, fmt.Errorf("list the container's processes: %w", err)
	}
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == os.Getpid() {
			continue
		}
		st, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue
		}
		comm, state, ok := statState(string(st))
		if ok && state == "Z" {
			out = append(out, fmt.Sprintf("%d %s", pid, comm))
		}
	}
	return out, nil
}

// statState reads the command and the state of /proc/PID/stat text.
func statState(stat string) (comm, state string, ok bool) {
	open, end := strings.IndexByte(stat, '('), strings.LastIndexByte(stat, ')')
	if open < 0 || end < open {
		return "", "", false
	}
	f := strings.Fields(stat[end+1:])
	if len(f) < 1 {
		return "", "", false
	}
	return stat[open+1 : end], f[0], true
}

// orphansReport is what step 06's child says once its orphan has ended.
type orphansReport struct {
	Child, Orphan int // PIDs in the container
	Err           string
}

// orphansMain is the child of step 06's init. It makes an orphan (a shell
// starts cat in the background, reading a pipe this process holds, and
// exits: cat's parent is now the init),
// ends it, waits until the orphan has ended (a pidfd), says so, and waits
// for a signal. Mode "term": SIGTERM kills it (no handler); mode "hup": it
// handles SIGHUP and exits 7.
func orphansMain(args []string) int {
	if len(args) != 1 || !slices.Contains([]string{"term", "hup", "zombies"}, args[0]) {
		return usage("container-orphans term|hup|zombies")
	}
	if args[0] == "zombies" {
		return zombiesMain()
	}
	if args[0] == "hup" {
		hup := make(chan os.Signal, 1)
		signal.Notify(hup, syscall.SIGHUP)
		go func() { <-hup; os.Exit(7) }()
	}
	r := orphansReport{Child: os.Getpid()}
	var err error
	r.Orphan, err = makeOrphan()
	if err != nil {
		r.Err = err.Error()
	}
	report(r)
	for {
		unix.Pause()
	}
}

// makeOrphan returns the PID of a process whose parent has ended (so the
// init adopted it) and that has ended itself.
func makeOrphan() (int, error) {
	stdin, w, err := os.Pipe()
	if err != nil {
		return 0, err
	}
	defer stdin.Close()
	defer w.Close()
	sh := exec.Command("/bin/sh", "-c", "exec 3<&0; cat <&3 >/dev/null 2>&1 & echo $!")
	sh.Stdin = stdin
	// A process group of its own, which cat keeps: only wait4(-1) reaps
	// it, not wait4(0) (the caller's group).
	sh.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	var stderr strings.Builder
	sh.Stderr = &stderr
	out, err := sh.Output()
	if err != nil {
		return 0, fmt.Errorf("sh: %w: %s", err, stderr.String())
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(out)))
	if err != nil {
		return 0, fmt.Errorf("sh printed %q, not a PID", out)
	}
	fd, err := unix.PidfdOpen(pid, 0)
	if err != nil {
		return 0, fmt.Errorf("pidfd_open %d: %w (sh said %q)", pid, err, stderr.String())
	}
	defer unix.Close(fd)
	w.Close() // cat reads EOF and ends
	fds := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
	for {
		_, err := unix.Poll(fds, -1)
		if !errors.Is(err, unix.EINTR) {
			return pid, err
		}
	}
}

// stopReport is what step 10's init says once it is ready to be stopped.
type stopReport struct {
	PID     int // the init, inside
	Sleeper int // a process it started, inside
	Err     string
}

// stopMain is step 10's init: args[0] "polite" exits 0 on SIGTERM,
// "stubborn" ignores SIGTERM. It starts a sleeper first, which must die
// with it.
func stopMain(args []string) int {
	if len(args) != 1 || !slices.Contains([]string{"polite", "stubborn"}, args[0]) {
		return usage("container-stop polite|stubborn")
	}
	term := make(chan os.Signal, 1)
	if args[0] == "polite" {
		signal.Notify(term, syscall.SIGTERM)
	} else {
		signal.Ignore(syscall.SIGTERM)
	}
	r := stopReport{PID: os.Getpid()}
	sleeper := exec.Command("/usr/bin/sleep", "1000")
	if err := sleeper.Start(); err != nil {
		r.Err = err.Error()
	} else {
		r.Sleeper = sleeper.Process.Pid
	}
	report(r)
	if args[0] == "polite" {
		<-term
		return 0
	}
	for {
		unix.Pause()
	}
}

// idleMain is the bastion: it says its PID and waits for the end of its orders.
func idleMain([]string) int {
	return reportAndWait(whoAmI())
}
