//go:build linux

package mount

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/nslab/nslab/pkg/holder"
	"github.com/nslab/nslab/pkg/lab"
	"github.com/nslab/nslab/pkg/ns"
	"golang.org/x/sys/unix"
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
			Run:     runNewNamespace,
		},
		{
			ID: "02", Slug: "read_propagation", Title: "Reading propagation from mountinfo", Points: 10,
			Explain: "The optional fields of /proc/PID/mountinfo say how each mount propagates: shared:N (peer group N), master:N (a slave of group N), unbindable, or nothing (private).",
			Hints: []string{
				"Each field is \"tag:N\" or the word unbindable; strings.Cut(f, \":\") splits it.",
				"Ignore tags you do not know (the kernel may add some); a known tag needs a positive number.",
			},
			Run: runReadPropagation,
		},
		{
			ID: "03", Slug: "private_first", Title: "Make / private before mounting anything", Points: 15,
			Explain: "A new mount namespace copies shared mounts as peers of the originals: a mount made under them shows up in the old namespace, the host's on a systemd machine. Making / private, recursively, first stops that.",
			Hints: []string{
				"unix.Unshare(unix.CLONE_NEWNS) moves only the calling thread, which the caller has locked.",
				"Then unix.Mount(\"\", \"/\", \"\", unix.MS_REC|unix.MS_PRIVATE, \"\"): mount --make-rprivate /.",
			},
			Run: runPrivateFirst,
		},
		{
			ID: "04", Slug: "tmpfs", Title: "A tmpfs the host does not see", Points: 10,
			Explain: "A file system mounted in a private mount namespace exists in that namespace's table only: the host's table and the host's directory underneath are untouched.",
			Hints: []string{
				"unix.Mount(source, target, fstype, flags, data): the source of a tmpfs is any name, data carries \"size=...k,mode=755\".",
				"unix.Mount(\"tmpfs\", target, \"tmpfs\", unix.MS_NOSUID|unix.MS_NODEV, fmt.Sprintf(\"size=%dk,mode=755\", sizeKiB))",
			},
			Run: runTmpfs,
		},
		{
			ID: "05", Slug: "propagation_types", Title: "Shared, slave, private and unbindable", Points: 20,
			Explain: "Between a mount and its copy in another namespace: shared passes mounts both ways, slave from master to slave only, private neither way, and unbindable is private and refuses to be bound.",
			Hints: []string{
				"A propagation change is mount(2) with no source or type and one of MS_SHARED, MS_SLAVE, MS_PRIVATE, MS_UNBINDABLE (no MS_REC: this mount only).",
				"A bind mount is mount(source, target, \"\", MS_BIND|MS_REC, \"\"); of an unbindable mount it fails with EINVAL.",
			},
			Run: runPropagationTypes,
		},
		{
			ID: "06", Slug: "minimal_rootfs", Title: "A minimal root file system", Points: 15,
			Explain: "A root for a container needs no image: a tmpfs, the host's /usr and /lib* bound read-only, a fresh /proc, a small /dev of bound device nodes and a /tmp.",
			Hints: []string{
				"os.Lstat tells a symbolic link (bin -> usr/bin on merged-/usr systems) from a directory; recreate a link with os.Readlink and os.Symlink.",
				"A read-only bind takes two calls: MS_BIND, then MS_REMOUNT|MS_BIND|MS_RDONLY; in a user namespace add the flags unix.Statfs reports (ST_NOSUID, ST_NODEV, ...), or the remount gets EPERM.",
				"proc is mounted with fstype \"proc\"; in a user namespace that needs a PID namespace of the same owner (the lab's holder has one).",
			},
			Run: runRootfs,
		},
		{
			ID: "07", Slug: "pivot_root", Title: "pivot_root into the new root", Points: 15,
			Explain: "pivot_root(2) makes a mount the namespace's root and puts the old root under it; detaching the old root with MNT_DETACH leaves nothing of the host's tree reachable.",
			Hints: []string{
				"new_root must be a mount point: bind it onto itself (MS_BIND|MS_REC) first, or pivot_root fails with EINVAL.",
				"Make a directory for the old root inside the new one, unix.PivotRoot(newRoot, putOld), unix.Chdir(\"/\").",
				"unix.Unmount(\"/\"+putOld, unix.MNT_DETACH) (a plain unmount gets EBUSY), then remove the directory.",
			},
			Run: runPivotRoot,
		},
		{
			ID: "08", Slug: "teardown", Title: "Leaving nothing behind", Points: 5,
			Explain: "Undoing a tree of mounts means unmounting the deepest first, and deleting a directory only once nothing is mounted in it.",
			Hints: []string{
				"ReadMountinfo(\"/proc/thread-self/mountinfo\") and Under(mounts, dir) list what is mounted there.",
				"Unmount the longest mount point first, read the table again, repeat until nothing is left; then os.RemoveAll(dir).",
			},
			Run: runTeardown,
		},
	},
}

