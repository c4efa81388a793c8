//go:build linux

package mount

import (
	"errors"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"

	"github.com/nslab/nslab/pkg/lab"
	"github.com/nslab/nslab/pkg/ns"
	"golang.org/x/sys/unix"
)

// The check halves of the steps: in the harness, they read the mount tables
// of the lab host's processes from outside (/proc/PID/mountinfo, and
// /proc/PID/task/TID/mountinfo for a thread in a namespace of its own),
// compare them with the reports of run.go, narrate, and return what the
// kernel was expected to do and did not. Every check ends with hostKept:
// the lab host's own table must be as it was before the step (inHolder
// wraps the checks of the steps that work in one holder with it).

// mountsOf reads the mount table of process pid of the lab host, or of its
// thread tid when tid is not 0, from outside.
func mountsOf(c *lab.Check, pid, tid int) ([]Mount, error) {
	name := "mountinfo"
	if tid != 0 {
		name = "task/" + strconv.Itoa(tid) + "/mountinfo"
	}
	text, err := c.ReadFile(pid, name)
	if err != nil {
		return nil, fmt.Errorf("read the mount table of PID %d: %w", pid, err)
	}
	return ParseMountinfo(strings.NewReader(text))
}

// inHolder makes the check half of a step that works in one holder: it
// reads the holder's mount table from outside for check, then checks that
// the lab host kept its own.
func inHolder[R interface{ holder() oneHolder }](check func(c *lab.Check, r R, ms []Mount) error) func(*lab.Check, R) error {
	return func(c *lab.Check, r R) error {
		h := r.holder()
		ms, err := mountsOf(c, h.PID, 0)
		if err != nil {
			return err
		}
		if err := check(c, r, ms); err != nil {
			return err
		}
		return hostKept(c, h.Host)
	}
}

func has(ms []Mount, point string) bool {
	_, ok := Find(ms, point)
	return ok
}

// hostKept fails when the lab host's own mount table (the runner's) has a
// mount it did not have before the step (before, from table): code that
// mounted in its parent's mount namespace rather than in one it made.
func hostKept(c *lab.Check, before []string) error {
	ms, err := mountsOf(c, c.Runner, 0)
	if err != nil {
		return err
	}
	var added []string
	left := slices.Clone(before)
	for _, line := range table(ms) {
		if i := slices.Index(left, line); i >= 0 {
			left = slices.Delete(left, i, i+1)
			continue
		}
		point, fstype, _ := strings.Cut(line, " ")
		added = append(added, fstype+" on "+point)
	}
	if len(added) > 0 {
		return c.Failf("the lab host's own mount table (the runner's, PID %d) has a new mount: %s; the step's code mounted in its parent's mount namespace, not in one of its own (mount only in a new mount namespace, made private first)", c.Runner, strings.Join(added, ", "))
	}
	c.Check(true, "the lab host's own mount table is as it was")
	return nil
}

func checkNewNamespace(c *lab.Check, r newNamespaceReport) error {
	if err := c.NewKindsOnly(r.PID, "child", ns.Mnt); err != nil {
		return err
	}
	host, err := mountsOf(c, c.Runner, 0)
	if err != nil {
		return err
	}
	theirs, err := mountsOf(c, r.PID, 0)
	if err != nil {
		return err
	}
	if len(host) == 0 || len(theirs) == 0 {
		return c.Failf("the lab host has %d mounts and the child %d; want the same, more than none", len(host), len(theirs))
	}
	c.Say("host: %d mounts, IDs %d..; child: %d mounts, IDs %d..", len(host), host[0].ID, len(theirs), theirs[0].ID)
	if got, want := table(theirs), table(host); !slices.Equal(got, want) {
		return c.Failf("the new namespace's mount table %v is not a copy of the caller's %v", got, want)
	}
	c.Check(true, "the child's table lists the same mount points and types as the host's")
	if same := sameIDs(host, theirs); len(same) > 0 {
		return c.Failf("mount IDs %v are in both tables; want new IDs for every copied mount", same)
	}
	c.Check(true, "every mount of the copy has a new mount ID")
	return hostKept(c, r.Host)
}

