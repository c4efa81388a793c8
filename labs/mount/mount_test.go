//go:build linux

package mount_test

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/nslab/nslab/labs/mount"
	"github.com/nslab/nslab/pkg/lab/labtest"
	"github.com/nslab/nslab/pkg/ns"
	"golang.org/x/sys/unix"
)

func TestMain(m *testing.M) { labtest.Main(m) }

func TestMount(t *testing.T) {
	labtest.Need(t, ns.Mnt)
	labtest.Steps(t, mount.Lab,
		testNewNamespace, testReadPropagation, testPrivateFirst, testTmpfs, testPropagationTypes, testRootfs, testPivotRoot, testTeardown)
}

var lab = mount.Lab

// holder starts a holder in new namespaces of kinds, stopped when t ends.
func holder(t *testing.T, kinds ...ns.Kind) *mount.Holder {
	t.Helper()
	labtest.Need(t, kinds...)
	h, err := mount.StartHolder(t.Context(), kinds...)
	if err != nil {
		t.Fatalf("start a holder in new %v namespaces: %v", kinds, err)
	}
	t.Cleanup(h.Stop)
	return h
}

// workspace starts a holder with the lab's tmpfs on /tmp, where every
// directory and mount of the step goes.
func workspace(t *testing.T, kinds ...ns.Kind) *mount.Holder {
	t.Helper()
	h := holder(t, kinds...)
	do(t, h, "labtmpfs /tmp")
	return h
}

// do runs a command in h that the lab itself provides; its failure is not the learner's.
func do(t *testing.T, h *mount.Holder, format string, args ...any) []string {
	t.Helper()
	words, err := h.Do(format, args...)
	if err != nil {
		t.Fatal(err)
	}
	return words
}

