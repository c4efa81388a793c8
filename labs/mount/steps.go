//go:build linux

package mount

import (
	"github.com/nslab/nslab/pkg/lab"
)

// Lab is the mount lab, registered with pkg/lab.
var Lab = &lab.Lab{
	Name:    "mount",
	Title:   "Mount namespaces: a mount table of one's own",
	Summary: "   A mount namespace holds a mount table; propagation decides which mounts travel between tables, and pivot_root makes a new tree the root.",
	Steps: []*lab.Step{
		{
			ID: "01", Slug: "new_namespace", Title: "A child in a new mount namespace", Points: 10,
			Explain: "clone(2) with CLONE_NEWNS gives the child a new mnt namespace whose table starts as a copy of its parent's, every mount with a new ID.",
			Hints:   []string{"spawn.Start with a Config whose New lists the kinds to create.", "spawn.Config{New: []ns.Kind{ns.Mnt}, Args: args}"},
			Do:      lab.Do(runNewNamespace, checkNewNamespace),
		},
		{
			ID: "02", Slug: "read_propagation", Title: "Reading propagation from mountinfo", Points: 10,
			Explain: "The optional fields of /proc/PID/mountinfo say how each mount propagates: shared:N (peer group N), master:N (a slave of group N), unbindable, or nothing (private).",
			Hints: []string{
				"Each field is \"tag:N\" or the word unbindable; strings.Cut(f, \":\") splits it.",
				"Ignore tags you do not know (the kernel may add some); a known tag needs a positive number.",
			},
			Do: lab.Do(runReadPropagation, checkReadPropagation),
		},
		{
			ID: "03", Slug: "private_first", Title: "Make / private before mounting anything", Points: 15,
			Explain: "A new mount namespace copies shared mounts as peers of the originals: a mount made under them shows up in the old namespace, the host's on a systemd machine. Making / private, recursively, first stops that.",
			Hints: []string{
				"unix.Unshare(unix.CLONE_NEWNS) moves only the calling thread, which the caller has locked.",
				"Then unix.Mount(\"\", \"/\", \"\", unix.MS_REC|unix.MS_PRIVATE, \"\"): mount --make-rprivate /.",
			},
			Do: lab.Do(runPrivateFirst, checkPrivateFirst),
		},
		{
			ID: "04", Slug: "tmpfs", Title: "A tmpfs the host does not see", Points: 10,
			Explain: "A file system mounted in a private mount namespace exists in that namespace's table only: the host's table and the host's directory underneath are untouched.",
			Hints: []string{
				"unix.Mount(source, target, fstype, flags, data): the source of a tmpfs is any name, data carries \"size=...k,mode=755\".",
				"unix.Mount(\"tmpfs\", target, \"tmpfs\", unix.MS_NOSUID|unix.MS_NODEV, fmt.Sprintf(\"size=%dk,mode=755\", sizeKiB))",
			},
			Do: lab.Do(runTmpfs, inHolder(checkTmpfs)),
		},
		{
			ID: "05", Slug: "propagation_types", Title: "Shared, slave, private and unbindable", Points: 15,
			Explain: "Between a mount and its copy in another namespace: shared passes mounts both ways, slave from master to slave only, private neither way, and unbindable is private and refuses to be bound.",
			Hints: []string{
				"A propagation change is mount(2) with no source or type and one of MS_SHARED, MS_SLAVE, MS_PRIVATE, MS_UNBINDABLE (no MS_REC: this mount only).",
				"A bind mount is mount(source, target, \"\", MS_BIND|MS_REC, \"\"); of an unbindable mount it fails with EINVAL.",
			},
			Do: lab.Do(runPropagationTypes, inHolder(checkPropagationTypes)),
		},
		{
			ID: "06", Slug: "read_only_bind", Title: "A read-only bind", Points: 10,
			Explain: "A bind takes its flags from the mount it copies: read-only takes a second call, a remount, which in a user namespace must keep the flags it cannot drop.",
			Hints: []string{
				"Two calls: mount(source, target, \"\", MS_BIND|MS_REC, \"\"), then mount(\"\", target, \"\", MS_REMOUNT|MS_BIND|MS_RDONLY, \"\").",
				"unix.Statfs(target) reports the flags the bind got (ST_NOSUID, ST_NODEV, ST_NOEXEC, ST_NOATIME, ST_NODIRATIME, ST_RELATIME): add the matching MS_ flag of each to the remount, or it gets EPERM.",
			},
			Do: lab.Do(runReadOnlyBind, inHolder(checkReadOnlyBind)),
		},
		{
			ID: "07", Slug: "minimal_rootfs", Title: "A minimal root file system", Points: 10,
			Explain: "A root for a container needs no image: a tmpfs, the host's /usr and /lib* bound read-only, a fresh /proc, a small /dev of bound device nodes and a /tmp.",
			Hints: []string{
				"A tmpfs on root, then BorrowHostDirs(root); mkdirMount makes each of proc, dev and tmp and mounts on it.",
				"In BuildDev, os.WriteFile(target, nil, 0o666) makes the file a device node is bound onto: unix.Mount(\"/dev/\"+name, target, \"\", unix.MS_BIND, \"\").",
				"proc is mounted with fstype \"proc\"; that needs privilege over a PID namespace (the step's holder has one of its own).",
			},
			Do: lab.Do(runRootfs, inHolder(checkRootfs)),
		},
		{
			ID: "08", Slug: "pivot_root", Title: "pivot_root into the new root", Points: 15,
			Explain: "pivot_root(2) makes a mount the namespace's root and puts the old root under it; detaching the old root with MNT_DETACH leaves nothing of the host's tree reachable.",
			Hints: []string{
				"new_root must be a mount point: bind it onto itself (MS_BIND|MS_REC) first, or pivot_root fails with EINVAL.",
				"Make a directory for the old root inside the new one, unix.PivotRoot(newRoot, putOld), unix.Chdir(\"/\").",
				"unix.Unmount(\"/\"+putOld, unix.MNT_DETACH) (a plain unmount gets EBUSY), then remove the directory.",
			},
			Do: lab.Do(runPivotRoot, inHolder(checkPivotRoot)),
		},
		{
			ID: "09", Slug: "teardown", Title: "Leaving nothing behind", Points: 5,
			Explain: "Undoing a tree of mounts means unmounting the deepest first, and deleting a directory only once nothing is mounted in it.",
			Hints: []string{
				"ReadMountinfo(\"/proc/thread-self/mountinfo\") and Under(mounts, dir) list what is mounted there.",
				"Unmount the longest mount point first, read the table again, repeat until nothing is left; then os.RemoveAll(dir).",
			},
			Do: lab.Do(runTeardown, checkTeardown),
		},
	},
}

func init() { lab.Register(Lab) }