// propagationCases are the table of step 02: ParsePropagation of fields is
// want, or an error when bad.
var propagationCases = []struct {
	name   string
	fields []string
	want   Propagation
	bad    bool
}{
	{name: "private", fields: nil},
	{name: "shared", fields: []string{"shared:5"}, want: Propagation{Shared: 5}},
	{name: "slave", fields: []string{"master:3"}, want: Propagation{Master: 3}},
	{name: "shared slave", fields: []string{"shared:12", "master:1"}, want: Propagation{Shared: 12, Master: 1}},
	{name: "propagate_from", fields: []string{"master:7", "propagate_from:2"}, want: Propagation{Master: 7, PropagateFrom: 2}},
	{name: "unbindable", fields: []string{"unbindable"}, want: Propagation{Unbindable: true}},
	{name: "unknown field", fields: []string{"future:1", "shared:4"}, want: Propagation{Shared: 4}},
	{name: "no number", fields: []string{"shared:"}, bad: true},
	{name: "not a number", fields: []string{"master:x"}, bad: true},
	{name: "no colon", fields: []string{"shared"}, bad: true},
	{name: "group 0", fields: []string{"shared:0"}, bad: true},
	{name: "negative group", fields: []string{"master:-3"}, bad: true},
	{name: "bad after good", fields: []string{"shared:5", "propagate_from:0"}, bad: true},
}

func checkReadPropagation(c *lab.Check, r readPropagationReport) error {
	if len(r.Cases) != len(propagationCases) {
		return fmt.Errorf("the report has %d cases of ParsePropagation, want %d", len(r.Cases), len(propagationCases))
	}
	if err := checkPropagationCases(c, r.Cases); err != nil {
		return err
	}
	a, err := mountsOf(c, r.PID, 0)
	if err != nil {
		return err
	}
	b, err := mountsOf(c, r.PID, r.Peer)
	if err != nil {
		return err
	}
	c.Say("holder H (PID %d): a tmpfs on /tmp made shared, /tmp/u made unbindable; peer B: a new namespace, its /tmp made a slave", r.PID)
	group, err := peerGroup(a, "/tmp")
	if err != nil {
		return err
	}
	for _, w := range []struct {
		who, point string
		ms         []Mount
		got        parsed
		want       Propagation
	}{
		{"H", "/tmp", a, r.Shared, Propagation{Shared: group}},
		{"H", "/tmp/u", a, r.Unbind, Propagation{Unbindable: true}},
		{"H's peer B", "/tmp", b, r.Slave, Propagation{Master: group}},
	} {
		m, _ := Find(w.ms, w.point)
		if !slices.Equal(m.Optional, w.got.Fields) {
			return fmt.Errorf("the optional fields of %s's %s were %q in the lab host and are %q from outside", w.who, w.point, w.got.Fields, m.Optional)
		}
		c.Say("%-11s %-7s optional fields %-14s -> %s", w.who, w.point, fmt.Sprintf("%q", m.Optional), w.got.Got)
		if w.got.Err != "" || w.got.Got != w.want {
			return c.Failf("ParsePropagation(%q) of the mount on %s = %+v, %q; want %+v", m.Optional, w.point, w.got.Got, w.got.Err, w.want)
		}
	}
	c.Check(true, "B's /tmp receives from peer group %d, the one H's /tmp belongs to", group)
	return hostKept(c, r.Host)
}

// checkPropagationCases compares ParsePropagation's answers with the table:
// the right Propagation, or an error that names the bad field.
func checkPropagationCases(c *lab.Check, cases []parsed) error {
	for i, tc := range propagationCases {
		got := cases[i]
		if (got.Err != "") != tc.bad || (!tc.bad && got.Got != tc.want) {
			return c.Failf("ParsePropagation(%q) = %+v, %q; want %+v, error %v", tc.fields, got.Got, got.Err, tc.want, tc.bad)
		}
		if !tc.bad {
			continue
		}
		bad := tc.fields[len(tc.fields)-1]
		if !namesWord(got.Err, bad) || malformed(got.Err) {
			return c.Failf("ParsePropagation(%q) returned the error %q; want a well-formed message that names the bad field %s (a word of its own, quoted or not)", tc.fields, got.Err, bad)
		}
	}
	c.Check(true, "ParsePropagation gets the %d cases of the table right, and each error names the bad field", len(propagationCases))
	return nil
}

