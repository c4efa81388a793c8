//go:build linux

package container

import (
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"syscall"
	"time"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"
)

// Isolate is step 01: set cmd.SysProcAttr so that the command starts in new
// uts, ipc, mnt, pid, net, user and cgroup namespaces (clone(2) flags), and
// is killed (SIGKILL) if the thread that started it dies. Leave everything
// else of cmd (its path, arguments, files, the other fields of a
// SysProcAttr it already has) as it is; give it one if it has none.
func Isolate(cmd *exec.Cmd) {
	// BEGIN SOLUTION
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.Cloneflags = unix.CLONE_NEWUTS | unix.CLONE_NEWIPC | unix.CLONE_NEWNS |
		unix.CLONE_NEWPID | unix.CLONE_NEWNET | unix.CLONE_NEWUSER | unix.CLONE_NEWCGROUP
	cmd.SysProcAttr.Pdeathsig = syscall.SIGKILL
	// END SOLUTION
}

// MapRoot is step 02: cmd.SysProcAttr already asks for a new user namespace;
// map the caller's effective UID and GID, and only them, to 0 inside
// (user_namespaces(7)), so that the container's first process is root there
// and keeps the capabilities clone(2) gave it across its execve(2).
func MapRoot(cmd *exec.Cmd) {
	// BEGIN SOLUTION
	cmd.SysProcAttr.UidMappings = []syscall.SysProcIDMap{{ContainerID: 0, HostID: os.Geteuid(), Size: 1}}
	cmd.SysProcAttr.GidMappings = []syscall.SysProcIDMap{{ContainerID: 0, HostID: os.Getegid(), Size: 1}}
	// END SOLUTION
}

// BuildRoot is step 03: in the caller's mount namespace (the container's,
// never the host's), build a root file system in dir, an empty directory,
// with nothing written to any disk: mount a tmpfs (nosuid, nodev) on dir;
// in it make upper/ and work/ for the overlay and root/, the new root (each
// of mode 0755); mount on root/usr an overlay whose lower layer is the
// machine's /usr (read-only to the overlay) and whose upper layer and work
// directory are upper/ and work/, so that whatever the container writes
// lands in memory; and give root/ the machine's top-level links into /usr
// (bin -> usr/bin, lib64 -> usr/lib64, …, the same link where the machine
// has one; a read-only bind where the machine has a directory: see
// HostDirs). Where the kernel refuses the overlay, bind the machine's /usr
// read-only on root/usr instead and say why in Root.Fallback. Wherever else
// the kernel refuses, return its error, wrapped, naming the path.
func BuildRoot(dir string) (Root, error) {
	// BEGIN SOLUTION
	r := Root{Dir: filepath.Join(dir, "root")}
	if err := unix.Mount("tmpfs", dir, "tmpfs", unix.MS_NOSUID|unix.MS_NODEV, "mode=0755"); err != nil {
		return r, fmt.Errorf("mount tmpfs on %s: %w", dir, err)
	}
	upper, work, usr := filepath.Join(dir, "upper"), filepath.Join(dir, "work"), filepath.Join(r.Dir, "usr")
	for _, d := range []string{upper, work, r.Dir, usr} {
		if err := os.Mkdir(d, 0o755); err != nil {
			return r, err
		}
	}
	opts := fmt.Sprintf("lowerdir=/usr,upperdir=%s,workdir=%s", upper, work)
	err := unix.Mount("overlay", usr, "overlay", 0, opts)
	if err == nil {
		r.Overlay = true
	} else {
		r.Fallback = fmt.Sprintf("mount overlay on %s (%s): %v", usr, opts, err)
		if err := unix.Mount("/usr", usr, "", unix.MS_BIND|unix.MS_REC, ""); err != nil {
			return r, fmt.Errorf("bind /usr on %s: %w", usr, err)
		}
		if err := unix.Mount("", usr, "", unix.MS_BIND|unix.MS_REMOUNT|unix.MS_RDONLY, ""); err != nil {
			return r, fmt.Errorf("make %s read-only: %w", usr, err)
		}
	}
	for _, name := range HostDirs() {
		host := "/" + name
		fi, err := os.Lstat(host)
		switch {
		case errors.Is(err, os.ErrNotExist):
			continue
		case err != nil:
			return r, err
		case fi.Mode()&os.ModeSymlink != 0:
			link, err := os.Readlink(host)
			if err != nil {
				return r, err
			}
			if err := os.Symlink(link, filepath.Join(r.Dir, name)); err != nil {
				return r, err
			}
		case fi.IsDir():
			target := filepath.Join(r.Dir, name)
			if err := os.Mkdir(target, 0o755); err != nil {
				return r, err
			}
			if err := unix.Mount(host, target, "", unix.MS_BIND|unix.MS_REC, ""); err != nil {
				return r, fmt.Errorf("bind %s on %s: %w", host, target, err)
			}
			if err := unix.Mount("", target, "", unix.MS_BIND|unix.MS_REMOUNT|unix.MS_RDONLY, ""); err != nil {
				return r, fmt.Errorf("make %s read-only: %w", target, err)
			}
		}
	}
	return r, nil
	// END SOLUTION
}

