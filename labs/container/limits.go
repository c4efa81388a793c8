//go:build linux

package container

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"

	"github.com/nslab/nslab/pkg/host"
	"github.com/nslab/nslab/pkg/lab"
	"golang.org/x/sys/unix"
)

// Step 08 calls Limit and StartIn more than once: on stand-ins for both
// layouts of a machine's cgroups (plain directories in the lab host's
// /tmp, so that the v2 and the hybrid code of Limit both run on any
// machine), and where the kernel refuses. This file holds those calls
// (run half) and their checks.

// limitProbes is what those calls did.
type limitProbes struct {
	Umask   int         // the runner's, which mkdir(2) applies to a mode
	Fakes   []fakeLimit // Limit on stand-ins
	Refused []refusal
	Kept    []keptCgroup // what a call that failed midway returned
	Modes   []string     // "DIR MODE" of the real cgroups Limit made
	Started []startedIn  // StartIn calls that failed: did the command start?
}

// fakeLimit is Limit on a stand-in for one layout.
type fakeLimit struct {
	Layout string // "v2": pids is a v2 controller; "hybrid": a v1 one
	Parent Cgroups
	Got    Cgroups
	Err    string
	Tree   []string // what the stand-in holds after the call (see tree)
}

// keptCgroup is a call of Limit that failed after it made Made.
type keptCgroup struct {
	What string
	Made string
	Got  Cgroups
}

// startedIn is a call of StartIn that failed.
type startedIn struct {
	What    string
	Want    bool // the command must have started (the failure came after)
	Started bool
}

// umask reads the caller's umask (the Umask line of /proc/self/status).
func umask() (int, error) {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0, err
	}
	v, ok := host.StatusField(string(b), "Umask")
	if !ok {
		return 0, errors.New("/proc/self/status has no Umask line")
	}
	n, err := strconv.ParseInt(v, 8, 32)
	return int(n), err
}

// tree lists dir, sorted: "rel/ MODE" for a directory, "rel = TEXT" for a
// file (its text trimmed).
func tree(dir string) []string {
	var out []string
	filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		rel, _ := filepath.Rel(dir, path)
		switch {
		case err != nil:
			out = append(out, rel+" ! "+err.Error())
		case rel == ".":
		case d.IsDir():
			fi, err := d.Info()
			if err == nil {
				out = append(out, rel+"/ "+(fi.Mode()&(fs.ModeDir|fs.ModePerm)).String())
			}
		default:
			b, err := os.ReadFile(path)
			out = append(out, rel+" = "+strings.TrimSpace(string(b))+errSuffix(err))
		}
		return nil
	})
	slices.Sort(out)
	return out
}

func errSuffix(err error) string {
	if err != nil {
		return " ! " + err.Error()
	}
	return ""
}

// fakeLayout makes the stand-in of a layout in dir: v2/ with an empty
// cgroup.subtree_control, and v1/ for a hybrid machine.
func fakeLayout(dir, layout string) (Cgroups, error) {
	cg := Cgroups{V2: filepath.Join(dir, "v2")}
	if layout == "hybrid" {
		cg.PidsV1 = filepath.Join(dir, "v1")
	}
	for _, d := range []string{cg.V2, cg.PidsV1} {
		if d != "" {
			if err := os.Mkdir(d, 0o755); err != nil {
				return cg, err
			}
		}
	}
	return cg, os.WriteFile(filepath.Join(cg.V2, "cgroup.subtree_control"), nil, 0o644)
}

// probeFakes runs Limit on the stand-ins of both layouts, and on a hybrid
// one whose v1 directory has the name already (EEXIST).
func probeFakes(p *limitProbes) error {
	tmp, err := os.MkdirTemp("", "container-cgroups-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	for _, layout := range []string{"v2", "hybrid"} {
		dir := filepath.Join(tmp, layout)
		if err := os.Mkdir(dir, 0o755); err != nil {
			return err
		}
		f := fakeLimit{Layout: layout}
		if f.Parent, err = fakeLayout(dir, layout); err != nil {
			return err
		}
		got, err := Limit(f.Parent, "ctr", maxPids)
		f.Got, f.Err, f.Tree = got, lab.ErrText(err), tree(dir)
		p.Fakes = append(p.Fakes, f)
	}
	dir := filepath.Join(tmp, "dup")
	if err := os.Mkdir(dir, 0o755); err != nil {
		return err
	}
	parent, err := fakeLayout(dir, "hybrid")
	if err != nil {
		return err
	}
	if err := os.Mkdir(filepath.Join(parent.PidsV1, "dup"), 0o755); err != nil {
		return err
	}
	what := fmt.Sprintf("Limit(%+v, \"dup\", %d), where %s exists already", parent, maxPids, filepath.Join(parent.PidsV1, "dup"))
	got, err := Limit(parent, "dup", maxPids)
	p.Refused = append(p.Refused, refused(what, "EEXIST", filepath.Join(parent.PidsV1, "dup"), err))
	p.Kept = append(p.Kept, keptCgroup{What: what, Made: filepath.Join(parent.V2, "dup"), Got: got})
	return nil
}

