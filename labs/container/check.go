//go:build linux

package container

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"

	"github.com/nslab/nslab/pkg/lab"
	"github.com/nslab/nslab/pkg/labhost"
	"github.com/nslab/nslab/pkg/ns"
	"golang.org/x/sys/unix"
)

// The check halves of the steps: in the harness, they verify the reports
// of run.go against the kernel where it still holds the facts (the
// container is alive until the check is over), narrate, and return what the
// kernel was expected to do and did not.

// flagNames are the clone(2) flags of a container's namespaces.
var flagNames = map[ns.Kind]string{
	ns.Cgroup: "CLONE_NEWCGROUP", ns.IPC: "CLONE_NEWIPC", ns.Mnt: "CLONE_NEWNS", ns.Net: "CLONE_NEWNET",
	ns.PID: "CLONE_NEWPID", ns.User: "CLONE_NEWUSER", ns.UTS: "CLONE_NEWUTS",
}

func checkIsolate(c *lab.Check, r isolateReport) error {
	host, ctr, err := c.HostAnd(r.PID, "the container")
	if err != nil {
		return err
	}
	c.Compare(host, ctr, "container")
	for _, k := range ns.Kinds() {
		h, _ := host.Get(k)
		x, _ := ctr.Get(k)
		isNew := slices.Contains(kinds, k.Base())
		switch {
		case isNew && h.Equal(x):
			return c.Failf("the container's %s namespace %s is the caller's; want a new one: add %s to Cloneflags", k, x, flagNames[k.Base()])
		case !isNew && !h.Equal(x):
			return c.Failf("the container's %s namespace %s is not the caller's %s; want it shared: a container keeps the host's clocks (no CLONE_NEWTIME)", k, x, h)
		}
	}
	c.Check(true, "new: cgroup, ipc, mnt, net, pid, user, uts; time is shared")
	if r.Me.PID != 1 {
		return c.Failf("the container's first process is PID %d in its PID namespace; want 1", r.Me.PID)
	}
	if r.Pdeathsig != int(syscall.SIGKILL) {
		return c.Failf("cmd.SysProcAttr.Pdeathsig is %d; want syscall.SIGKILL (%d), so that the container dies with the thread that started it", r.Pdeathsig, syscall.SIGKILL)
	}
	c.Check(true, "PID 1 inside; killed if its starter dies (Pdeathsig SIGKILL)")
	switch {
	case r.Bare != r.Flags:
		return c.Failf("Isolate on exec.Command(\"true\"), whose SysProcAttr is nil, set the Cloneflags %#x; want %#x, as on any command: give it a new *syscall.SysProcAttr first", r.Bare, r.Flags)
	case !r.Kept:
		return c.Failf("Isolate on a command whose SysProcAttr already asked for Setpgid lost it; want only Cloneflags and Pdeathsig set, the rest of a SysProcAttr it already has kept")
	}
	c.Check(true, "Isolate works on a command without a SysProcAttr, and keeps what one already holds")
	return nil
}

func checkMapRoot(c *lab.Check, r mapRootReport) error {
	c.Say("MapRoot set UidMappings %v, GidMappings %v (the caller is UID %d, GID %d in the lab host)", r.UIDMap, r.GIDMap, r.EUID, r.EGID)
	c.Say("inside, the container's first process is PID %d, UID %d, GID %d, host name %q", r.Me.PID, r.Me.UID, r.Me.GID, r.Me.Hostname)
	switch {
	case r.Me.UID != 0:
		return c.Failf("the container's first process is UID %d inside; want 0: map the caller's effective UID (%d) to 0 (UidMappings, ContainerID 0, Size 1)", r.Me.UID, r.EUID)
	case r.Me.GID != 0:
		return c.Failf("the container's first process is GID %d inside; want 0: map the caller's effective GID (%d) to 0 too (GidMappings)", r.Me.GID, r.EGID)
	case r.Me.SetHostname != "":
		return c.Failf("sethostname(2) in the container failed: %s; want it allowed to root of the container's user namespace", r.Me.SetHostname)
	case r.Me.Hostname != r.Hostname:
		return c.Failf("the container's host name is %q; want %q, the name it set", r.Me.Hostname, r.Hostname)
	case r.Me.PID != 1:
		return c.Failf("the container's first process is PID %d inside; want 1", r.Me.PID)
	}
	c.Check(true, "root inside (UID 0, GID 0), PID 1, and it named its UTS namespace %q", r.Hostname)
	for _, name := range []string{"uid_map", "gid_map"} {
		text, err := c.ReadFile(r.PID, name)
		if err != nil {
			return fmt.Errorf("read /proc/%d/%s: %w", r.PID, name, err)
		}
		if lines := strings.Split(strings.TrimSpace(text), "\n"); len(lines) != 1 || len(strings.Fields(lines[0])) != 3 || strings.Fields(lines[0])[2] != "1" {
			return c.Failf("/proc/%d/%s reads %q; want one line mapping one ID (the caller's) to 0", r.PID, name, strings.TrimSpace(text))
		}
	}
	ctr, err := c.ReadFile(r.PID, "status")
	if err != nil {
		return err
	}
	runner, err := c.ReadFile(c.Runner, "status")
	if err != nil {
		return err
	}
	for _, f := range []string{"Uid", "Gid"} {
		if ids(ctr, f) != ids(runner, f) {
			return c.Failf("seen from the harness, the container's %s are %q and the caller's %q; want the same: root inside is the caller outside", f, ids(ctr, f), ids(runner, f))
		}
	}
	c.Check(true, "seen from outside, the container runs as the caller (Uid %s)", ids(ctr, "Uid"))
	return nil
}