func init() { lab.Register(Lab) }

// lastErr runs the commands in h in order, stopping at the first error.
func lastErr(h *Holder, cmds ...string) error {
	for _, c := range cmds {
		if _, err := h.Do("%s", c); err != nil {
			return err
		}
	}
	return nil
}

func runNewNamespace(ctx context.Context, n *lab.Narrator) error {
	child, err := StartInNewMount(ctx, []string{"true"})
	if err != nil {
		return err
	}
	defer child.Stop()
	if err := n.NewKindsOnly(child.PID(), "child", ns.Mnt); err != nil {
		return err
	}
	host, err := ReadMountinfo("/proc/self/mountinfo")
	if err != nil {
		return err
	}
	theirs, err := ReadMountinfo(fmt.Sprintf("/proc/%d/mountinfo", child.PID()))
	if err != nil {
		return err
	}
	n.Say("host: %d mounts, IDs %d..; child: %d mounts, IDs %d..", len(host), host[0].ID, len(theirs), theirs[0].ID)
	if err := n.Expect(slices.Equal(Table(host), Table(theirs)), "the child's table lists the same mount points and types as the host's"); err != nil {
		return err
	}
	if err := n.Expect(len(SameIDs(host, theirs)) == 0, "every mount of the copy has a new mount ID"); err != nil {
		return err
	}
	return child.Release()
}

func runReadPropagation(ctx context.Context, n *lab.Narrator) error {
	h, err := StartHolder(ctx, ns.Mnt)
	if err != nil {
		return err
	}
	defer h.Stop()
	if err := lastErr(h, "labtmpfs /tmp", "labprop /tmp shared", "mkdir /tmp/u", "labtmpfs /tmp/u", "labprop /tmp/u unbindable"); err != nil {
		return err
	}
	if err := h.Peer("b", false); err != nil {
		return err
	}
	if err := lastErr(h, "@b labprop /tmp slave"); err != nil {
		return err
	}
	n.Say("holder H (PID %d): a tmpfs on /tmp made shared, /tmp/u made unbindable; peer B: a new namespace, its /tmp made a slave", h.PID())
	for _, w := range []struct{ peer, point string }{{"", "/tmp"}, {"", "/tmp/u"}, {"b", "/tmp"}} {
		ms, err := h.Mounts(w.peer)
		if err != nil {
			return err
		}
		m, _ := Find(ms, w.point)
		p, err := ParsePropagation(m.Optional)
		if err != nil {
			return n.Failf("ParsePropagation(%q): %v", m.Optional, err)
		}
		n.Say("%-9s %-7s optional fields %-12q -> %s", "H"+map[string]string{"": "", "b": "'s peer B"}[w.peer], w.point, m.Optional, p)
	}
	n.Check(true, "B's /tmp receives from the peer group H's /tmp belongs to")
	return nil
}