// Furnish is step 04: before the switch, give the new root (a directory
// built by BuildRoot) the file systems a process expects: a fresh proc on
// root/proc (it shows the caller's PID namespace, the container's); on
// root/dev a tmpfs holding only the devices of DevNodes, each an empty file
// the machine's device is bound onto; a sysfs, read-only, on root/sys
// (where the kernel refuses one, leave root/sys an empty directory); and a
// tmpfs on root/tmp. Make each mount point first. When the kernel
// refuses, return its error, wrapped, naming the path it refused.
func Furnish(root string) error {
	// BEGIN SOLUTION
	mkmount := func(source, target, fstype string, flags uintptr, data string) error {
		if err := os.MkdirAll(target, 0o755); err != nil {
			return err
		}
		if err := unix.Mount(source, target, fstype, flags, data); err != nil {
			return fmt.Errorf("mount %s on %s: %w", fstype, target, err)
		}
		return nil
	}
	const noexec = unix.MS_NOSUID | unix.MS_NODEV | unix.MS_NOEXEC
	if err := mkmount("proc", filepath.Join(root, "proc"), "proc", noexec, ""); err != nil {
		return err
	}
	dev := filepath.Join(root, "dev")
	if err := mkmount("tmpfs", dev, "tmpfs", unix.MS_NOSUID|unix.MS_NOEXEC, "mode=0755"); err != nil {
		return err
	}
	for _, name := range DevNodes() {
		target := filepath.Join(dev, name)
		f, err := os.OpenFile(target, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o666)
		if err != nil {
			return err
		}
		f.Close()
		if err := unix.Mount("/dev/"+name, target, "", unix.MS_BIND, ""); err != nil {
			return fmt.Errorf("bind /dev/%s on %s: %w", name, target, err)
		}
	}
	sys := filepath.Join(root, "sys")
	if err := os.MkdirAll(sys, 0o755); err != nil {
		return err
	}
	if err := unix.Mount("sysfs", sys, "sysfs", noexec|unix.MS_RDONLY, ""); err != nil && !errors.Is(err, unix.EPERM) {
		return fmt.Errorf("mount sysfs on %s: %w", sys, err)
	}
	return mkmount("tmpfs", filepath.Join(root, "tmp"), "tmpfs", unix.MS_NOSUID|unix.MS_NODEV, "mode=1777")
	// END SOLUTION
}