// namesWord reports whether word is one of the words of msg, with or
// without the quotes, brackets and punctuation around it.
func namesWord(msg, word string) bool {
	for _, w := range strings.Fields(msg) {
		for w = strings.TrimLeft(w, "\"'`([{"); w != ""; w = w[:len(w)-1] {
			if w == word {
				return true
			}
			if !strings.ContainsRune("\"'`)]},:;.", rune(w[len(w)-1])) {
				break
			}
		}
	}
	return false
}

// malformed reports whether msg carries a fmt complaint ("%!s(MISSING)",
// "%!(EXTRA ...)"): a format whose verbs and arguments do not match.
func malformed(msg string) bool { return strings.Contains(msg, "%!") }

// peerGroup reads the N of "shared:N" of the mount on point, with the lab's own reading.
func peerGroup(ms []Mount, point string) (int, error) {
	m, ok := Find(ms, point)
	if !ok {
		return 0, fmt.Errorf("no mount on %s", point)
	}
	for _, f := range m.Optional {
		var n int
		if _, err := fmt.Sscanf(f, "shared:%d", &n); err == nil {
			return n, nil
		}
	}
	return 0, fmt.Errorf("the mount on %s is not shared: %v", point, m.Optional)
}

func checkPrivateFirst(c *lab.Check, r privateFirstReport) error {
	c.Say("a holder whose /tmp is shared: a thread that only unshared CLONE_NEWNS mounted /tmp/leak; in the holder's table: %v", r.Leaked)
	if r.SharedTmp {
		c.Say("the lab host's /tmp made shared, as every mount is on a systemd host")
	}
	c.Say("a thread of the lab host (TID %d) called EnterPrivateMountNS, then mounted a tmpfs on %s", r.TID, r.Right)
	if err := hostKept(c, r.Host); err != nil {
		return err
	}
	host, err := c.Host()
	if err != nil {
		return err
	}
	mine, _ := host.Get(ns.Mnt)
	theirs, err := ns.GetPath(c.ProcDir(c.Runner) + "/task/" + strconv.Itoa(r.TID) + "/ns/mnt")
	if err != nil || theirs.Equal(mine) {
		return c.Failf("after EnterPrivateMountNS the thread is in mount namespace %s (%v), the lab host's %s; want a new mount namespace (unshare(2) with CLONE_NEWNS)", theirs, err, mine)
	}
	c.Check(true, "the thread is in a new mount namespace, %s", theirs)
	ms, err := mountsOf(c, c.Runner, r.TID)
	if err != nil {
		return err
	}
	for _, m := range ms {
		if slices.ContainsFunc(m.Optional, func(f string) bool { return strings.HasPrefix(f, "shared:") }) {
			return c.Failf("after EnterPrivateMountNS the mount on %s is still shared (%v); want every mount private (MS_REC|MS_PRIVATE on /)", m.Point, m.Optional)
		}
	}
	c.Check(true, "no mount of the new namespace is shared")
	if !has(ms, r.Right) {
		return fmt.Errorf("the tmpfs mounted on %s is not in the mount table of the thread that mounted it", r.Right)
	}
	c.Check(true, "made private first, the new namespace keeps its mounts to itself")
	return checkRefusedPrivate(c, r)
}

// checkRefusedPrivate checks what EnterPrivateMountNS returned where the
// kernel refused its mount(2), then its unshare(2).
func checkRefusedPrivate(c *lab.Check, r privateFirstReport) error {
	for _, w := range []struct {
		where string
		got   result
		errno unix.Errno
		why   string
	}{
		{"on a thread chrooted to a plain directory", r.Chrooted, unix.EINVAL, "making / private fails there: / is no mount point"},
		{"where no mount namespace may be made (user/max_mnt_namespaces 0)", r.Limited, unix.ENOSPC, "unshare(CLONE_NEWNS) fails there"},
	} {
		c.Say("EnterPrivateMountNS %s: %s", w.where, w.got)
		if !w.got.is(w.errno) || malformed(w.got.Err) {
			return c.Failf("EnterPrivateMountNS %s: %s; want a well-formed error that wraps the kernel's %s (%s): return the error of each call, wrapped with %%w, and go no further", w.where, w.got, unix.ErrnoName(w.errno), w.why)
		}
	}
	c.Check(true, "EnterPrivateMountNS returns the kernel's refusal of either call")
	return nil
}