// containerMounts reads the mount table of the container from the harness.
func containerMounts(c *lab.Check, pid int) ([]mount, error) {
	text, err := c.ReadFile(pid, "mountinfo")
	if err != nil {
		return nil, fmt.Errorf("read the container's mountinfo: %w", err)
	}
	return parseMountinfo(strings.NewReader(text))
}

// hasOptions reports whether the comma-separated options opts hold each of want.
func hasOptions(opts string, want ...string) bool {
	have := strings.Split(opts, ",")
	for _, w := range want {
		if !slices.Contains(have, w) {
			return false
		}
	}
	return true
}

func checkBuildRoot(c *lab.Check, br buildRootReport) error {
	r := br.rootStep
	mounts, err := containerMounts(c, r.PID)
	if err != nil {
		return err
	}
	root := r.Report.Root
	want := filepath.Join(r.Dir, "root")
	c.Say("BuildRoot(%s) returned Dir %s, Overlay %v", r.Dir, root.Dir, root.Overlay)
	if m, ok := mountAt(mounts, r.Dir); !ok || m.FSType != "tmpfs" {
		return c.Failf("the container has no tmpfs mounted on %s; want one there first, so that nothing of the root (the overlay's upper layer included) is written to a disk", r.Dir)
	} else if !hasOptions(m.Options, "nosuid", "nodev") {
		return c.Failf("the tmpfs on %s is mounted with the options %s; want nosuid and nodev (MS_NOSUID|MS_NODEV), so that no set-user-ID program or device node in it works", r.Dir, m.Options)
	}
	c.Say("BuildRoot(%s/absent), a directory that does not exist, returned %q", r.Dir, r.Report.Absent)
	switch {
	case r.Report.Absent == "":
		return c.Failf("BuildRoot(%s/absent), a directory that does not exist, returned no error; want the kernel's ENOENT from mount(2), wrapped", r.Dir)
	case !r.Report.AbsentIs:
		return c.Failf("BuildRoot(%s/absent) returned %q; want an error that wraps the kernel's ENOENT (fmt.Errorf with %%w), so that errors.Is finds it", r.Dir, r.Report.Absent)
	}
	if root.Dir != want {
		return c.Failf("BuildRoot returned Dir %q; want %q, the directory root/ in the tmpfs", root.Dir, want)
	}
	if err := checkMode(c, r.PID, want, "the new root"); err != nil {
		return err
	}
	usr := filepath.Join(want, "usr")
	m, ok := mountAt(mounts, usr)
	if !ok {
		return c.Failf("nothing is mounted on %s in the container; want an overlay on the machine's /usr", usr)
	}
	if root.Overlay {
		if err := checkOverlay(c, m, r); err != nil {
			return err
		}
	} else if err := checkFallback(c, m, r); err != nil {
		return err
	}
	if err := checkHostDirs(c, r.PID, want, mounts); err != nil {
		return err
	}
	return checkScenes(c, br.Scenes)
}

// checkMode checks that dir, as the container pid sees it, is a directory
// of mode 0755 (drwxr-xr-x, as the machine's /): what ls -ld shows inside.
func checkMode(c *lab.Check, pid int, dir, what string) error {
	fi, err := os.Lstat(filepath.Join(c.ProcDir(pid), "root", dir))
	if err != nil {
		return c.Failf("%s, %s, is not in the container: %v", what, dir, err)
	}
	if !fi.IsDir() || fi.Mode().Perm() != 0o755 {
		return c.Failf("%s, %s, is %v in the container; want a directory of mode 0755 (drwxr-xr-x), as every directory BuildRoot makes: check the mode passed to os.Mkdir", what, dir, fi.Mode())
	}
	return nil
}

// checkOverlay checks the overlay on root/usr and the file written through it.
func checkOverlay(c *lab.Check, m mount, r rootStep) error {
	lower, _ := option(m.Super, "lowerdir")
	upper, _ := option(m.Super, "upperdir")
	work, _ := option(m.Super, "workdir")
	c.Say("on %s: %s, lowerdir=%s upperdir=%s workdir=%s", m.Target, m.FSType, lower, upper, work)
	switch {
	case m.FSType != "overlay":
		return c.Failf("%s in the container is %s (%s); want an overlay, as BuildRoot said, not a bind of the machine's /usr: a write inside would reach it", m.Target, m.FSType, m.Root)
	case lower != "/usr":
		return c.Failf("the overlay's lower layer is %q; want the machine's /usr", lower)
	case !strings.HasPrefix(upper, r.Dir+"/"):
		return c.Failf("the overlay's upper layer is %q; want a directory of the tmpfs on %s", upper, r.Dir)
	case upper != filepath.Join(r.Dir, "upper") || work != filepath.Join(r.Dir, "work"):
		return c.Failf("the overlay's upperdir is %q and its workdir %q; want %s and %s: upper/ holds what the container writes, work/ is the overlay's scratch space", upper, work, filepath.Join(r.Dir, "upper"), filepath.Join(r.Dir, "work"))
	}
	c.Check(true, "/usr of the new root is an overlay: the machine's /usr below, a tmpfs above")
	if r.Report.Wrote == "" {
		return c.Failf("the lab could not write in /usr of the new root: %s", r.Report.WriteErr)
	}
	inside := filepath.Join(c.ProcDir(r.PID), "root", r.Report.Wrote)
	if _, err := os.Stat(inside); err != nil {
		return c.Failf("the file the container wrote, %s, is not in its /usr: %v", r.Report.Wrote, err)
	}
	machine := filepath.Join("/usr", r.File)
	if _, err := os.Lstat(machine); !errors.Is(err, os.ErrNotExist) {
		return c.Failf("the container wrote %s in its /usr, and the machine's %s exists: the write reached the lower layer", r.Report.Wrote, machine)
	}
	c.Check(true, "the container wrote %s; the machine's /usr has no %s", filepath.Join("/usr", r.File), r.File)
	return nil
}