// PivotRoot is step 05: make root (a directory built by BuildRoot, not a
// mount point of its own) the root of the caller's mount namespace with
// pivot_root(2), then make sure nothing of the old root stays reachable:
// the working directory is the new root, and the old root is detached
// (umount2 with MNT_DETACH) and its mount point removed.
func PivotRoot(root string) error {
	// BEGIN SOLUTION
	// pivot_root wants a mount point: binding the tree onto itself makes one.
	if err := unix.Mount(root, root, "", unix.MS_BIND|unix.MS_REC, ""); err != nil {
		return fmt.Errorf("bind %s on itself: %w", root, err)
	}
	const old = ".oldroot"
	if err := os.Mkdir(filepath.Join(root, old), 0o700); err != nil {
		return err
	}
	if err := unix.PivotRoot(root, filepath.Join(root, old)); err != nil {
		return fmt.Errorf("pivot_root(%s, %s): %w", root, filepath.Join(root, old), err)
	}
	if err := unix.Chdir("/"); err != nil {
		return fmt.Errorf("chdir /: %w", err)
	}
	if err := unix.Unmount("/"+old, unix.MNT_DETACH); err != nil {
		return fmt.Errorf("detach the old root: %w", err)
	}
	return os.Remove("/" + old)
	// END SOLUTION
}

// Init is step 06: be the container's init, PID 1, as tini and
// `docker run --init` are: start child; forward SIGTERM, SIGINT and SIGHUP
// to it (handle them before the child starts: until then the Go runtime
// would end the init on one); wait for every process that ends (adopted
// orphans too, with wait4(2) on -1), so that no zombie stays; once the
// child has ended, reap what else has already ended (without blocking) and
// return the child's status: its exit status, or 128+N when signal N
// killed it. Return 127 if child cannot start.
func Init(child *exec.Cmd) int {
	// BEGIN SOLUTION
	sigs := make(chan os.Signal, 8)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT, syscall.SIGHUP)
	defer signal.Stop(sigs)
	if err := child.Start(); err != nil {
		fmt.Fprintf(os.Stderr, "init: start %s: %v\n", child.Path, err)
		return 127
	}
	pid := child.Process.Pid
	done := make(chan struct{})
	defer close(done)
	go func() {
		for {
			select {
			case s := <-sigs:
				unix.Kill(pid, s.(syscall.Signal))
			case <-done:
				return
			}
		}
	}()
	for {
		var ws unix.WaitStatus
		got, err := unix.Wait4(-1, &ws, 0, nil)
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if err != nil {
			fmt.Fprintf(os.Stderr, "init: wait: %v\n", err)
			return 125
		}
		if got != pid {
			continue // an orphan, reaped
		}
		status := ws.ExitStatus()
		if ws.Signaled() {
			status = 128 + int(ws.Signal())
		}
		for {
			got, err := unix.Wait4(-1, &ws, unix.WNOHANG, nil)
			if errors.Is(err, unix.EINTR) {
				continue
			}
			if err != nil || got <= 0 {
				return status
			}
		}
	}
	// END SOLUTION
}