func checkTmpfs(c *lab.Check, r tmpfsReport, ms []Mount) error {
	top, _ := Find(ms, "/tmp")
	c.Say("holder (PID %d): topmost mount on /tmp: %s %s %s", r.PID, top.FSType, top.Source, top.SuperOptions)
	if len(Under(ms, "/tmp")) != r.Under+1 || top.FSType != "tmpfs" || !strings.Contains(","+top.SuperOptions+",", fmt.Sprintf(",size=%dk,", r.KiB)) {
		return c.Failf("after MountTmpfs(/tmp, %d) the holder's topmost mount on /tmp is %+v; want a new tmpfs with size=%dk", r.KiB, top, r.KiB)
	}
	c.Check(true, "a new tmpfs of %d KiB is on the holder's /tmp", r.KiB)
	if !top.HasOption("nosuid") || !top.HasOption("nodev") || !hasOption(top.SuperOptions, "mode=755") {
		return c.Failf("the tmpfs on the holder's /tmp has the options %q, %q; want nosuid and nodev (MS_NOSUID|MS_NODEV in flags) and mode=755 (in data)", top.Options, top.SuperOptions)
	}
	c.Check(true, "it is nosuid, nodev, mode 0755")
	c.Say("MountTmpfs(%s, %d), a directory that does not exist: %s", missingDir, r.KiB, r.Missing)
	if !r.Missing.is(unix.ENOENT) || malformed(r.Missing.Err) {
		return c.Failf("MountTmpfs(%s, %d) on a directory that does not exist: %s; want a well-formed error that wraps the kernel's ENOENT (fmt.Errorf with %%w), not nil", missingDir, r.KiB, r.Missing)
	}
	c.Check(true, "MountTmpfs returns the kernel's ENOENT for a target that does not exist")
	_, err := os.Lstat(c.ProcDir(c.Runner) + "/root" + r.Mark)
	seen := err == nil
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		seen = r.MarkInHost // the harness may not look: the runner's word
	}
	if seen {
		return c.Failf("the lab host has %s in its own /tmp; want no such file (the holder wrote it to its tmpfs)", r.Mark)
	}
	c.Check(true, "the file the holder wrote in its /tmp is not in the lab host's")
	return nil
}

func checkPropagationTypes(c *lab.Check, r propagationTypesReport, a []Mount) error {
	b, err := mountsOf(c, r.PID, r.Peer)
	if err != nil {
		return err
	}
	for _, w := range propagationWant {
		toPeer, fromPeer := has(b, "/tmp/"+w.typ+"/from-holder"), has(a, "/tmp/"+w.typ+"/from-peer")
		m, _ := Find(b, "/tmp/"+w.typ)
		c.Say("B's /tmp/%-10s %-16s H->B %-5v B->H %v", w.typ, fmt.Sprintf("%q", m.Optional), toPeer, fromPeer)
		if toPeer != w.toPeer || fromPeer != w.fromPeer {
			return c.Failf("with the second namespace's copy of /tmp/%s made %s (optional fields %v): holder->peer %v, peer->holder %v; want %v, %v",
				w.typ, w.typ, m.Optional, toPeer, fromPeer, w.toPeer, w.fromPeer)
		}
	}
	c.Check(true, "each type passes mounts as it should")
	c.Say("in B: BindMount(/tmp/shared, /tmp/copy-shared): %s; BindMount(/tmp/unbindable, /tmp/copy-unbindable): %s", r.BindShared, r.BindUnbindable)
	if r.BindShared.Err != "" {
		return c.Failf("BindMount(/tmp/shared, /tmp/copy-shared): %s; want a bind mount", r.BindShared.Err)
	}
	if !has(b, "/tmp/copy-shared") {
		return c.Failf("after BindMount(/tmp/shared, /tmp/copy-shared) nothing is mounted on /tmp/copy-shared")
	}
	if !r.BindUnbindable.is(unix.EINVAL) || malformed(r.BindUnbindable.Err) {
		return c.Failf("BindMount of the unbindable /tmp/unbindable: %s; want a well-formed error that wraps the kernel's EINVAL", r.BindUnbindable)
	}
	c.Check(true, "an unbindable mount cannot be bound")
	if err := checkRefusedPropagation(c, r); err != nil {
		return err
	}
	return nil
}