func runPrivateFirst(ctx context.Context, n *lab.Narrator) error {
	h, err := StartHolder(ctx, ns.Mnt)
	if err != nil {
		return err
	}
	defer h.Stop()
	if err := lastErr(h, "labtmpfs /tmp", "labprop /tmp shared"); err != nil {
		return err
	}
	n.Say("holder H (PID %d): a tmpfs on /tmp, made shared as / is on a systemd host", h.PID())
	if err := h.Peer("leaky", false); err != nil {
		return err
	}
	if err := lastErr(h, "@leaky mkdir /tmp/leak", "@leaky labtmpfs /tmp/leak"); err != nil {
		return err
	}
	ms, err := h.Mounts("")
	if err != nil {
		return err
	}
	n.Say("a thread that only unshared CLONE_NEWNS mounted /tmp/leak; in H's table: %v", present(ms, "/tmp/leak"))
	if err := h.Peer("c", true); err != nil {
		return n.Failf("EnterPrivateMountNS: %v", err)
	}
	if err := lastErr(h, "@c mkdir /tmp/right", "@c labtmpfs /tmp/right"); err != nil {
		return err
	}
	if ms, err = h.Mounts(""); err != nil {
		return err
	}
	n.Say("a thread that called EnterPrivateMountNS mounted /tmp/right; in H's table: %v", present(ms, "/tmp/right"))
	return n.Expect(!present(ms, "/tmp/right"), "made private first, the new namespace keeps its mounts to itself")
}

func present(ms []Mount, point string) bool {
	_, ok := Find(ms, point)
	return ok
}

func runTmpfs(ctx context.Context, n *lab.Narrator) error {
	h, err := StartHolder(ctx, ns.Mnt)
	if err != nil {
		return err
	}
	defer h.Stop()
	if _, err := h.Do("tmpfs /tmp 1024"); err != nil {
		return n.Failf("MountTmpfs(/tmp, 1024): %v", err)
	}
	ms, err := h.Mounts("")
	if err != nil {
		return err
	}
	host, err := ReadMountinfo("/proc/self/mountinfo")
	if err != nil {
		return err
	}
	top, _ := Find(ms, "/tmp")
	hostTop, ok := Find(host, "/tmp")
	n.Say("holder (PID %d): topmost mount on /tmp: %s %s %s", h.PID(), top.FSType, top.Source, top.SuperOptions)
	if ok {
		n.Say("host: topmost mount on /tmp: %s %s", hostTop.FSType, hostTop.Source)
	} else {
		n.Say("host: nothing mounted on /tmp: it is a directory of %s", func() string { r, _ := Find(host, "/"); return r.FSType }())
	}
	return n.Expect(top.FSType == "tmpfs" && len(Under(ms, "/tmp")) == len(Under(host, "/tmp"))+1, "the tmpfs is in the holder's table only")
}

func runPropagationTypes(ctx context.Context, n *lab.Narrator) error {
	h, err := StartHolder(ctx, ns.Mnt)
	if err != nil {
		return err
	}
	defer h.Stop()
	types := []string{"shared", "slave", "private", "unbindable"}
	if err := lastErr(h, "labtmpfs /tmp"); err != nil {
		return err
	}
	for _, typ := range types {
		if err := lastErr(h, "mkdir /tmp/"+typ, "labtmpfs /tmp/"+typ, "prop /tmp/"+typ+" shared"); err != nil {
			return n.Failf("%v", err)
		}
	}
	if err := h.Peer("b", false); err != nil {
		return err
	}
	for _, typ := range types {
		if err := lastErr(h, "@b prop /tmp/"+typ+" "+typ, "mkdir /tmp/"+typ+"/from-h", "labtmpfs /tmp/"+typ+"/from-h", "mkdir /tmp/"+typ+"/from-b", "@b labtmpfs /tmp/"+typ+"/from-b"); err != nil {
			return n.Failf("%v", err)
		}
	}
	a, err1 := h.Mounts("")
	b, err2 := h.Mounts("b")
	if err := errors.Join(err1, err2); err != nil {
		return err
	}
	for _, typ := range types {
		m, _ := Find(b, "/tmp/"+typ)
		n.Say("B's /tmp/%-10s %-16q H->B %-5v B->H %v", typ, m.Optional, present(b, "/tmp/"+typ+"/from-h"), present(a, "/tmp/"+typ+"/from-b"))
	}
	if err := lastErr(h, "mkdir /tmp/copy"); err != nil {
		return err
	}
	_, err = h.Do("@b bind /tmp/unbindable /tmp/copy")
	n.Say("in B: BindMount(/tmp/unbindable, /tmp/copy): %v", err)
	return n.Expect(errors.Is(err, unix.EINVAL), "an unbindable mount cannot be bound")
}