// probeNoPids runs Limit under a real v2 cgroup whose parent does not
// offer it the pids controller: its +pids is refused (ENOENT). On a pure
// v2 machine this runs before the lab host's cgroup offers pids.
func probeNoPids(p *limitProbes, parent Cgroups) error {
	dir := filepath.Join(parent.V2, "nopids")
	if err := os.Mkdir(dir, 0o755); err != nil {
		return fmt.Errorf("make cgroup %s: %w", dir, err)
	}
	defer unix.Rmdir(dir)
	what := fmt.Sprintf("Limit(Cgroups{V2: %q}, \"ctr\", %d), where the pids controller is not offered to %s", dir, maxPids, dir)
	got, err := Limit(Cgroups{V2: dir}, "ctr", maxPids)
	defer removeCgroups(got)
	defer unix.Rmdir(filepath.Join(dir, "ctr"))
	p.Refused = append(p.Refused, refused(what, "ENOENT", dir, err))
	p.Kept = append(p.Kept, keptCgroup{What: what, Made: filepath.Join(dir, "ctr"), Got: got})
	return nil
}

// probeAgain runs Limit a second time with the name of the container's
// cgroup, made already (EEXIST), and records the modes of what the first
// call made.
func probeAgain(p *limitProbes, parent, made Cgroups) {
	for _, d := range []string{made.V2, made.PidsV1} {
		if fi, err := os.Stat(d); d != "" && err == nil {
			p.Modes = append(p.Modes, d+" "+(fi.Mode()&(fs.ModeDir|fs.ModePerm)).String())
		}
	}
	what := fmt.Sprintf("Limit(parent, \"ctr\", %d) a second time", maxPids)
	_, err := Limit(parent, "ctr", maxPids)
	p.Refused = append(p.Refused, refused(what, "EEXIST", filepath.Join(parent.V2, "ctr"), err))
}

// probeCmd is a command for StartIn that the lab never lets run long.
func probeCmd() *exec.Cmd {
	cmd := exec.Command("/usr/bin/sleep", "1000")
	cmd.SysProcAttr = &syscall.SysProcAttr{Cloneflags: unix.CLONE_NEWCGROUP, Pdeathsig: syscall.SIGKILL}
	return cmd
}

// startProbe runs StartIn(cmd, cg) on a probe command that must fail, and
// ends the command if it started.
func startProbe(p *limitProbes, what string, cg Cgroups, want string, name func(*exec.Cmd) string, started bool) {
	cmd := probeCmd()
	err := StartIn(cmd, cg)
	p.Refused = append(p.Refused, refused(what, want, name(cmd), err))
	p.Started = append(p.Started, startedIn{What: what, Want: started, Started: cmd.Process != nil})
	if cmd.Process != nil {
		cmd.Process.Kill()
		cmd.Wait()
	}
}

// probeStartIn runs StartIn where the kernel refuses: a cgroup that does
// not exist (ENOENT), a directory that is no cgroup (clone3 refuses its
// fd), and a v1 cgroup that does not exist (the command started first).
func probeStartIn(p *limitProbes, parent Cgroups) error {
	absent := filepath.Join(parent.V2, "absent")
	startProbe(p, fmt.Sprintf("StartIn(cmd, Cgroups{V2: %q}), a cgroup that does not exist", absent),
		Cgroups{V2: absent}, "ENOENT", func(*exec.Cmd) string { return absent }, false)
	tmp, err := os.MkdirTemp("", "container-nocgroup-")
	if err != nil {
		return err
	}
	defer os.Remove(tmp)
	startProbe(p, fmt.Sprintf("StartIn(cmd, Cgroups{V2: %q}), a directory of a tmpfs, not a cgroup", tmp),
		Cgroups{V2: tmp}, "EBADF", func(*exec.Cmd) string { return tmp }, false)
	dir := filepath.Join(parent.V2, "probe")
	if err := os.Mkdir(dir, 0o755); err != nil {
		return fmt.Errorf("make cgroup %s: %w", dir, err)
	}
	defer unix.Rmdir(dir)
	startProbe(p, fmt.Sprintf("StartIn(cmd, Cgroups{V2: %q, PidsV1: %q}), a v1 cgroup that does not exist", dir, absent),
		Cgroups{V2: dir, PidsV1: absent}, "ENOENT", func(cmd *exec.Cmd) string {
			if cmd.Process == nil {
				return "the PID of the command"
			}
			return strconv.Itoa(cmd.Process.Pid)
		}, true)
	return nil
}