// checkRefusedPropagation checks SetPropagation's errors: the kernel's
// EINVAL for a directory that is no mount point, its own for a type that
// does not exist.
func checkRefusedPropagation(c *lab.Check, r propagationTypesReport) error {
	c.Say("in H: SetPropagation(/tmp/plain, shared), a directory that is no mount point: %s", r.NotMount)
	if !r.NotMount.is(unix.EINVAL) || malformed(r.NotMount.Err) {
		return c.Failf("SetPropagation(/tmp/plain, shared) on a directory that is no mount point: %s; want a well-formed error that wraps the kernel's EINVAL (fmt.Errorf with %%w), not nil", r.NotMount)
	}
	c.Say("in H: SetPropagation(/tmp/shared, %s): %s", unknownType, r.Unknown)
	if r.Unknown.Err == "" || malformed(r.Unknown.Err) || !namesWord(r.Unknown.Err, unknownType) {
		return c.Failf("SetPropagation(/tmp/shared, %s): %s; want a well-formed error that names the unknown type %s, not nil", unknownType, r.Unknown, unknownType)
	}
	c.Check(true, "SetPropagation returns the kernel's EINVAL, and refuses an unknown type")
	return nil
}

func checkReadOnlyBind(c *lab.Check, r readOnlyBindReport, ms []Mount) error {
	if len(r.Binds) == 0 {
		return errors.New("the report has no BindReadOnly")
	}
	for _, b := range r.Binds {
		m, ok := Find(ms, b.Target)
		c.Say("BindReadOnly(%s, %s): %s %s from %s; creating a file there: %s", b.Source, b.Target, m.FSType, m.Options, m.Root, b.Write)
		if !ok || !m.ReadOnly() {
			return c.Failf("the mount on %s is %+v (found %v); want a read-only bind of %s", b.Target, m, ok, b.Source)
		}
		if !b.Write.is(unix.EROFS) {
			return c.Failf("creating a file in %s: %s; want EROFS", b.Target, b.Write)
		}
		if src, ok := Find(ms, b.Source); ok {
			for _, o := range []string{"nosuid", "nodev", "noexec"} {
				if src.HasOption(o) && !m.HasOption(o) {
					return c.Failf("the read-only bind on %s lost %s, which %s has; want the flags the source had kept", b.Target, o, b.Source)
				}
			}
		}
	}
	c.Check(true, "each bind is read-only, and kept the flags it could not drop")
	if err := checkRefusedReadOnly(c, ms, r); err != nil {
		return err
	}
	return nil
}

// checkRefusedReadOnly checks BindReadOnly where the kernel refused one of
// its calls: an error that wraps the kernel's, or (for a moved target, which
// a bind made otherwise may well survive) a read-only bind.
func checkRefusedReadOnly(c *lab.Check, ms []Mount, r readOnlyBindReport) error {
	c.Say("BindReadOnly(%s, /tmp/ro-missing), a source that does not exist: %s", missingDir, r.Missing)
	if !r.Missing.is(unix.ENOENT) || malformed(r.Missing.Err) || has(ms, "/tmp/ro-missing") {
		return c.Failf("BindReadOnly(%s, /tmp/ro-missing) with a source that does not exist: %s (a mount on the target: %v); want a well-formed error that wraps the kernel's ENOENT (fmt.Errorf with %%w), and nothing mounted", missingDir, r.Missing, has(ms, "/tmp/ro-missing"))
	}
	if len(r.Moved) != len(movedTargets) {
		return fmt.Errorf("the report has %d binds on moved targets, want %d", len(r.Moved), len(movedTargets))
	}
	for _, m := range r.Moved {
		top, ok := Find(ms, m.Covered)
		c.Say("BindReadOnly(%s, %s), a path the bind covers: %s; then on %s: %s %s", m.Source, m.Target, m.Got, m.Covered, top.FSType, top.Options)
		switch {
		case m.Got.Err != "" && (m.Got.Errno == "-" || malformed(m.Got.Err)):
			return c.Failf("BindReadOnly(%s, %s): %s; want a well-formed error that wraps the kernel's (fmt.Errorf with %%w)", m.Source, m.Target, m.Got)
		case m.Got.Err == "" && (!ok || !top.ReadOnly()):
			return c.Failf("BindReadOnly(%s, %s) returned nil, and the mount on %s is %+v (found %v); want it read-only, or the error of the call that failed: after the bind, the same path leads elsewhere, so statfs(2) or the remount fails there (return each call's error)", m.Source, m.Target, m.Covered, top, ok)
		}
	}
	c.Check(true, "BindReadOnly returns the error of the call the kernel refused")
	return nil
}