func runRootfs(ctx context.Context, n *lab.Narrator) error {
	h, err := StartHolder(ctx, ns.Mnt, ns.PID)
	if err != nil {
		return err
	}
	defer h.Stop()
	if err := lastErr(h, "labtmpfs /tmp", "mkdir /tmp/root"); err != nil {
		return err
	}
	if _, err := h.Do("rootfs /tmp/root"); err != nil {
		return n.Failf("BuildRootfs(/tmp/root): %v", err)
	}
	ms, err := h.Mounts("")
	if err != nil {
		return err
	}
	for _, m := range Under(ms, "/tmp/root") {
		n.Say("%-22s %-9s %-8s from %s", m.Point, m.FSType, m.Options[:2], m.Root)
	}
	ls, _ := h.Do("ls /tmp/root")
	n.Say("ls /tmp/root: %v", ls)
	_, err = h.Do("write /tmp/root/usr/nslab-probe x")
	return n.Expect(errors.Is(err, unix.EROFS), "the borrowed /usr is read-only (%s)", holder.Errno(err))
}

func runPivotRoot(ctx context.Context, n *lab.Narrator) error {
	h, err := StartHolder(ctx, ns.Mnt, ns.PID)
	if err != nil {
		return err
	}
	defer h.Stop()
	if err := lastErr(h, "labtmpfs /tmp", "mkdir /tmp/root", "labroot /tmp/root"); err != nil {
		return err
	}
	if _, err := h.Do("pivot /tmp/root"); err != nil {
		return n.Failf("PivotRoot(/tmp/root): %v", err)
	}
	ms, err := h.Mounts("")
	if err != nil {
		return err
	}
	n.Say("the holder's mount table after PivotRoot: %v", Table(ms))
	ls, _ := h.Do("ls /")
	n.Say("ls / in the holder: %v", ls)
	_, err = h.Do("stat /etc/hostname")
	n.Say("stat /etc/hostname in the holder: %v", holder.Errno(err))
	return n.Expect(errors.Is(err, unix.ENOENT), "the host's files are out of reach")
}

func runTeardown(ctx context.Context, n *lab.Narrator) error {
	h, err := StartHolder(ctx, ns.Mnt)
	if err != nil {
		return err
	}
	defer h.Stop()
	if err := lastErr(h, "labtmpfs /tmp", "mkdir /tmp/t/a", "mkdir /tmp/t/b", "labtmpfs /tmp/t/a", "mkdir /tmp/t/a/x", "labtmpfs /tmp/t/a/x", "labbind /tmp/t/a /tmp/t/b"); err != nil {
		return err
	}
	ms, err := h.Mounts("")
	if err != nil {
		return err
	}
	n.Say("under /tmp/t: %v", Table(Under(ms, "/tmp/t")))
	if _, err := h.Do("teardown /tmp/t"); err != nil {
		return n.Failf("Teardown(/tmp/t): %v", err)
	}
	if ms, err = h.Mounts(""); err != nil {
		return err
	}
	_, err = h.Do("stat /tmp/t")
	n.Say("after Teardown: %d mounts under /tmp/t; stat /tmp/t: %s", len(Under(ms, "/tmp/t")), holder.Errno(err))
	return n.Expect(len(Under(ms, "/tmp/t")) == 0 && errors.Is(err, unix.ENOENT), "nothing mounted or left under /tmp/t")
}