// Connect is step 07: join the bastion's network namespace and the
// container's with a veth pair: create it in the bastion (l.Name there,
// l.Peer its other end), move l.Peer into the container's namespace, give
// each end its address (l.BastionAddr, l.ContainerAddr) and bring it up, and
// route the container's default traffic through the bastion's address.
// Work through netlink handles bound to each namespace (netns.GetFromPid,
// netlink.NewHandleAt): the caller's own network namespace, the lab host's,
// must not change. When the kernel refuses, return its error, wrapped,
// naming the link (or the gateway) it refused.
func Connect(l Link) error {
	// BEGIN SOLUTION
	bns, err := netns.GetFromPid(l.Bastion)
	if err != nil {
		return fmt.Errorf("open the bastion's network namespace: %w", err)
	}
	defer bns.Close()
	cns, err := netns.GetFromPid(l.Container)
	if err != nil {
		return fmt.Errorf("open the container's network namespace: %w", err)
	}
	defer cns.Close()
	b, err := netlink.NewHandleAt(bns)
	if err != nil {
		return err
	}
	defer b.Close()
	c, err := netlink.NewHandleAt(cns)
	if err != nil {
		return err
	}
	defer c.Close()
	if err := b.LinkAdd(&netlink.Veth{LinkAttrs: netlink.LinkAttrs{Name: l.Name}, PeerName: l.Peer}); err != nil {
		return fmt.Errorf("add veth %s/%s in the bastion: %w", l.Name, l.Peer, err)
	}
	peer, err := b.LinkByName(l.Peer)
	if err != nil {
		return err
	}
	if err := b.LinkSetNsFd(peer, int(cns)); err != nil {
		return fmt.Errorf("move %s into the container: %w", l.Peer, err)
	}
	up := func(h *netlink.Handle, name string, addr *net.IPNet) error {
		link, err := h.LinkByName(name)
		if err != nil {
			return err
		}
		if err := h.AddrAdd(link, &netlink.Addr{IPNet: addr}); err != nil {
			return fmt.Errorf("add %s to %s: %w", addr, name, err)
		}
		return h.LinkSetUp(link)
	}
	if err := up(b, l.Name, prefixNet(l.BastionAddr)); err != nil {
		return err
	}
	if err := up(c, l.Peer, prefixNet(l.ContainerAddr)); err != nil {
		return err
	}
	peer, err = c.LinkByName(l.Peer)
	if err != nil {
		return err
	}
	gw := net.IP(l.BastionAddr.Addr().AsSlice())
	if err := c.RouteAdd(&netlink.Route{LinkIndex: peer.Attrs().Index, Gw: gw}); err != nil {
		return fmt.Errorf("add the default route via %s: %w", gw, err)
	}
	return nil
	// END SOLUTION
}

// Limit is step 08: make the container's cgroup name under parent and limit
// it to maxPids processes (threads count). In the v2 hierarchy, make
// parent.V2/name. Where the pids controller is a v2 one (parent.PidsV1 is
// ""), offer it to parent.V2's children first (+pids in its
// cgroup.subtree_control) and write pids.max in the new cgroup; on a hybrid
// machine, make parent.PidsV1/name too and write pids.max there. Make the
// directories with mode 0755. When the kernel refuses, return its error,
// wrapped, naming the cgroup, and beside it what was made already (so that
// the caller can remove it).
func Limit(parent Cgroups, name string, maxPids int) (Cgroups, error) {
	// BEGIN SOLUTION
	var cg Cgroups
	max := []byte(strconv.Itoa(maxPids))
	cg.V2 = filepath.Join(parent.V2, name)
	if err := os.Mkdir(cg.V2, 0o755); err != nil {
		return cg, fmt.Errorf("make cgroup %s: %w", cg.V2, err)
	}
	if parent.PidsV1 == "" {
		if err := os.WriteFile(filepath.Join(parent.V2, "cgroup.subtree_control"), []byte("+pids"), 0); err != nil {
			return cg, fmt.Errorf("enable pids for the children of %s: %w", parent.V2, err)
		}
		return cg, os.WriteFile(filepath.Join(cg.V2, "pids.max"), max, 0)
	}
	cg.PidsV1 = filepath.Join(parent.PidsV1, name)
	if err := os.Mkdir(cg.PidsV1, 0o755); err != nil {
		return cg, fmt.Errorf("make cgroup %s: %w", cg.PidsV1, err)
	}
	return cg, os.WriteFile(filepath.Join(cg.PidsV1, "pids.max"), max, 0)
	// END SOLUTION
}