func checkRootfs(c *lab.Check, r rootfsReport, ms []Mount) error {
	for _, m := range Under(ms, "/tmp/root") {
		c.Say("%-22s %-9s %-10s from %s", m.Point, m.FSType, m.Options, m.Root)
	}
	for _, w := range []struct{ point, fstype string }{{"/tmp/root", "tmpfs"}, {"/tmp/root/proc", "proc"}, {"/tmp/root/dev", "tmpfs"}, {"/tmp/root/tmp", "tmpfs"}} {
		if m, ok := Find(ms, w.point); !ok || m.FSType != w.fstype {
			return c.Failf("after BuildRootfs the mount on %s is %+v (found %v); want a %s", w.point, m, ok, w.fstype)
		}
	}
	for _, b := range r.Borrowed {
		if err := checkBorrowed(c, ms, b); err != nil {
			return err
		}
	}
	c.Check(true, "the host's directories are the same links, or read-only binds")
	for _, name := range DevNodes() {
		if _, err := os.Stat("/dev/" + name); err == nil && !has(ms, "/tmp/root/dev/"+name) {
			return c.Failf("nothing is mounted on /tmp/root/dev/%s; want a bind of the host's /dev/%s", name, name)
		}
	}
	if r.DevNull.Err != "" {
		return c.Failf("writing to /tmp/root/dev/null: %s; want it to work (a bind of the host's node, in a tmpfs of mode 0755)", r.DevNull.Err)
	}
	c.Check(true, "the device nodes are binds of the host's, and /dev/null can be written")
	if err := checkRootfsFlags(c, ms); err != nil {
		return err
	}
	if err := checkRefusedRootfs(c, r.Refused); err != nil {
		return err
	}
	return nil
}

// rootfsFlags are the options step 07's mounts must have: per-mount
// options, and the file system's own (the mode of a tmpfs).
var rootfsFlags = []struct {
	point string
	opts  []string
	super string
}{
	{"/tmp/root", nil, "mode=755"},
	{"/tmp/root/proc", []string{"nosuid", "nodev", "noexec"}, ""},
	{"/tmp/root/dev", []string{"nosuid", "noexec"}, "mode=755"},
	{"/tmp/root/tmp", []string{"nosuid", "nodev"}, ""}, // mode 1777, tmpfs's default, is not listed
}

// checkRootfsFlags checks the options of the mounts BuildRootfs made.
func checkRootfsFlags(c *lab.Check, ms []Mount) error {
	for _, w := range rootfsFlags {
		m, _ := Find(ms, w.point)
		for _, o := range w.opts {
			if !m.HasOption(o) {
				return c.Failf("the mount on %s has the options %q; want %s among them (MS_%s in flags)", w.point, m.Options, o, strings.ToUpper(o))
			}
		}
		if w.super != "" && !hasOption(m.SuperOptions, w.super) {
			return c.Failf("the %s on %s has the options %q; want %s (in data)", m.FSType, w.point, m.SuperOptions, w.super)
		}
	}
	c.Check(true, "proc is nosuid,nodev,noexec; dev nosuid,noexec, mode 0755; tmp nosuid,nodev")
	return nil
}

// checkRefusedRootfs checks that BuildRootfs returned the error of the call
// that failed, wrapped.
func checkRefusedRootfs(c *lab.Check, rs []refusedRoot) error {
	if len(rs) != len(refusedRoots)+1 {
		return fmt.Errorf("the report has %d refused BuildRootfs, want %d", len(rs), len(refusedRoots)+1)
	}
	for _, w := range rs {
		c.Say("BuildRootfs(%s), %s: %s", w.Root, w.Why, w.Got)
		if w.Got.Err == "" || w.Got.Errno != w.Errno || malformed(w.Got.Err) {
			return c.Failf("BuildRootfs(%s), %s: %s; want a well-formed error that wraps %s: return the error of each call as soon as it fails (fmt.Errorf with %%w), and go no further", w.Root, w.Why, w.Got, w.Errno)
		}
	}
	c.Check(true, "BuildRootfs returns the error of whichever call fails")
	return nil
}

