//go:build linux

package container

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"

	"github.com/nslab/nslab/pkg/lab"
	"github.com/nslab/nslab/pkg/ns"
	"github.com/nslab/nslab/pkg/spawn"
	"golang.org/x/sys/unix"
)

// Crafted machines for step 03: BuildRoot runs again in containers whose
// view of the machine is made so that the paths the lab host's own layout
// never takes are taken (a /bin that is a directory, an overlay the kernel
// refuses, a bind or a remount it refuses, a GID without a mapping).
//
// Two processes make one: the crafter (entryCraft), in a mount namespace of
// its own in the lab host's user namespace, mounts the crafted machine on
// a tmpfs; the container (entryScene), in new user and mount namespaces
// (so the crafter's mounts are locked there as a machine's are in a
// container), chroots into it and runs BuildRoot on sceneDir. Neither is in
// a new PID namespace: the PID the container reports is the lab host's.

const (
	entryCraft = "container-craft" // crafts a machine, then starts entryScene in it
	entryScene = "container-scene" // runs BuildRoot in a crafted machine, reports, waits
)

// sceneDir is where BuildRoot builds in a crafted machine.
const sceneDir = "/tmp/b"

func init() {
	spawn.Register(entryCraft, craftMain)
	spawn.Register(entryScene, sceneMain)
}

// buildScene is a crafted machine and what BuildRoot must do in it.
type buildScene struct {
	Name  string
	About string        // what the machine is like
	Errno syscall.Errno // the kernel's error BuildRoot must return, wrapped (0: none)
	Path  string        // the path its message must name
	OrRO  string        // where a BuildRoot that avoids the refusal must leave a read-only mount instead
}

var buildScenes = []buildScene{
	{Name: "dirs", About: "/bin a directory, not a link into /usr (an older layout)"},
	{Name: "deep", About: "/usr an overlay on an overlay: the kernel refuses a third (fs stacking depth)"},
	{Name: "unbindable", About: "/bin an unbindable mount: the kernel refuses to bind it", Errno: unix.EINVAL, Path: sceneDir + "/root/bin"},
	{Name: "locked", About: "/bin mounted nosuid outside the container: the kernel refuses a remount that drops it", Errno: unix.EPERM, Path: sceneDir + "/root/bin", OrRO: sceneDir + "/root/bin"},
	{Name: "nousr", About: "/usr a file: the kernel refuses the overlay and the bind", Errno: unix.ENOTDIR, Path: sceneDir + "/root/usr"},
	{Name: "deeplocked", About: "/usr an overlay on an overlay, mounted nosuid outside the container: the fallback's remount is refused", Errno: unix.EPERM, Path: sceneDir + "/root/usr", OrRO: sceneDir + "/root/usr"},
	{Name: "unmapped", About: "the container's GID without a mapping (GidMappings left out): the kernel creates no file", Errno: unix.EOVERFLOW, Path: sceneDir},
}

func sceneNamed(name string) (buildScene, bool) {
	for _, s := range buildScenes {
		if s.Name == name {
			return s, true
		}
	}
	return buildScene{}, false
}

// sceneReport is what BuildRoot did in a crafted machine.
type sceneReport struct {
	Scene string
	PID   int    // the container's, in the lab host
	Craft string // why the lab could not craft the machine
	Root  Root
	Err   string // BuildRoot's error
	Wraps bool   // it wraps the scene's Errno
}

// runScenes runs BuildRoot in each crafted machine; the containers stay
// until cleanup, so that the check reads their mount tables.
func runScenes(cleanup *lab.Cleanup) ([]sceneReport, error) {
	mnt, err := ns.GuardArg(ns.Mnt)
	if err != nil {
		return nil, err
	}
	var out []sceneReport
	for _, s := range buildScenes {
		b, err := sceneBox(cleanup, entryCraft, s.Name, mnt)
		if err != nil {
			return out, err
		}
		b.cmd.SysProcAttr = &syscall.SysProcAttr{Cloneflags: unix.CLONE_NEWNS, Pdeathsig: syscall.SIGKILL}
		var r sceneReport
		if _, err := launchScene(cleanup, b, "machine", s.Name, s.About, &r, &r.Craft); err != nil {
			return out, err
		}
		out = append(out, r)
	}
	return out, nil
}

// sceneBox makes a directory of its own and a box that runs entry for
// scene name in it, refusing to mount in the mount namespace mnt.
func sceneBox(cleanup *lab.Cleanup, entry, name, mnt string) (*box, error) {
	dir, err := os.MkdirTemp("", entry+"-")
	if err != nil {
		return nil, err
	}
	cleanup.Add(func() { os.Remove(dir) })
	return newBox(entry, name, dir, mnt)
}

// launchScene starts b, the crafted machine (or root, what) of a scene,
// and reads its report into r; craft is the report's field that says why
// the lab could not craft it. The container stays until cleanup.
func launchScene(cleanup *lab.Cleanup, b *box, what, name, about string, r any, craft *string) (int, error) {
	pid, err := b.launch(cleanup, "a crafted "+what+" ("+name+")", r)
	if err == nil && *craft != "" {
		err = fmt.Errorf("the lab could not craft a %s with %s: %s", what, about, *craft)
	}
	return pid, err
}