// StartIn is step 08: start cmd (its SysProcAttr asks for a new cgroup
// namespace among others) inside cg.V2 from its first instruction, with
// clone3(2)'s CLONE_INTO_CGROUP (SysProcAttr.UseCgroupFD and CgroupFD), so
// that its cgroup namespace is rooted there; where cg.PidsV1 is set, then
// write its PID into that cgroup's cgroup.procs (the command waits for the
// caller before it forks anything). When the kernel refuses, return its
// error, wrapped, naming the cgroup (or the PID that could not be moved).
func StartIn(cmd *exec.Cmd, cg Cgroups) error {
	// BEGIN SOLUTION
	dir, err := os.Open(cg.V2)
	if err != nil {
		return err
	}
	defer dir.Close()
	cmd.SysProcAttr.UseCgroupFD, cmd.SysProcAttr.CgroupFD = true, int(dir.Fd())
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start %s in cgroup %s: %w", cmd.Path, cg.V2, err)
	}
	if cg.PidsV1 != "" {
		procs := filepath.Join(cg.PidsV1, "cgroup.procs")
		if err := os.WriteFile(procs, []byte(strconv.Itoa(cmd.Process.Pid)), 0); err != nil {
			return fmt.Errorf("move PID %d into %s: %w", cmd.Process.Pid, procs, err)
		}
	}
	return nil
	// END SOLUTION
}

// Exec is step 09: return a command (not started) that runs args inside the
// running container whose init is process pid: in all seven of its
// namespaces, user and mount included, with its root. setns(2) into a user
// or mount namespace needs a single-threaded caller, which a Go program
// never is; nsenter(1) is a small single-threaded C program that does it
// and then starts args, so the command is nsenter's. The caller is root
// inside already (its UID is the one mapped to 0): keep its credentials.
func Exec(pid int, args []string) *exec.Cmd {
	// BEGIN SOLUTION
	// --preserve-credentials: the caller's UID is the one mapped to root
	// inside already, and setgroups(2) is denied in the container's user
	// namespace (Go writes "deny" to its /proc/PID/setgroups).
	enter := []string{"--target", strconv.Itoa(pid), "--user", "--mount", "--uts", "--ipc", "--net", "--pid", "--cgroup", "--preserve-credentials", "--"}
	return exec.Command("nsenter", append(enter, args...)...)
	// END SOLUTION
}

// Stop is step 10: stop the container c, as docker stop does: send its
// init SIGTERM, wait up to grace for it to end, then send SIGKILL; wait for
// it (c.Cmd.Wait), so that nothing of it is left; then delete its end of
// the veth pair in the bastion (c.Link; gone already is fine) and remove its
// cgroups (c.Cgroups, those set; gone already is fine). killed says
// whether SIGKILL was needed, also when an error follows. When the kernel
// refuses (the init cannot be signalled, the link or a cgroup cannot be
// removed), return its error, wrapped, naming what it refused.
func Stop(c *Container, grace time.Duration) (killed bool, err error) {
	// BEGIN SOLUTION
	done := make(chan error, 1)
	if err := c.Cmd.Process.Signal(syscall.SIGTERM); err != nil {
		return false, fmt.Errorf("send SIGTERM to PID %d: %w", c.Cmd.Process.Pid, err)
	}
	go func() { done <- c.Cmd.Wait() }()
	timer := time.NewTimer(grace)
	defer timer.Stop()
	select {
	case <-done:
	case <-timer.C:
		killed = true
		c.Cmd.Process.Kill()
		<-done
	}
	if c.Link.Name != "" {
		h, err := netns.GetFromPid(c.Link.Bastion)
		if err != nil {
			return killed, err
		}
		defer h.Close()
		nl, err := netlink.NewHandleAt(h)
		if err != nil {
			return killed, err
		}
		defer nl.Close()
		if link, err := nl.LinkByName(c.Link.Name); err == nil {
			if err := nl.LinkDel(link); err != nil && !errors.Is(err, unix.ENODEV) {
				return killed, fmt.Errorf("delete %s in the bastion: %w", c.Link.Name, err)
			}
		}
	}
	for _, dir := range []string{c.Cgroups.PidsV1, c.Cgroups.V2} {
		if dir == "" {
			continue
		}
		if err := unix.Rmdir(dir); err != nil && !errors.Is(err, unix.ENOENT) {
			return killed, fmt.Errorf("remove cgroup %s: %w", dir, err)
		}
	}
	return killed, nil
	// END SOLUTION
}