// checkBorrowed checks the root's copy of the host's dir: the same link, or a read-only bind.
func checkBorrowed(c *lab.Check, ms []Mount, b borrowed) error {
	target := "/tmp/root" + b.Dir
	if link, err := os.Readlink(b.Dir); err == nil {
		if b.Stat.Err != "" || !slices.Equal(b.Stat.Words, []string{"link", link}) {
			return c.Failf("%s is %s; want a symbolic link to %s, as the host's %s", target, b.Stat, link, b.Dir)
		}
		return nil
	}
	if _, err := os.Stat(b.Dir); err != nil {
		return nil
	}
	m, ok := Find(ms, target)
	if !ok || !m.ReadOnly() {
		return c.Failf("the mount on %s is %+v (found %v); want a read-only bind of the host's %s", target, m, ok, b.Dir)
	}
	if !b.Write.is(unix.EROFS) {
		return c.Failf("creating a file in %s: %s; want EROFS", target, b.Write)
	}
	return nil
}

func checkPivotRoot(c *lab.Check, r pivotRootReport, ms []Mount) error {
	c.Say("the holder's mount table after PivotRoot: %v", table(ms))
	if root, ok := Find(ms, "/"); !ok || root.FSType != "tmpfs" {
		return c.Failf("after PivotRoot the holder's / is %+v; want the lab's tmpfs", root)
	}
	allowed := append([]string{"/", "/proc"}, HostDirs()...)
	for _, m := range ms {
		if !slices.Contains(allowed, m.Point) {
			return c.Failf("after PivotRoot the holder still has a mount on %s (%s); want only the new root's mounts (was the old root detached with MNT_DETACH?)", m.Point, m.FSType)
		}
	}
	c.Check(true, "the holder's table holds the new root's mounts only")
	for _, p := range outOfReach {
		got := r.Stats[p]
		c.Say("stat %s in the holder: %s", p, got)
		if !got.is(unix.ENOENT) {
			return c.Failf("stat %s in the holder after PivotRoot: %s; want ENOENT: the host's files are out of reach", p, got)
		}
	}
	outside := c.ProcDir(r.PID) + "/root/root/etc"
	if _, err := os.Lstat(outside); !errors.Is(err, os.ErrNotExist) {
		return c.Failf("the harness sees %s: %v; want no such file", outside, err)
	}
	c.Check(true, "the host's files are out of reach")
	if r.Pwd.Err != "" || !slices.Equal(r.Pwd.Words, []string{"/"}) {
		return c.Failf("/bin/sh -c pwd in the new root: %s; want it to run from the bound /usr and print /", r.Pwd)
	}
	c.Check(true, "/bin/sh runs in the new root, from /")
	if r.After.Err != "" || !sameSet(r.After.Words, r.Before) {
		return c.Failf("ls / in the new root: %s; want what /tmp/root held before, %v: once the old root is detached, remove the directory it was put in", r.After, r.Before)
	}
	c.Check(true, "the new root holds what it held before: %v", r.Before)
	if err := checkRefusedPivot(c, r.Refused); err != nil {
		return err
	}
	return nil
}

// sameSet reports whether a and b hold the same strings, in any order.
func sameSet(a, b []string) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(a, b)
}