// craftMain: args are the scene, the directory to craft the machine in,
// and the caller's mount namespace (ns.ID.Arg), in which it refuses to
// mount. It starts the container with its own fds 3 and 4 and ends with it.
func craftMain(args []string) int {
	if len(args) != 3 {
		return usage("container-craft SCENE DIR PARENT-MNT")
	}
	s, ok := sceneNamed(args[0])
	if !ok {
		return usage("container-craft SCENE DIR PARENT-MNT (no scene " + args[0] + ")")
	}
	fail := func(err error) int { return report(sceneReport{Scene: s.Name, Craft: err.Error()}) + 1 }
	if err := ns.NotInParent(ns.Mnt, args[2], "mount"); err != nil {
		return fail(err)
	}
	if err := unix.Mount("", "/", "", unix.MS_REC|unix.MS_PRIVATE, ""); err != nil {
		return fail(fmt.Errorf("make / private: %w", err))
	}
	if err := craft(s, args[1]); err != nil {
		return fail(err)
	}
	cmd, err := spawn.EntrypointCommand(entryScene, []string{s.Name, args[1]})
	if err != nil {
		return fail(err)
	}
	cmd.SysProcAttr = &syscall.SysProcAttr{
		Cloneflags:  unix.CLONE_NEWUSER | unix.CLONE_NEWNS,
		Pdeathsig:   syscall.SIGKILL,
		UidMappings: []syscall.SysProcIDMap{{ContainerID: 0, HostID: os.Geteuid(), Size: 1}},
	}
	if s.Name != "unmapped" {
		cmd.SysProcAttr.GidMappings = []syscall.SysProcIDMap{{ContainerID: 0, HostID: os.Getegid(), Size: 1}}
	}
	cmd.ExtraFiles = []*os.File{os.NewFile(3, "report"), os.NewFile(4, "orders")}
	cmd.Stdout, cmd.Stderr, cmd.Dir = os.Stdout, os.Stderr, "/"
	if err := cmd.Run(); err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) && ee.Exited() {
			return ee.ExitCode()
		}
		return fail(fmt.Errorf("the container in the crafted machine: %w", err))
	}
	return 0
}

// craft mounts the machine of scene s on a tmpfs on t: /tmp/b, an empty
// directory for BuildRoot, /usr and /bin as the scene wants, and
// sbin -> usr/sbin.
func craft(s buildScene, t string) error {
	if err := mountFS("tmpfs", t, "tmpfs", 0, "mode=0755"); err != nil {
		return err
	}
	for _, d := range []string{"tmp", "tmp/b", ".o1", ".u1", ".w1", ".u2", ".w2"} {
		if err := os.Mkdir(filepath.Join(t, d), 0o755); err != nil {
			return err
		}
	}
	if err := os.Symlink("usr/sbin", filepath.Join(t, "sbin")); err != nil {
		return err
	}
	if err := craftUsr(s.Name, t); err != nil {
		return err
	}
	return craftBin(s.Name, filepath.Join(t, "bin"))
}

// craftUsr makes t/usr: the machine's /usr bound, a file ("nousr"), or an
// overlay on an overlay of it ("deep", "deeplocked": nosuid).
func craftUsr(scene, t string) error {
	usr := filepath.Join(t, "usr")
	if scene == "nousr" {
		return os.WriteFile(usr, []byte("not a directory\n"), 0o644)
	}
	if err := os.Mkdir(usr, 0o755); err != nil {
		return err
	}
	if scene != "deep" && scene != "deeplocked" {
		return mountFS("/usr", usr, "", unix.MS_BIND|unix.MS_REC, "")
	}
	o1 := filepath.Join(t, ".o1")
	layers := func(lower, n string) string {
		return fmt.Sprintf("lowerdir=%s,upperdir=%s/.u%s,workdir=%s/.w%s", lower, t, n, t, n)
	}
	if err := mountFS("overlay", o1, "overlay", 0, layers("/usr", "1")); err != nil {
		return err
	}
	var flags uintptr
	if scene == "deeplocked" {
		flags = unix.MS_NOSUID
	}
	return mountFS("overlay", usr, "overlay", flags, layers(o1, "2"))
}

// craftBin makes bin: a directory ("dirs"), a tmpfs ("unbindable": the
// container makes it unbindable), a nosuid tmpfs ("locked"), else the link
// usr/bin.
func craftBin(scene, bin string) error {
	switch scene {
	case "dirs":
		return os.Mkdir(bin, 0o755)
	case "unbindable", "locked":
		if err := os.Mkdir(bin, 0o755); err != nil {
			return err
		}
		flags := uintptr(0)
		if scene == "locked" {
			flags = unix.MS_NOSUID | unix.MS_NODEV
		}
		return mountFS("tmpfs", bin, "tmpfs", flags, "mode=0755")
	}
	return os.Symlink("usr/bin", bin)
}