// checkFallback checks a read-only bind of /usr where the overlay was refused.
func checkFallback(c *lab.Check, m mount, r rootStep) error {
	root := r.Report.Root
	switch {
	case root.Fallback == "":
		return c.Failf("BuildRoot says /usr is no overlay, and gives no reason in Root.Fallback; want an overlay, or the kernel's refusal")
	case r.Report.Allowed != "":
		return c.Failf("BuildRoot fell back (%s), but %s: want the overlay", root.Fallback, r.Report.Allowed)
	case m.Root != "/usr" || !hasFlag(m.Options, "ro"):
		return c.Failf("the fallback on %s is %s of %q with options %s; want a read-only bind of the machine's /usr", m.Target, m.FSType, m.Root, m.Options)
	}
	c.Check(true, "the kernel refused an overlay (%s); /usr is a read-only bind", root.Fallback)
	return nil
}

// checkHostDirs checks that the new root has the machine's top-level links
// (or read-only binds of its directories).
func checkHostDirs(c *lab.Check, pid int, root string, mounts []mount) error {
	var have []string
	for _, name := range HostDirs() {
		fi, err := os.Lstat("/" + name)
		if err != nil {
			continue
		}
		target := filepath.Join(root, name)
		inside := filepath.Join(c.ProcDir(pid), "root", target)
		if fi.Mode()&os.ModeSymlink != 0 {
			want, err := os.Readlink("/" + name)
			if err != nil {
				return err
			}
			got, err := os.Readlink(inside)
			if err != nil || got != want {
				return c.Failf("the new root has no link %s -> %s like the machine's (%v): programs find their libraries and loader through it", "/"+name, want, errOr(err, "it points to "+got))
			}
			have = append(have, "/"+name+" -> "+want)
			continue
		}
		if m, ok := mountAt(mounts, target); !ok || !hasFlag(m.Options, "ro") {
			return c.Failf("the new root has no read-only bind of the machine's /%s on %s", name, target)
		}
		have = append(have, "/"+name+" (read-only)")
	}
	c.Check(true, "the new root has %s", strings.Join(have, ", "))
	return nil
}

func errOr(err error, s string) string {
	if err != nil {
		return err.Error()
	}
	return s
}

func checkFurnish(c *lab.Check, r rootStep) error {
	mounts, err := containerMounts(c, r.PID)
	if err != nil {
		return err
	}
	root := r.Report.Root.Dir
	kinds := map[string]string{"proc": "proc", "dev": "tmpfs", "tmp": "tmpfs"}
	flags := map[string][]string{"proc": {"nosuid", "nodev", "noexec"}, "dev": {"nosuid", "noexec"}, "tmp": {"nosuid", "nodev"}}
	for _, d := range []string{"proc", "dev", "tmp"} {
		m, ok := mountAt(mounts, filepath.Join(root, d))
		if !ok || m.FSType != kinds[d] {
			return c.Failf("%s in the container is not a %s of its own (%s); want a fresh one", filepath.Join(root, d), kinds[d], describe(m, ok))
		}
		if !hasOptions(m.Options, flags[d]...) {
			return c.Failf("the %s on %s is mounted with the options %s; want %s (OR the MS_ flags together: & leaves none)", kinds[d], m.Target, m.Options, strings.Join(flags[d], ", "))
		}
	}
	if m, ok := mountAt(mounts, filepath.Join(root, "sys")); ok {
		if m.FSType != "sysfs" || !hasOptions(m.Options, "ro", "nosuid", "nodev", "noexec") {
			return c.Failf("%s is %s with options %s; want a read-only sysfs, nosuid, nodev and noexec", m.Target, m.FSType, m.Options)
		}
	} else if r.Report.Allowed != "" {
		return c.Failf("nothing is mounted on %s, but %s; want a read-only sysfs there", filepath.Join(root, "sys"), r.Report.Allowed)
	}
	c.Check(true, "proc, a tmpfs /dev, sysfs (read-only) and a tmpfs /tmp are mounted in the new root")
	// The fresh proc shows the container's PID namespace: its PID 1 is the container's init.
	pidns, err := c.NS(r.PID)
	if err != nil {
		return err
	}
	want, _ := pidns.Get(ns.PID)
	got, err := ns.GetPath(filepath.Join(c.ProcDir(r.PID), "root", root, "proc", "1", "ns", "pid"))
	if err != nil {
		return c.Failf("read PID 1's namespace in the new root's proc: %v", err)
	}
	if !got.Equal(want) {
		return c.Failf("PID 1 of %s/proc is in PID namespace %s; want the container's %s (mount a new proc in the container, not a bind of the host's)", root, got, want)
	}
	c.Check(true, "%s/proc shows the container's PID namespace %s", root, want)
	if err := checkDev(c, r.PID, filepath.Join(root, "dev"), mounts); err != nil {
		return err
	}
	return checkEach(c, r.Report.Probes)
}