// checkRefusedPivot checks PivotRoot where one of its calls fails: an error
// that wraps the kernel's, or (where a pivot is possible all the same) a
// root that did change.
func checkRefusedPivot(c *lab.Check, rs []refusedPivot) error {
	for _, w := range rs {
		c.Say("in a second holder, PivotRoot(%s), %s: %s", w.Root, w.Why, w.Got)
		switch {
		case w.Got.Err == "" && (w.Errno != "" || !w.Hostname.is(unix.ENOENT)):
			return c.Failf("PivotRoot(%s), %s, returned nil, and /etc/hostname is then %s; want an error%s: return the error of each call as soon as it fails", w.Root, w.Why, w.Hostname, wrapping(w.Errno))
		case w.Got.Err != "" && (w.Got.Errno == "-" || w.Errno != "" && w.Got.Errno != w.Errno || malformed(w.Got.Err)):
			return c.Failf("PivotRoot(%s), %s: %s; want a well-formed error%s: return the error of each call as soon as it fails (fmt.Errorf with %%w)", w.Root, w.Why, w.Got, wrapping(w.Errno))
		}
	}
	if len(rs) != len(refusedPivots) {
		return fmt.Errorf("the report has %d refused PivotRoot, want %d", len(rs), len(refusedPivots))
	}
	c.Check(true, "PivotRoot returns the error of whichever call fails")
	return nil
}

// wrapping says which error number an error should wrap: "" for any.
func wrapping(errno string) string {
	if errno == "" {
		return " that wraps the kernel's"
	}
	return " that wraps the kernel's " + errno
}

func checkTeardown(c *lab.Check, r teardownReport) error {
	c.Say("under /tmp/t: a tmpfs holding a tmpfs, a bind of /tmp/src (holding the file keep), two tmpfs stacked on one point")
	c.Say("Teardown(/tmp/t): %s; then stat /tmp/t: %s, stat /tmp/src/keep: %s", r.Teardown, r.Dir, r.Keep)
	if r.Keep.Err != "" || !slices.Equal(r.Keep.Words, []string{"file"}) {
		return c.Failf("/tmp/src/keep, bound on /tmp/t/c, is %s after Teardown; want it kept (unmount first, never delete through a mount)", r.Keep)
	}
	if r.Teardown.Err != "" {
		why := ""
		if r.Teardown.is(unix.EBUSY) {
			why = " (EBUSY: a mount with another on it, or a directory with a mount on it, is busy: unmount the deepest first)"
		}
		return c.Failf("Teardown(/tmp/t): %s%s", r.Teardown.Err, why)
	}
	ms, err := mountsOf(c, r.PID, 0)
	if err != nil {
		return err
	}
	if left := Under(ms, "/tmp/t"); len(left) > 0 {
		return c.Failf("after Teardown(/tmp/t) %d mounts are left there, the first on %s; want none", len(left), left[0].Point)
	}
	if !r.Dir.is(unix.ENOENT) {
		return c.Failf("stat /tmp/t after Teardown: %s; want ENOENT (removed)", r.Dir)
	}
	if m, ok := Find(ms, "/tmp"); !ok || m.FSType != "tmpfs" {
		return c.Failf("Teardown(/tmp/t) removed the mount on /tmp too; want only what is on /tmp/t or below")
	}
	c.Check(true, "nothing mounted or left under /tmp/t, and the file behind the bind is kept")
	if err := checkRefusedTeardown(c, r.Refused); err != nil {
		return err
	}
	return hostKept(c, r.Host)
}

// checkRefusedTeardown checks Teardown where one of its calls fails: an
// error that wraps the kernel's, and nothing deleted.
func checkRefusedTeardown(c *lab.Check, rs []refusedTeardown) error {
	if len(rs) != len(refusedTeardowns) {
		return fmt.Errorf("the report has %d refused Teardown, want %d", len(rs), len(refusedTeardowns))
	}
	for _, w := range rs {
		c.Say("Teardown(%s), %s: %s; then stat %s/m/keep: %s", w.Dir, w.Why, w.Got, w.Dir, w.Kept)
		if w.Got.Err == "" || w.Got.Errno == "-" || w.Errno != "" && w.Got.Errno != w.Errno || malformed(w.Got.Err) {
			return c.Failf("Teardown(%s), %s: %s; want a well-formed error%s: return the error of each call as soon as it fails (fmt.Errorf with %%w), and delete nothing", w.Dir, w.Why, w.Got, wrapping(w.Errno))
		}
		if w.Kept.Err != "" {
			return c.Failf("Teardown(%s), %s, failed, and %s/m/keep is then %s; want it kept: delete nothing once a call has failed", w.Dir, w.Why, w.Dir, w.Kept)
		}
	}
	c.Check(true, "Teardown returns the error of whichever call fails, and deletes nothing")
	return nil
}
