//go:build linux

package container

import (
	"github.com/nslab/nslab/pkg/lab"
)

// Lab is the container lab, registered with pkg/lab.
var Lab = &lab.Lab{
	Name:    "container",
	Title:   "A container from system calls",
	Summary: "   A container is a process in new namespaces, with a root file system of its own, an init, a network link and a cgroup: every piece a system call.",
	Steps: []*lab.Step{
		{
			ID: "01", Slug: "namespaces", Title: "A child in seven new namespaces", Points: 10,
			Explain: "clone(2) flags make the child's namespaces: every kind but time is new for a container.",
			Hints: []string{
				"exec.Cmd has a SysProcAttr (*syscall.SysProcAttr); its Cloneflags go to clone(2).",
				"unix.CLONE_NEWUTS | unix.CLONE_NEWIPC | unix.CLONE_NEWNS | unix.CLONE_NEWPID | unix.CLONE_NEWNET | unix.CLONE_NEWUSER | unix.CLONE_NEWCGROUP, and Pdeathsig: syscall.SIGKILL.",
			},
			Do: lab.Do(runIsolate, checkIsolate),
		},
		{
			ID: "02", Slug: "map_root", Title: "Root inside, the caller outside", Points: 10,
			Explain: "A user namespace's maps say who its processes are outside; a process whose UID has no mapping loses its capabilities at execve.",
			Hints: []string{
				"SysProcAttr.UidMappings and GidMappings are written to /proc/PID/uid_map and gid_map between clone and the child's execve.",
				"[]syscall.SysProcIDMap{{ContainerID: 0, HostID: os.Geteuid(), Size: 1}}, and the same with os.Getegid() for GIDs.",
			},
			Do: lab.Do(runMapRoot, checkMapRoot),
		},
		{
			ID: "03", Slug: "root_fs", Title: "A root file system in memory", Points: 20,
			Explain: "An overlay lays a writable tmpfs over the machine's read-only /usr: the container writes, the machine's files never change.",
			Hints: []string{
				"mount(2) a tmpfs on dir first; upper/ and work/ of the overlay must be on the same file system, outside the new root.",
				"unix.Mount(\"overlay\", root+\"/usr\", \"overlay\", 0, \"lowerdir=/usr,upperdir=\"+upper+\",workdir=\"+work); for each of HostDirs that is a link on the machine, os.Readlink and os.Symlink.",
				"Where the overlay fails, bind /usr (MS_BIND|MS_REC), then remount it MS_BIND|MS_REMOUNT|MS_RDONLY, and put the overlay's error in Root.Fallback.",
			},
			Do: lab.Do(runBuildRoot, checkBuildRoot),
		},
		{
			ID: "04", Slug: "furnish", Title: "proc, dev, sys and tmp in the new root", Points: 15,
			Explain: "A fresh proc shows the container's own PID namespace; /dev needs only a few devices, bound from the machine's; sysfs read-only; /tmp in memory.",
			Hints: []string{
				"Make each mount point (os.MkdirAll) and mount: proc on root/proc, a tmpfs on root/dev, sysfs with MS_RDONLY on root/sys, a tmpfs on root/tmp.",
				"For each name of DevNodes, create an empty file root/dev/NAME and unix.Mount(\"/dev/\"+name, file, \"\", unix.MS_BIND, \"\").",
			},
			Do: lab.Do(runFurnish, checkFurnish),
		},
		{
			ID: "05", Slug: "pivot_root", Title: "Switching to the new root", Points: 15,
			Explain: "pivot_root(2) makes the new root the namespace's root and puts the old one below it, where it must be detached.",
			Hints: []string{
				"pivot_root needs a mount point: bind root onto itself first (MS_BIND|MS_REC); put_old is a directory inside root.",
				"unix.PivotRoot(root, root+\"/.oldroot\"), unix.Chdir(\"/\"), unix.Unmount(\"/.oldroot\", unix.MNT_DETACH), os.Remove(\"/.oldroot\").",
			},
			Do: lab.Do(runPivotRoot, checkPivotRoot),
		},
		{
			ID: "06", Slug: "init", Title: "An init that forwards signals and reaps", Points: 20,
			Explain: "PID 1 adopts every orphan and gets no default signal actions: it must forward signals to its child and reap what ends.",
			Hints: []string{
				"signal.Notify for SIGTERM, SIGINT and SIGHUP before child.Start; a goroutine sends what arrives to the child with unix.Kill.",
				"Loop on unix.Wait4(-1, &ws, 0, nil); when it returns the child's PID, reap the rest with WNOHANG and return ws.ExitStatus(), or 128+int(ws.Signal()) when ws.Signaled().",
			},
			Do: lab.Do(runInit, checkInit),
		},
		{
			ID: "07", Slug: "network", Title: "A veth pair to the bastion", Points: 20,
			Explain: "A veth pair is a cable between two network namespaces: one end in the bastion, the other in the container, an address and a route on each side.",
			Hints: []string{
				"netns.GetFromPid opens a process's network namespace; netlink.NewHandleAt(that) works in it without moving the caller.",
				"In the bastion: LinkAdd(&netlink.Veth{LinkAttrs: netlink.LinkAttrs{Name: l.Name}, PeerName: l.Peer}), LinkSetNsFd(peer, int(containerNS)); on each side AddrAdd and LinkSetUp; in the container RouteAdd(&netlink.Route{LinkIndex: peer's index, Gw: the bastion's address}).",
			},
			Do: lab.Do(runConnect, checkConnect),
		},
		{
			ID: "08", Slug: "limits", Title: "A cgroup that stops a fork bomb", Points: 20, Cgroup: true,
			Explain: "A cgroup's pids.max makes fork(2) fail with EAGAIN; started in its cgroup, the container sees it as its cgroup namespace's root.",
			Hints: []string{
				"os.Mkdir the cgroup; write \"+pids\" to the parent's cgroup.subtree_control (v2), then the number to pids.max (in v1 on a hybrid machine).",
				"StartIn: os.Open(cg.V2), SysProcAttr.UseCgroupFD = true, CgroupFD = int(f.Fd()), cmd.Start(); then write the PID to cg.PidsV1/cgroup.procs if set.",
			},
			Do: lab.Do(runLimit, checkLimit),
		},
		{
			ID: "09", Slug: "exec", Title: "Running a command in a running container", Points: 15,
			Explain: "docker exec joins the container's namespaces with setns(2); user and mount namespaces accept only a single-threaded caller, which Go never is.",
			Hints: []string{
				"nsenter(1) joins the namespaces of a target PID, then forks (for the PID namespace) and executes the command.",
				"exec.Command(\"nsenter\", \"--target\", strconv.Itoa(pid), \"--user\", \"--mount\", \"--uts\", \"--ipc\", \"--net\", \"--pid\", \"--cgroup\", \"--preserve-credentials\", \"--\", args...)",
			},
			Do: lab.Do(runExec, checkExec),
		},
		{
			// With a cgroup, the run half gives the containers cgroups and
			// the check requires Stop to remove them.
			ID: "10", Slug: "stop", Title: "Stopping a container, leaving nothing", Points: 15, Cgroup: true,
			Explain: "docker stop sends SIGTERM, waits a grace period, then SIGKILL; the runtime then removes what the kernel does not: the link's other end, the cgroups.",
			Hints: []string{
				"Signal SIGTERM, wait for c.Cmd.Wait in a goroutine, and select on it and a timer of grace; Kill when the timer fires, then wait.",
				"netlink.NewHandleAt(the bastion's namespace), LinkByName(c.Link.Name), LinkDel; unix.Rmdir each cgroup directory set.",
			},
			Do: lab.Do(runStop, checkStop),
		},
	},
}

func init() { lab.Register(Lab) }