// checkDev checks that dev holds the devices of DevNodes, the machine's,
// and nothing else.
func checkDev(c *lab.Check, pid int, dev string, mounts []mount) error {
	entries, err := os.ReadDir(filepath.Join(c.ProcDir(pid), "root", dev))
	if err != nil {
		return fmt.Errorf("list the container's %s: %w", dev, err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	want := slices.Sorted(slices.Values(DevNodes()))
	if !slices.Equal(names, want) {
		return c.Failf("the container's %s holds %v; want exactly %v (a tmpfs with binds of those devices, not the machine's /dev)", dev, names, want)
	}
	for _, name := range want {
		var host, got unix.Stat_t
		if err := unix.Stat("/dev/"+name, &host); err != nil {
			return err
		}
		path := filepath.Join(c.ProcDir(pid), "root", dev, name)
		if err := unix.Stat(path, &got); err != nil {
			return c.Failf("stat %s in the container: %v", filepath.Join(dev, name), err)
		}
		if got.Mode&unix.S_IFMT != unix.S_IFCHR || got.Rdev != host.Rdev {
			return c.Failf("%s in the container is not the machine's device /dev/%s; bind it onto an empty file", filepath.Join(dev, name), name)
		}
		if _, ok := mountAt(mounts, filepath.Join(dev, name)); !ok {
			return c.Failf("%s is not a mount point; want the machine's /dev/%s bound on it", filepath.Join(dev, name), name)
		}
	}
	c.Check(true, "/dev holds %s, bound from the machine", strings.Join(want, ", "))
	return nil
}

func describe(m mount, ok bool) string {
	if !ok {
		return "nothing is mounted there"
	}
	return fmt.Sprintf("it is %s from %s", m.FSType, m.Source)
}

func checkPivotRoot(c *lab.Check, pr pivotRootReport) error {
	r := pr.rootStep
	mounts, err := containerMounts(c, r.PID)
	if err != nil {
		return err
	}
	c.Say("after PivotRoot, the container's working directory is %q and / holds %v", r.Report.Cwd, r.Report.Entries)
	if err := checkSwitched(c, mounts); err != nil {
		return err
	}
	want := map[string]bool{"usr": true, "proc": true, "dev": true, "sys": true, "tmp": true}
	for _, name := range HostDirs() {
		want[name] = true
	}
	for _, e := range r.Report.Entries {
		if !want[e] {
			return c.Failf("the new root holds %q, which BuildRoot and Furnish did not make: remove the old root's mount point once it is detached", "/"+e)
		}
	}
	var cwd, root unix.Stat_t
	if err := unix.Stat(c.ProcDir(r.PID)+"/cwd", &cwd); err != nil {
		return err
	}
	if err := unix.Stat(c.ProcDir(r.PID)+"/root", &root); err != nil {
		return err
	}
	if r.Report.Cwd != "/" || cwd.Dev != root.Dev || cwd.Ino != root.Ino {
		return c.Failf("the container's working directory is %q, not its new root; chdir(\"/\") after pivot_root", r.Report.Cwd)
	}
	c.Check(true, "its working directory is its new root")
	if err := checkPS(c, r); err != nil {
		return err
	}
	return checkPivotScenes(c, pr.Scenes)
}

// checkSwitched checks the mount table of a container after PivotRoot:
// its own root, and nothing of the lab host's.
func checkSwitched(c *lab.Check, mounts []mount) error {
	allowed := map[string]bool{"/": true, "/usr": true, "/proc": true, "/dev": true, "/sys": true, "/tmp": true}
	for _, name := range HostDirs() {
		allowed["/"+name] = true
	}
	for _, name := range DevNodes() {
		allowed["/dev/"+name] = true
	}
	for _, m := range mounts {
		if !allowed[m.Target] {
			return c.Failf("the container still has %s mounted on %s: the old root is reachable; detach it (umount2 with MNT_DETACH) after pivot_root", m.FSType, m.Target)
		}
	}
	if m, ok := mountAt(mounts, "/"); !ok || m.FSType != "tmpfs" {
		return c.Failf("the container's / is %s; want the tmpfs of the new root", describe(m, ok))
	}
	c.Check(true, "the container's mount table holds its own root and nothing of the lab host's (%d mounts)", len(mounts))
	return nil
}

// checkPivotScenes checks PivotRoot in the crafted containers: the
// kernel's refusal returned, wrapped, naming the root; or, where a careful
// PivotRoot avoided it, a whole switch.
func checkPivotScenes(c *lab.Check, scenes []pivotReport) error {
	for _, r := range scenes {
		about := r.Scene
		for _, s := range pivotScenes {
			if s.Name == r.Scene {
				about = s.About
			}
		}
		if r.Err == "" {
			c.Say("with %s, PivotRoot(%s) returned no error", about, r.Root)
			mounts, err := containerMounts(c, r.PID)
			if err != nil {
				return err
			}
			if err := checkSwitched(c, mounts); err != nil {
				return c.Failf("with %s, PivotRoot(%s) returned no error, but the switch did not happen: the kernel refused a call and its error was dropped", about, r.Root)
			}
			continue
		}
		c.Say("with %s, PivotRoot(%s) returned %q", about, r.Root, r.Err)
		if !r.Wraps || !strings.Contains(r.Err, r.Root) {
			return c.Failf("with %s, PivotRoot(%s) returned %q; want an error that wraps the kernel's (fmt.Errorf with %%w) and names %s", about, r.Root, r.Err, r.Root)
		}
		c.Check(true, "PivotRoot returned the kernel's refusal, wrapped")
	}
	return nil
}

// checkPS checks that ps inside listed the container's processes only.
func checkPS(c *lab.Check, r rootStep) error {
	c.Say("ps -e inside printed:\n%s", indent(r.PS.Out))
	if r.PS.Err != "" {
		return c.Failf("ps -e failed inside the container: %s: %s", r.PS.Err, strings.TrimSpace(r.PS.Out))
	}
	var pids []int
	for _, line := range strings.Split(strings.TrimSpace(r.PS.Out), "\n") {
		f := strings.Fields(line)
		if len(f) < 2 {
			continue
		}
		pid, err := strconv.Atoi(f[0])
		if err != nil {
			return c.Failf("ps -e printed %q", line)
		}
		pids = append(pids, pid)
	}
	if len(pids) != 2 || !slices.Contains(pids, 1) {
		return c.Failf("ps -e inside listed PIDs %v; want the container's init (1) and ps itself, nothing of the lab host's", pids)
	}
	c.Check(true, "ps -e inside lists PID 1 and itself only")
	return nil
}

func indent(s string) string {
	return "     " + strings.ReplaceAll(strings.TrimRight(s, "\n"), "\n", "\n     ")
}

func checkInit(c *lab.Check, runs []initRun) error {
	if len(runs) != 4 {
		return fmt.Errorf("want four runs of Init, have %d", len(runs))
	}
	for _, r := range runs {
		c.Say("%s", initSaid(r))
		switch {
		case r.TimedOut:
			return c.Failf("Init had not returned %v after the lab sent the init %s: it must return once its child has ended (%s)", initWait, r.Signal, r.ExitHow)
		case r.Final == nil:
			return c.Failf("the init ended (%s) on %s before Init returned: a Go process ends on SIGTERM, SIGINT or SIGHUP unless it handles them: signal.Notify before the child starts, and forward the signal to it%s", r.ExitHow, r.Signal, printed(r.Output))
		case r.Final.Status != r.Want:
			return c.Failf("after %s, Init returned %d; want %d (%s)", r.Signal, r.Final.Status, r.Want, wantWhy(r))
		case len(r.Final.Zombies) > 0:
			return c.Failf("when Init returned, the container still had zombies %v: the orphan it adopted ended and was never waited for; wait for any child (wait4(-1)), and reap what has ended before returning", r.Final.Zombies)
		case r.Exit != r.Want:
			return c.Failf("the init's exit status is %d; want %d", r.Exit, r.Want)
		case checkInitRun(r) != "":
			return c.Failf("%s", checkInitRun(r))
		}
		c.Check(true, "%s: Init returned %d; no zombie left", r.Signal, r.Want)
	}
	return nil
}

func printed(out string) string {
	if out == "" {
		return ""
	}
	return " (it printed: " + out + ")"
}

func wantWhy(r initRun) string {
	switch r.Mode {
	case "hup":
		return "the child handles SIGHUP and exits 7: return its exit status"
	case "zombies":
		return "SIGKILL killed the child: 128 + 9; once the child has ended, reap what else has ended (WNOHANG) and return"
	case "nostart":
		return "the child cannot start: return 127, as a shell does for a command not found"
	}
	return "SIGTERM killed the child: 128 + 15, as a shell reports it"
}

// initSaid narrates one run of Init.
func initSaid(r initRun) string {
	switch r.Mode {
	case "zombies":
		return "the init's child made two zombies and a sleeper; the lab stopped the init, killed the child, and let the init go on"
	case "nostart":
		return fmt.Sprintf("the init's child is %s, which does not exist", noStart)
	}
	return fmt.Sprintf("the init's child is PID %d; its orphan, PID %d, ended; the lab sent the init %s", r.Ready.Child, r.Ready.Orphan, r.Signal)
}

func checkConnect(c *lab.Check, r connectReport) error {
	l := r.Link
	c.Say("Connect made %s (bastion, PID %d) and %s (container, PID %d)", l.Name, l.Bastion, l.Peer, l.Container)
	views := []struct {
		who  string
		pid  int
		v    netView
		link string
		addr string
	}{{"bastion", l.Bastion, r.Bastion, l.Name, l.BastionAddr.String()}, {"container", l.Container, r.Container, l.Peer, l.ContainerAddr.String()}}
	for _, x := range views {
		v := x.v
		err := c.Do(x.pid, []ns.Kind{ns.Net}, func() (err error) { v, err = viewNet(); return err })
		if err != nil && !errors.Is(err, lab.ErrNoVisit) {
			return fmt.Errorf("read the %s's links: %w", x.who, err)
		}
		got, ok := v.link(x.link)
		switch {
		case !ok:
			return c.Failf("the %s's network namespace has no link %s; want its end of the veth pair there", x.who, x.link)
		case got.Type != "veth":
			return c.Failf("%s in the %s is a %s; want a veth", x.link, x.who, got.Type)
		case !slices.Contains(got.Addrs, x.addr):
			return c.Failf("%s in the %s has addresses %v; want %s", x.link, x.who, got.Addrs, x.addr)
		case !got.Up:
			return c.Failf("%s in the %s is down; want it up", x.link, x.who)
		}
		c.Check(true, "%s: %s, a veth, up, %s", x.who, x.link, x.addr)
		if x.who == "container" {
			route := "default via " + l.BastionAddr.Addr().String() + " dev " + l.Peer
			if !slices.Contains(v.Routes, route) {
				return c.Failf("the container's routes are %v; want %q", v.Routes, route)
			}
			c.Check(true, "the container routes through the bastion: %s", route)
		}
	}
	for _, t := range r.TCP {
		if t.Err != "" || t.Got != t.Sent {
			what := t.Err
			if what == "" {
				what = fmt.Sprintf("the server read %q", t.Got)
			}
			return c.Failf("TCP from the %s to %s (the %s): %s; want the line %q across", t.From, t.Addr, t.To, what, t.Sent)
		}
		c.Check(true, "TCP from the %s to %s (the %s) carried %q", t.From, t.Addr, t.To, t.Sent)
	}
	return checkConnectProbes(c, r.Probes)
}

func checkLimit(c *lab.Check, r limitReport) error {
	c.Say("Limit made %s (v2) %s; the container (PID %d) said: %s", r.Cgroups.V2, v1Note(r.Cgroups.PidsV1), r.PID, strings.Join(r.Inside, "; "))
	if !slices.Contains(r.Inside, "0::/") {
		return c.Failf("inside, /proc/self/cgroup reads %q; want \"0::/\": start the container in its cgroup with CLONE_INTO_CGROUP, so that its new cgroup namespace is rooted there (moving it after it started leaves the namespace rooted where it was)", r.Inside)
	}
	want := filepath.Join(c.Cgroup, "ctr")
	if r.Cgroups.V2 != filepath.Join(r.Parent.V2, "ctr") {
		return c.Failf("Limit returned the v2 cgroup %q; want %q", r.Cgroups.V2, filepath.Join(r.Parent.V2, "ctr"))
	}
	if err := inCgroup(c, r.PID, want, 0); err != nil {
		return err
	}
	c.Check(true, "the container is in %s, and its cgroup namespace is rooted there (0::/ inside)", want)
	limited := want // where pids.max lives, as the harness sees it
	if r.Parent.PidsV1 != "" {
		v1 := harnessV1Pids(c.Cgroup)
		if v1 == "" {
			return errors.New("the harness cannot find the lab host's v1 pids cgroup")
		}
		limited = filepath.Join(v1, "ctr")
		if err := inCgroup(c, r.PID, limited, 1); err != nil {
			return err
		}
	}
	max, err := readInt(filepath.Join(limited, "pids.max"))
	if err != nil {
		return c.Failf("read %s: %v", filepath.Join(limited, "pids.max"), err)
	}
	if max != r.Max {
		return c.Failf("%s/pids.max is %d; want %d", limited, max, r.Max)
	}
	current, err := readInt(filepath.Join(limited, "pids.current"))
	if err != nil {
		return fmt.Errorf("read the container's pids.current: %w", err)
	}
	events, err := eventCount(filepath.Join(limited, "pids.events"), "max")
	if err != nil {
		return fmt.Errorf("read the container's pids.events: %w", err)
	}
	c.Say("%s: pids.max %d, pids.current %d, forks refused %d; the fork bomb: %s", limited, max, current, events, r.Error)
	switch {
	case r.Errno != int(unix.EAGAIN):
		return c.Failf("the fork bomb inside made %d processes and %s; want fork(2) refused with EAGAIN once the cgroup holds %d", r.Forks, r.Error, r.Max)
	case r.Forks != r.Max-1:
		return c.Failf("the fork bomb made %d processes before fork(2) failed; want %d (pids.max %d, less the container's first process)", r.Forks, r.Max-1, r.Max)
	case current != r.Max || events < 1:
		return c.Failf("%s counts %d processes and %d refused forks; want %d and at least 1", limited, current, events, r.Max)
	}
	c.Check(true, "the fork bomb stopped at %d processes: fork(2) returned EAGAIN", r.Max)
	return checkLimitProbes(c, r.Probes, r.Max)
}

func v1Note(dir string) string {
	if dir == "" {
		return "(pids is a v2 controller here)"
	}
	return "and " + dir + " (v1 pids)"
}

// inCgroup checks, from the harness, that process pid of the lab host is
// in dir: in the v2 hierarchy (hierarchy 0) or the v1 pids one (1).
func inCgroup(c *lab.Check, pid int, dir string, hierarchy int) error {
	text, err := c.ReadFile(pid, "cgroup")
	if err != nil {
		return err
	}
	var mnt string
	if hierarchy == 0 {
		if mnt, err = labhost.CgroupV2Root(); err != nil {
			return err
		}
	} else {
		f, err := os.Open("/proc/self/mountinfo")
		if err != nil {
			return err
		}
		defer f.Close()
		mnt, _ = labhost.V1Mount(f, "pids")
	}
	rel := strings.TrimPrefix(dir, mnt)
	for _, line := range strings.Split(text, "\n") {
		f := strings.SplitN(line, ":", 3)
		if len(f) != 3 {
			continue
		}
		if (hierarchy == 0 && f[0] == "0") || (hierarchy == 1 && hasFlag(f[1], "pids")) {
			if f[2] == rel {
				return nil
			}
			return c.Failf("seen from the harness, the container is in cgroup %s; want %s", f[2], rel)
		}
	}
	return c.Failf("the container's /proc/PID/cgroup has no line for %s", dir)
}

func checkExec(c *lab.Check, r execReport) error {
	c.Say("Exec ran %q; the shell says it is PID %d in the container and reads the host name %q", r.Args, r.Inner, r.Saw)
	init, err := c.NS(r.Init)
	if err != nil {
		return err
	}
	ex, err := c.NS(r.Exec)
	if err != nil {
		return fmt.Errorf("read the namespaces of the process Exec started (PID %d): %w", r.Exec, err)
	}
	c.Table(lab.Column{Title: fmt.Sprintf("container init (PID %d)", r.Init), Set: init}, lab.Column{Title: fmt.Sprintf("exec'd (PID %d)", r.Exec), Set: ex})
	for _, k := range append(slices.Clone(kinds), ns.Time) {
		a, _ := init.Get(k)
		b, _ := ex.Get(k)
		if !a.Equal(b) {
			return c.Failf("the process Exec started is in %s namespace %s, the container's is %s; want it to join every namespace of the container (nsenter --%s)", k, b, a, nsenterFlag(k))
		}
	}
	c.Check(true, "the exec'd process is in all seven namespaces of the container")
	var a, b unix.Stat_t
	if err := unix.Stat(c.ProcDir(r.Init)+"/root", &a); err != nil {
		return err
	}
	if err := unix.Stat(c.ProcDir(r.Exec)+"/root", &b); err != nil {
		return err
	}
	if a.Dev != b.Dev || a.Ino != b.Ino {
		return c.Failf("the process Exec started has another root directory than the container's; want the container's root (joining its mount namespace sets it)")
	}
	if r.Saw != r.Hostname || r.Inner <= 1 {
		return c.Failf("the exec'd shell is PID %d and reads the host name %q; want a PID of the container (not 1) and %q", r.Inner, r.Saw, r.Hostname)
	}
	ctr, err := c.ReadFile(r.Init, "status")
	if err != nil {
		return err
	}
	exs, err := c.ReadFile(r.Exec, "status")
	if err != nil {
		return err
	}
	if ids(ctr, "Uid") != ids(exs, "Uid") {
		return c.Failf("the exec'd process runs as Uid %q, the container as %q; want the same", ids(exs, "Uid"), ids(ctr, "Uid"))
	}
	c.Check(true, "it shares the container's root, sees its host name %q, and is PID %d there", r.Hostname, r.Inner)
	return nil
}

func nsenterFlag(k ns.Kind) string {
	switch k {
	case ns.Mnt:
		return "mount"
	case ns.Net:
		return "net"
	}
	return string(k)
}

func checkStop(c *lab.Check, s stopsReport) error {
	if len(s.Runs) != 2 {
		return fmt.Errorf("want two containers stopped, have %d", len(s.Runs))
	}
	for _, r := range s.Runs {
		c.Say("Stop(%s init, PID %d, grace %v) took %v, killed %v: %s", r.Mode, r.Init, r.Grace, r.Elapsed.Round(1e6), r.Killed, r.ExitHow)
		switch {
		case r.Err != "":
			return c.Failf("Stop of the %s container: %s", r.Mode, r.Err)
		case !r.Waited:
			return c.Failf("Stop returned before it waited for the %s container's init (its Cmd has no ProcessState): wait for it (Cmd.Wait), or it stays a zombie", r.Mode)
		case r.Mode == "polite" && (r.Killed || r.Exit != 0):
			return c.Failf("the init that ends on SIGTERM ended %s, killed %v; want SIGTERM first and the grace period for it to end on its own (status 0), SIGKILL only after", r.ExitHow, r.Killed)
		case r.Mode == "stubborn" && (!r.Killed || r.Exit != -1 || !strings.Contains(r.ExitHow, "killed")):
			return c.Failf("the init that ignores SIGTERM ended %s, killed %v; want SIGKILL once the grace period is over", r.ExitHow, r.Killed)
		case r.Mode == "stubborn" && r.Elapsed < r.Grace:
			return c.Failf("Stop sent SIGKILL after %v; want a grace period of %v after SIGTERM first", r.Elapsed, r.Grace)
		}
		c.Check(true, "the %s init: %s", r.Mode, map[bool]string{false: "ended on SIGTERM", true: "killed after the grace period"}[r.Killed])
		if err := nothingLeft(c, r); err != nil {
			return err
		}
	}
	return checkEach(c, s.Probes) // the calls of Stop besides the step's two
}

// nothingLeft checks, from the harness, that a stopped container left no
// process, no link in the bastion and no cgroup.
func nothingLeft(c *lab.Check, r stopRun) error {
	left := procsIn(filepath.Dir(c.ProcDir(1)), r.PIDNS)
	if len(left) > 0 || len(r.Left) > 0 {
		return c.Failf("processes %v of the stopped container are still there", append(left, r.Left...))
	}
	v := netView{}
	if r.LinkLeft {
		v.Links = append(v.Links, netLink{Name: r.Link.Name})
	}
	err := c.Do(r.Link.Bastion, []ns.Kind{ns.Net}, func() (err error) { v, err = viewNet(); return err })
	if err != nil && !errors.Is(err, lab.ErrNoVisit) {
		return err
	}
	if _, ok := v.link(r.Link.Name); ok {
		return c.Failf("the bastion still has %s, the stopped container's end of the veth pair: delete it", r.Link.Name)
	}
	var dirs []string
	if r.Cgroups.V2 != "" && c.Cgroup != "" {
		dirs = append(dirs, filepath.Join(c.Cgroup, filepath.Base(r.Cgroups.V2)))
	}
	if r.Cgroups.PidsV1 != "" && c.Cgroup != "" {
		dirs = append(dirs, filepath.Join(harnessV1Pids(c.Cgroup), filepath.Base(r.Cgroups.PidsV1)))
	}
	for _, dir := range append(dirs, r.CgLeft...) {
		if _, err := os.Stat(dir); err == nil {
			return c.Failf("the stopped container's cgroup %s is still there: remove it (rmdir) once its processes are gone", dir)
		}
	}
	if r.Cgroups.V2 == "" {
		c.Check(true, "no process, no link of it is left (it had no cgroup: the step runs without one)")
		return nil
	}
	c.Check(true, "no process, no link, no cgroup of it is left")
	return nil
}

// checkScenes checks what BuildRoot did in the crafted machines (craft.go).
func checkScenes(c *lab.Check, scenes []sceneReport) error {
	for _, r := range scenes {
		s, ok := sceneNamed(r.Scene)
		if !ok {
			return fmt.Errorf("the run reported a crafted machine %q the check does not know", r.Scene)
		}
		mounts, err := containerMounts(c, r.PID)
		if err != nil {
			return err
		}
		got := "no error"
		if r.Err != "" {
			got = strconv.Quote(r.Err)
		}
		c.Say("in a machine with %s, BuildRoot(%s) returned %s", s.About, sceneDir, got)
		if s.Errno == 0 {
			err = checkSceneBuilt(c, s, r, mounts)
		} else {
			err = checkSceneRefused(c, s, r, mounts)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// checkSceneBuilt checks a root BuildRoot built in a crafted machine: the
// directory /bin bound read-only ("dirs"), or the read-only bind of /usr
// where the kernel refused the overlay ("deep").
func checkSceneBuilt(c *lab.Check, s buildScene, r sceneReport, mounts []mount) error {
	root := sceneDir + "/root"
	if r.Err != "" {
		return c.Failf("in a machine with %s, BuildRoot(%s) failed: %s; want a root", s.About, sceneDir, r.Err)
	}
	if s.Name == "deep" {
		return checkDeep(c, r, mounts)
	}
	if !r.Root.Overlay {
		return c.Failf("in a machine with %s, BuildRoot fell back (%s), though /usr there is the machine's, which an overlay takes", s.About, r.Root.Fallback)
	}
	top, _ := mountAt(mounts, "/")
	m, ok := mountAt(mounts, root+"/bin")
	if !ok || m.Root != "/bin" || m.Super != top.Super || !hasFlag(m.Options, "ro") {
		return c.Failf("in a machine with %s, on %s/bin %s (options %q); want a read-only bind of the machine's /bin (MS_BIND|MS_REC, then MS_BIND|MS_REMOUNT|MS_RDONLY)", s.About, root, describe(m, ok), m.Options)
	}
	link, err := os.Readlink(filepath.Join(c.ProcDir(r.PID), "root", root, "sbin"))
	if err != nil || link != "usr/sbin" {
		return c.Failf("in a machine with %s and sbin -> usr/sbin, the new root has no link sbin -> usr/sbin (%s)", s.About, errOr(err, "it points to "+link))
	}
	c.Check(true, "a directory /bin is bound read-only, a link sbin -> usr/sbin is a link")
	return nil
}

// checkDeep checks the fallback where the kernel refused the overlay.
func checkDeep(c *lab.Check, r sceneReport, mounts []mount) error {
	usr := sceneDir + "/root/usr"
	why := r.Root.Fallback
	switch {
	case r.Root.Overlay:
		return c.Failf("BuildRoot says it mounted an overlay on %s, where the kernel refuses one (its /usr is an overlay on an overlay: the stacking depth is spent)", usr)
	case why == "" || strings.Contains(why, "%!"):
		return c.Failf("the kernel refused the overlay, and Root.Fallback is %q; want a sentence that says why, with the kernel's error (%v)", why, unix.EINVAL)
	case !strings.Contains(why, unix.EINVAL.Error()):
		return c.Failf("the kernel refused the overlay with EINVAL (%v), and Root.Fallback, %q, does not say so", unix.EINVAL, why)
	}
	lower, _ := mountAt(mounts, "/usr")
	m, ok := mountAt(mounts, usr)
	if !ok || m.FSType != "overlay" || m.Super != lower.Super || !hasFlag(m.Options, "ro") {
		return c.Failf("where the kernel refused the overlay, on %s %s (options %q); want a read-only bind of the machine's /usr (MS_BIND|MS_REC, then MS_BIND|MS_REMOUNT|MS_RDONLY)", usr, describe(m, ok), m.Options)
	}
	c.Check(true, "where the kernel refused the overlay, /usr is a read-only bind, and Root.Fallback says why")
	return nil
}

// checkSceneRefused checks that BuildRoot returned the kernel's refusal,
// wrapped, naming the path; or, where a careful BuildRoot avoids it, that
// the mount is read-only all the same.
func checkSceneRefused(c *lab.Check, s buildScene, r sceneReport, mounts []mount) error {
	name := unix.ErrnoName(s.Errno)
	if r.Err == "" {
		if m, ok := mountAt(mounts, s.OrRO); s.OrRO != "" && ok && hasFlag(m.Options, "ro") {
			c.Check(true, "%s is read-only all the same", s.OrRO)
			return nil
		}
		return c.Failf("in a machine with %s, BuildRoot(%s) returned no error; want the kernel's %s (%v), wrapped: check every error of mkdir, mount and the remount", s.About, sceneDir, name, s.Errno)
	}
	if !r.Wraps || !strings.Contains(r.Err, s.Path) {
		return c.Failf("in a machine with %s, BuildRoot(%s) returned %q; want an error that wraps the kernel's %s (fmt.Errorf with %%w) and names %s", s.About, sceneDir, r.Err, name, s.Path)
	}
	if s.Name == "unbindable" {
		if err := checkMode(c, r.PID, sceneDir+"/root/bin", "the mount point BuildRoot made for /bin"); err != nil {
			return err
		}
	}
	c.Check(true, "BuildRoot returned the kernel's %s, naming %s", name, s.Path)
	return nil
}