// probeLimit makes the calls of Limit that come before the container's.
func probeLimit(p *limitProbes, parent Cgroups) (err error) {
	if p.Umask, err = umask(); err != nil {
		return err
	}
	if err := probeFakes(p); err != nil {
		return err
	}
	return probeNoPids(p, parent)
}

// dirMode is how a directory made with mode 0755 reads under umask.
func dirMode(umask int) string {
	return (fs.ModeDir | fs.FileMode(0o755&^umask)).String()
}

// wantTree is what the stand-in of layout holds after a right
// Limit(parent, "ctr", max).
func wantTree(layout string, umask, max int) []string {
	d := dirMode(umask)
	t := []string{"v2/ " + d, "v2/ctr/ " + d}
	if layout == "v2" {
		t = append(t, "v2/cgroup.subtree_control = +pids", "v2/ctr/pids.max = "+strconv.Itoa(max))
	} else {
		t = append(t, "v2/cgroup.subtree_control = ", "v1/ "+d, "v1/ctr/ "+d, "v1/ctr/pids.max = "+strconv.Itoa(max))
	}
	slices.Sort(t)
	return t
}

// checkFakes checks Limit on the stand-ins of both layouts.
func checkFakes(c *lab.Check, p limitProbes, max int) error {
	for _, f := range p.Fakes {
		call := fmt.Sprintf("Limit(%+v, \"ctr\", %d), on plain directories standing in for the cgroups of a %s machine,", f.Parent, max, f.Layout)
		want := Cgroups{V2: filepath.Join(f.Parent.V2, "ctr")}
		how := "make V2/ctr, write \"+pids\" in V2/cgroup.subtree_control and the limit in V2/ctr/pids.max"
		if f.Layout == "hybrid" {
			want.PidsV1 = filepath.Join(f.Parent.PidsV1, "ctr")
			how = "make V2/ctr and PidsV1/ctr, and write the limit in PidsV1/ctr/pids.max only (a v2 hierarchy without pids has no pids files, and refuses +pids)"
		}
		wantTree := wantTree(f.Layout, p.Umask, max)
		switch {
		case f.Err != "":
			return c.Failf("%s returned %s; want no error (write the files with os.WriteFile: cgroupfs has them already, the stand-in gets them made)", call, f.Err)
		case f.Got != want:
			return c.Failf("%s returned %+v; want %+v", call, f.Got, want)
		case !slices.Equal(f.Tree, wantTree):
			return c.Failf("%s left %q; want %q: %s (directories with mode 0755)", call, f.Tree, wantTree, how)
		}
		c.Check(true, "on a stand-in of a %s machine, Limit made %s", f.Layout, strings.Join(f.Tree, ", "))
	}
	return nil
}

// checkLimitProbes checks the calls of Limit and StartIn besides the
// container's.
func checkLimitProbes(c *lab.Check, p limitProbes, max int) error {
	if err := checkFakes(c, p, max); err != nil {
		return err
	}
	for _, m := range p.Modes {
		dir, mode, _ := strings.Cut(m, " ")
		if mode != dirMode(p.Umask) {
			return c.Failf("Limit made the cgroup %s with mode %s; want %s (0755, as mkdir(1) and the runtimes make one: the owner writes the limits, everyone reads them)", dir, mode, dirMode(p.Umask))
		}
	}
	if err := checkEach(c, p.Refused); err != nil {
		return err
	}
	for _, k := range p.Kept {
		if k.Got.V2 != k.Made {
			return c.Failf("%s made %s, then failed, and returned %+v beside its error; want V2 %q, what it made, so that the caller can remove it", k.What, k.Made, k.Got, k.Made)
		}
	}
	for _, s := range p.Started {
		if s.Started != s.Want {
			return c.Failf("%s: the command started %v; want %v (StartIn starts the command once, in the v2 cgroup; a v1 cgroup is joined after)", s.What, s.Started, s.Want)
		}
	}
	return nil
}