func mounts(t *testing.T, h *mount.Holder, peer string) []mount.Mount {
	t.Helper()
	m, err := h.Mounts(peer)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func has(ms []mount.Mount, point string) bool {
	_, ok := mount.Find(ms, point)
	return ok
}

// hostPoints lists the mount points of the test's own mount table, with repeats.
func hostPoints(t *testing.T) []string {
	t.Helper()
	ms, err := mount.ReadMountinfo("/proc/self/mountinfo")
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, m := range ms {
		out = append(out, m.Point+" "+m.FSType)
	}
	slices.Sort(out)
	return out
}

// hostUnchanged fails step id when the test's mount table differs from before.
func hostUnchanged(t *testing.T, id string, before []string) {
	t.Helper()
	if after := hostPoints(t); !slices.Equal(before, after) {
		labtest.Failf(t, lab, id, "the host's mount table changed: %v, then %v; want no mount of the lab there", before, after)
	}
}

func testNewNamespace(t *testing.T) {
	t.Parallel()
	child, err := mount.StartInNewMount(t.Context(), []string{"true"})
	if err != nil {
		labtest.Failf(t, lab, "01", "start a child in a new mount namespace: %v", err)
	}
	defer child.Stop()
	labtest.NewKindsOnly(t, lab, "01", child.PID(), ns.Mnt)
	host, err := mount.ReadMountinfo("/proc/self/mountinfo")
	if err != nil {
		t.Fatal(err)
	}
	theirs, err := mount.ReadMountinfo(fmt.Sprintf("/proc/%d/mountinfo", child.PID()))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := mount.Table(theirs), mount.Table(host); !slices.Equal(got, want) {
		labtest.Failf(t, lab, "01", "the new namespace's mount table %v is not a copy of the caller's %v", got, want)
	}
	if same := mount.SameIDs(host, theirs); len(same) > 0 {
		labtest.Failf(t, lab, "01", "mount IDs %v are in both tables; want new IDs for every copied mount", same)
	}
	if err := child.Release(); err != nil {
		t.Fatal(err)
	}
	if err := child.Wait(); err != nil {
		t.Fatal(err)
	}
}

func testReadPropagation(t *testing.T) {
	t.Parallel()
	for _, tt := range propagationCases {
		got, err := mount.ParsePropagation(tt.fields)
		if (err != nil) != tt.bad || (!tt.bad && got != tt.want) {
			labtest.Failf(t, lab, "02", "ParsePropagation(%q) = %+v, %v; want %+v, error %v", tt.fields, got, err, tt.want, tt.bad)
		}
	}
	h := workspace(t, ns.Mnt)
	do(t, h, "labprop /tmp shared")
	do(t, h, "mkdir /tmp/u")
	do(t, h, "labtmpfs /tmp/u")
	do(t, h, "labprop /tmp/u unbindable")
	if err := h.Peer("b", false); err != nil {
		t.Fatal(err)
	}
	do(t, h, "@b labprop /tmp slave")
	a, b := mounts(t, h, ""), mounts(t, h, "b")
	group := peerGroup(t, a, "/tmp")
	checkParsed(t, a, "/tmp", mount.Propagation{Shared: group})
	checkParsed(t, a, "/tmp/u", mount.Propagation{Unbindable: true})
	checkParsed(t, b, "/tmp", mount.Propagation{Master: group})
}

var propagationCases = []struct {
	name   string
	fields []string
	want   mount.Propagation
	bad    bool
}{
	{name: "private", fields: nil},
	{name: "shared", fields: []string{"shared:5"}, want: mount.Propagation{Shared: 5}},
	{name: "slave", fields: []string{"master:3"}, want: mount.Propagation{Master: 3}},
	{name: "shared slave", fields: []string{"shared:12", "master:1"}, want: mount.Propagation{Shared: 12, Master: 1}},
	{name: "propagate_from", fields: []string{"master:7", "propagate_from:2"}, want: mount.Propagation{Master: 7, PropagateFrom: 2}},
	{name: "unbindable", fields: []string{"unbindable"}, want: mount.Propagation{Unbindable: true}},
	{name: "unknown field", fields: []string{"future:1", "shared:4"}, want: mount.Propagation{Shared: 4}},
	{name: "no number", fields: []string{"shared:"}, bad: true},
	{name: "not a number", fields: []string{"master:x"}, bad: true},
}

// peerGroup reads the N of "shared:N" of the mount on point, with the lab's own reading.
func peerGroup(t *testing.T, ms []mount.Mount, point string) int {
	t.Helper()
	m, ok := mount.Find(ms, point)
	if !ok {
		t.Fatalf("no mount on %s", point)
	}
	for _, f := range m.Optional {
		var n int
		if _, err := fmt.Sscanf(f, "shared:%d", &n); err == nil {
			return n
		}
	}
	t.Fatalf("the mount on %s is not shared: %v", point, m.Optional)
	return 0
}

func checkParsed(t *testing.T, ms []mount.Mount, point string, want mount.Propagation) {
	t.Helper()
	m, _ := mount.Find(ms, point)
	got, err := mount.ParsePropagation(m.Optional)
	if err != nil || got != want {
		labtest.Failf(t, lab, "02", "ParsePropagation(%q) of the mount on %s = %+v, %v; want %+v", m.Optional, point, got, err, want)
	}
}

func testPrivateFirst(t *testing.T) {
	t.Parallel()
	before := hostPoints(t)
	h := workspace(t, ns.Mnt)
	do(t, h, "labprop /tmp shared")
	// What goes wrong: a new namespace whose copy of /tmp stays a peer of the original.
	if err := h.Peer("leaky", false); err != nil {
		t.Fatal(err)
	}
	do(t, h, "@leaky mkdir /tmp/leak")
	do(t, h, "@leaky labtmpfs /tmp/leak")
	if !has(mounts(t, h, ""), "/tmp/leak") {
		t.Fatalf("a tmpfs mounted on /tmp/leak in a copy of a namespace whose /tmp is shared did not appear in the original; the kernel should propagate it")
	}
	if err := h.Peer("c", true); err != nil {
		labtest.Failf(t, lab, "03", "EnterPrivateMountNS on a locked thread: %v", err)
	}
	mine, _ := h.MntNS("")
	theirs, err := h.MntNS("c")
	if err != nil || theirs == mine {
		labtest.Failf(t, lab, "03", "after EnterPrivateMountNS the thread is in %s (%v), the holder's %s; want a new mount namespace (unshare(2) with CLONE_NEWNS)", theirs, err, mine)
	}
	for _, m := range mounts(t, h, "c") {
		if slices.ContainsFunc(m.Optional, func(f string) bool { return strings.HasPrefix(f, "shared:") }) {
			labtest.Failf(t, lab, "03", "after EnterPrivateMountNS the mount on %s is still shared (%v); want every mount private (MS_REC|MS_PRIVATE on /)", m.Point, m.Optional)
		}
	}
	do(t, h, "@c mkdir /tmp/right")
	do(t, h, "@c labtmpfs /tmp/right")
	if !has(mounts(t, h, "c"), "/tmp/right") {
		t.Fatalf("the tmpfs mounted on /tmp/right is not in the mount table of the thread that mounted it")
	}
	if has(mounts(t, h, ""), "/tmp/right") {
		labtest.Failf(t, lab, "03", "a tmpfs mounted on /tmp/right after EnterPrivateMountNS appeared in the holder's namespace too; want it in the new namespace only")
	}
	hostUnchanged(t, "03", before)
}

func testTmpfs(t *testing.T) {
	t.Parallel()
	before := hostPoints(t)
	h := holder(t, ns.Mnt)
	under := len(mount.Under(mounts(t, h, ""), "/tmp"))
	kib := 4 * (256 + rand.IntN(256)) // whole pages: tmpfs rounds the size up
	if _, err := h.Do("tmpfs /tmp %d", kib); err != nil {
		labtest.Failf(t, lab, "04", "MountTmpfs(/tmp, %d) in a new mount namespace: %v", kib, err)
	}
	ms := mounts(t, h, "")
	top, _ := mount.Find(ms, "/tmp")
	if len(mount.Under(ms, "/tmp")) != under+1 || top.FSType != "tmpfs" || !strings.Contains(","+top.SuperOptions+",", fmt.Sprintf(",size=%dk,", kib)) {
		labtest.Failf(t, lab, "04", "after MountTmpfs(/tmp, %d) the holder's topmost mount on /tmp is %+v; want a new tmpfs with size=%dk", kib, top, kib)
	}
	mark := fmt.Sprintf("/tmp/nslab-mount-mark-%d", rand.Int64())
	t.Cleanup(func() { os.Remove(mark) }) // only there if the tmpfs was not
	do(t, h, "write %s inside", mark)
	if got := do(t, h, "stat %s", mark); !slices.Equal(got, []string{"file"}) {
		t.Fatalf("stat %s in the holder: %v; want a file", mark, got)
	}
	if _, err := os.Stat(mark); !errors.Is(err, os.ErrNotExist) {
		labtest.Failf(t, lab, "04", "stat %s on the host: %v; want no such file (it was written to the holder's tmpfs)", mark, err)
	}
	hostUnchanged(t, "04", before)
}

// propagationWant says, for each type a peer gives its copy, whether a mount
// made in the holder shows in the peer, and one made in the peer shows in the holder.
var propagationWant = []struct {
	typ              string
	toPeer, fromPeer bool
}{
	{"shared", true, true},
	{"slave", true, false},
	{"private", false, false},
	{"unbindable", false, false},
}

func testPropagationTypes(t *testing.T) {
	t.Parallel()
	h := workspace(t, ns.Mnt)
	for _, w := range propagationWant {
		do(t, h, "mkdir /tmp/%s", w.typ)
		do(t, h, "labtmpfs /tmp/%s", w.typ)
		if _, err := h.Do("prop /tmp/%s shared", w.typ); err != nil {
			labtest.Failf(t, lab, "05", "SetPropagation(/tmp/%s, shared): %v", w.typ, err)
		}
	}
	if err := h.Peer("b", false); err != nil {
		t.Fatal(err)
	}
	for _, w := range propagationWant {
		if _, err := h.Do("@b prop /tmp/%s %s", w.typ, w.typ); err != nil {
			labtest.Failf(t, lab, "05", "SetPropagation(/tmp/%s, %s) in the second namespace: %v", w.typ, w.typ, err)
		}
		do(t, h, "mkdir /tmp/%s/from-holder", w.typ)
		do(t, h, "labtmpfs /tmp/%s/from-holder", w.typ)
		do(t, h, "mkdir /tmp/%s/from-peer", w.typ)
		do(t, h, "@b labtmpfs /tmp/%s/from-peer", w.typ)
	}
	a, b := mounts(t, h, ""), mounts(t, h, "b")
	for _, w := range propagationWant {
		toPeer, fromPeer := has(b, "/tmp/"+w.typ+"/from-holder"), has(a, "/tmp/"+w.typ+"/from-peer")
		if toPeer != w.toPeer || fromPeer != w.fromPeer {
			m, _ := mount.Find(b, "/tmp/"+w.typ)
			labtest.Failf(t, lab, "05", "with the second namespace's copy of /tmp/%s made %s (optional fields %v): holder->peer %v, peer->holder %v; want %v, %v",
				w.typ, w.typ, m.Optional, toPeer, fromPeer, w.toPeer, w.fromPeer)
		}
	}
	checkBind(t, h)
}

// checkBind binds the shared mount and the unbindable one in the peer: the second must fail with EINVAL.
func checkBind(t *testing.T, h *mount.Holder) {
	do(t, h, "mkdir /tmp/copy-shared")
	do(t, h, "mkdir /tmp/copy-unbindable")
	if _, err := h.Do("@b bind /tmp/shared /tmp/copy-shared"); err != nil {
		labtest.Failf(t, lab, "05", "BindMount(/tmp/shared, /tmp/copy-shared): %v; want a bind mount", err)
	}
	if !has(mounts(t, h, "b"), "/tmp/copy-shared") {
		labtest.Failf(t, lab, "05", "after BindMount(/tmp/shared, /tmp/copy-shared) nothing is mounted on /tmp/copy-shared")
	}
	_, err := h.Do("@b bind /tmp/unbindable /tmp/copy-unbindable")
	if !errors.Is(err, unix.EINVAL) {
		labtest.Failf(t, lab, "05", "BindMount of the unbindable /tmp/unbindable: %v; want EINVAL", err)
	}
}

func testRootfs(t *testing.T) {
	t.Parallel()
	h := workspace(t, ns.Mnt, ns.PID)
	do(t, h, "mkdir /tmp/root")
	if _, err := h.Do("rootfs /tmp/root"); err != nil {
		labtest.Failf(t, lab, "06", "BuildRootfs(/tmp/root): %v", err)
	}
	ms := mounts(t, h, "")
	wantFS := map[string]string{"/tmp/root": "tmpfs", "/tmp/root/proc": "proc", "/tmp/root/dev": "tmpfs", "/tmp/root/tmp": "tmpfs"}
	for point, fstype := range wantFS {
		if m, ok := mount.Find(ms, point); !ok || m.FSType != fstype {
			labtest.Failf(t, lab, "06", "after BuildRootfs the mount on %s is %+v (found %v); want a %s", point, m, ok, fstype)
		}
	}
	for _, dir := range mount.HostDirs {
		checkBorrowed(t, h, ms, dir)
	}
	for _, name := range mount.DevNodes {
		if _, err := os.Stat("/dev/" + name); err == nil && !has(ms, "/tmp/root/dev/"+name) {
			labtest.Failf(t, lab, "06", "nothing is mounted on /tmp/root/dev/%s; want a bind of the host's /dev/%s", name, name)
		}
	}
	if _, err := h.Do("write /tmp/root/dev/null discarded"); err != nil {
		labtest.Failf(t, lab, "06", "writing to /tmp/root/dev/null: %v; want it to work (a bind of the host's node, in a tmpfs of mode 0755)", err)
	}
}

// checkBorrowed checks the root's copy of the host's dir: the same link, or a read-only bind.
func checkBorrowed(t *testing.T, h *mount.Holder, ms []mount.Mount, dir string) {
	t.Helper()
	target := "/tmp/root" + dir
	if link, err := os.Readlink(dir); err == nil {
		got, err := h.Do("stat %s", target)
		if err != nil || !slices.Equal(got, []string{"link", link}) {
			labtest.Failf(t, lab, "06", "%s is %v (%v); want a symbolic link to %s, as the host's %s", target, got, err, link, dir)
		}
		return
	}
	if _, err := os.Stat(dir); err != nil {
		return
	}
	m, ok := mount.Find(ms, target)
	if !ok || !m.ReadOnly() {
		labtest.Failf(t, lab, "06", "the mount on %s is %+v (found %v); want a read-only bind of the host's %s", target, m, ok, dir)
	}
	_, err := h.Do("write %s/nslab-probe x", target)
	if !errors.Is(err, unix.EROFS) {
		labtest.Failf(t, lab, "06", "creating a file in %s: %v; want EROFS", target, err)
	}
}

func testPivotRoot(t *testing.T) {
	t.Parallel()
	h := workspace(t, ns.Mnt, ns.PID)
	do(t, h, "mkdir /tmp/root")
	do(t, h, "labroot /tmp/root")
	if _, err := h.Do("pivot /tmp/root"); err != nil {
		labtest.Failf(t, lab, "07", "PivotRoot(/tmp/root): %v", err)
	}
	ms := mounts(t, h, "")
	if root, ok := mount.Find(ms, "/"); !ok || root.FSType != "tmpfs" {
		labtest.Failf(t, lab, "07", "after PivotRoot the holder's / is %+v; want the lab's tmpfs", root)
	}
	allowed := []string{"/", "/proc"}
	for _, dir := range mount.HostDirs {
		allowed = append(allowed, dir)
	}
	for _, m := range ms {
		if !slices.Contains(allowed, m.Point) {
			labtest.Failf(t, lab, "07", "after PivotRoot the holder still has a mount on %s (%s); want only the new root's mounts (was the old root detached with MNT_DETACH?)", m.Point, m.FSType)
		}
	}
	for _, p := range []string{"/etc/hostname", "/root", "/tmp/root"} {
		if got, err := h.Do("stat %s", p); !errors.Is(err, unix.ENOENT) {
			labtest.Failf(t, lab, "07", "stat %s in the holder after PivotRoot: %v, %v; want ENOENT: the host's files are out of reach", p, got, err)
		}
	}
	if _, err := os.Lstat(h.Path("", "root/etc")); !errors.Is(err, os.ErrNotExist) {
		labtest.Failf(t, lab, "07", "the host sees %s: %v; want no such file", h.Path("", "root/etc"), err)
	}
	if got, err := h.Do("exec /bin/sh -c pwd"); err != nil || !slices.Equal(got, []string{"/"}) {
		labtest.Failf(t, lab, "07", "/bin/sh -c pwd in the new root: %v, %v; want it to run from the bound /usr and print /", got, err)
	}
}

func testTeardown(t *testing.T) {
	t.Parallel()
	h := workspace(t, ns.Mnt)
	for _, dir := range []string{"/tmp/src", "/tmp/t/a", "/tmp/t/c", "/tmp/t/d/e"} {
		do(t, h, "mkdir %s", dir)
	}
	do(t, h, "write /tmp/src/keep kept")
	do(t, h, "labtmpfs /tmp/t/a")
	do(t, h, "mkdir /tmp/t/a/x")
	do(t, h, "labtmpfs /tmp/t/a/x")
	do(t, h, "labbind /tmp/src /tmp/t/c")
	do(t, h, "labtmpfs /tmp/t/d/e")
	do(t, h, "labtmpfs /tmp/t/d/e")
	if _, err := h.Do("teardown /tmp/t"); err != nil {
		labtest.Failf(t, lab, "08", "Teardown(/tmp/t): %v", err)
	}
	ms := mounts(t, h, "")
	if left := mount.Under(ms, "/tmp/t"); len(left) > 0 {
		labtest.Failf(t, lab, "08", "after Teardown(/tmp/t) %d mounts are left there, the first on %s; want none", len(left), left[0].Point)
	}
	if got, err := h.Do("stat /tmp/t"); !errors.Is(err, unix.ENOENT) {
		labtest.Failf(t, lab, "08", "stat /tmp/t after Teardown: %v, %v; want ENOENT (removed)", got, err)
	}
	if got, err := h.Do("stat /tmp/src/keep"); err != nil || !slices.Equal(got, []string{"file"}) {
		labtest.Failf(t, lab, "08", "/tmp/src/keep, bound on /tmp/t/c, is %v, %v after Teardown; want it kept (unmount first, never delete through a mount)", got, err)
	}
	if m, ok := mount.Find(ms, "/tmp"); !ok || m.FSType != "tmpfs" {
		labtest.Failf(t, lab, "08", "Teardown(/tmp/t) removed the mount on /tmp too; want only what is on /tmp/t or below")
	}
}