// sceneMain: args are the scene and the crafted machine. It chroots into
// it, runs BuildRoot on sceneDir, reports and waits for the end of its
// orders.
func sceneMain(args []string) int {
	if len(args) != 2 {
		return usage("container-scene SCENE ROOT")
	}
	s, ok := sceneNamed(args[0])
	if !ok {
		return usage("container-scene SCENE ROOT (no scene " + args[0] + ")")
	}
	r := sceneReport{Scene: s.Name, PID: os.Getpid()}
	if err := unix.Chroot(args[1]); err != nil {
		r.Craft = fmt.Sprintf("chroot %s: %v", args[1], err)
	} else if err := unix.Chdir("/"); err != nil {
		r.Craft = fmt.Sprintf("chdir /: %v", err)
	} else if s.Name == "unbindable" {
		// a copy of the mount namespace does not keep it unbindable: here.
		if err := mountFS("", "/bin", "", unix.MS_UNBINDABLE, ""); err != nil {
			r.Craft = err.Error()
		}
	}
	if r.Craft == "" {
		unix.Umask(0o022)
		o := call(func() (err error) {
			r.Root, err = BuildRoot(sceneDir)
			r.Wraps = s.Errno != 0 && errors.Is(err, s.Errno)
			return err
		})
		r.Err = o.text()
	}
	return reportAndWait(r)
}

// Step 05's crafted containers: the lab builds the root (labBuildRoot,
// labFurnish), changes one thing the kernel then refuses, and runs
// PivotRoot (entryPivot).

const entryPivot = "container-pivot" // builds a root, crafts a scene, runs PivotRoot, reports, waits

func init() { spawn.Register(entryPivot, pivotMain) }

// pivotScene is a root in which the kernel refuses one of PivotRoot's calls
// (a careful PivotRoot may avoid it: then the switch must be whole).
type pivotScene struct{ Name, About string }

var pivotScenes = []pivotScene{
	{"exists", "a file .oldroot already in the new root (mkdir refused: EEXIST)"},
	{"shared", "the tmpfs holding the new root a shared mount (pivot_root refused: EINVAL)"},
	{"unbindable", "the tmpfs holding the new root unbindable (the bind of the new root on itself refused: EINVAL)"},
}

// pivotReport is what PivotRoot did in a crafted container.
type pivotReport struct {
	Scene string
	PID   int    // the container's, in the lab host (set by the run half)
	Root  string // what PivotRoot was given
	Craft string // why the lab could not build or craft the root
	Err   string // PivotRoot's error
	Wraps bool   // it wraps an error number of the kernel (syscall.Errno)
}

// runPivotScenes runs PivotRoot in each crafted container; they stay until
// cleanup.
func runPivotScenes(cleanup *lab.Cleanup) ([]pivotReport, error) {
	mnt, err := ns.GuardArg(ns.Mnt)
	if err != nil {
		return nil, err
	}
	var out []pivotReport
	for _, s := range pivotScenes {
		b, err := sceneBox(cleanup, entryPivot, s.Name, mnt)
		if err != nil {
			return out, err
		}
		b.isolate()
		var r pivotReport
		if r.PID, err = launchScene(cleanup, b, "root", s.Name, s.About, &r, &r.Craft); err != nil {
			return out, err
		}
		out = append(out, r)
	}
	return out, nil
}

// pivotMain: args are the scene, the directory to build the root in, and
// the caller's mount namespace (ns.ID.Arg), in which it refuses to mount.
func pivotMain(args []string) int {
	if len(args) != 3 {
		return usage("container-pivot SCENE DIR PARENT-MNT")
	}
	r := pivotReport{Scene: args[0]}
	if err := craftPivot(&r, args[0], args[1], args[2]); err != nil {
		r.Craft = err.Error()
		return report(r) + 1
	}
	o := call(func() error {
		err := PivotRoot(r.Root)
		var errno syscall.Errno
		r.Wraps = errors.As(err, &errno)
		return err
	})
	r.Err = o.text()
	return reportAndWait(r)
}

// craftPivot builds the root in dir with the lab's pieces and crafts scene.
func craftPivot(r *pivotReport, scene, dir, parent string) error {
	if err := ns.NotInParent(ns.Mnt, parent, "mount"); err != nil {
		return err
	}
	if err := unix.Mount("", "/", "", unix.MS_REC|unix.MS_PRIVATE, ""); err != nil {
		return fmt.Errorf("make / private: %w", err)
	}
	root, err := labBuildRoot(dir)
	if err != nil {
		return err
	}
	r.Root = root.Dir
	if err := labFurnish(r.Root); err != nil {
		return err
	}
	switch scene {
	case "exists":
		return os.WriteFile(filepath.Join(r.Root, ".oldroot"), nil, 0o644)
	case "shared":
		return mountFS("", dir, "", unix.MS_SHARED, "")
	case "unbindable":
		return mountFS("", dir, "", unix.MS_UNBINDABLE, "")
	}
	return fmt.Errorf("no scene %q", scene)
}
