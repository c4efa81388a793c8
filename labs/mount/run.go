//go:build linux

package mount

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"strings"

	"github.com/nslab/nslab/pkg/holder"
	"github.com/nslab/nslab/pkg/lab"
	"github.com/nslab/nslab/pkg/labhost"
	"github.com/nslab/nslab/pkg/ns"
	"github.com/nslab/nslab/pkg/spawn"
	"golang.org/x/sys/unix"
)

// The run halves of the steps: each calls the learner's code in the lab
// host, mostly in holders (holder.go) in mount namespaces the lab made, and
// returns what it saw, with the holders kept alive until the check in the
// harness (check.go) has read their mount tables from outside. Every report
// starts with Host, the lab host's own mount table (the runner's) before the
// step: the check compares it with the table after.

// result is the outcome of a holder command, as a report carries it.
type result struct {
	Words []string `json:",omitempty"`
	Err   string   `json:",omitempty"` // the error, empty when the command worked
	Errno string   `json:",omitempty"` // its error number ("EROFS"), "-" when it has none
}

func resultOf(words []string, err error) result {
	if err != nil {
		return result{Err: err.Error(), Errno: holder.Errno(err)}
	}
	return result{Words: words}
}

// is reports whether the command failed with errno.
func (r result) is(errno unix.Errno) bool { return r.Err != "" && r.Errno == unix.ErrnoName(errno) }

func (r result) String() string {
	if r.Err != "" {
		return fmt.Sprintf("error %s (%s)", r.Errno, r.Err)
	}
	return fmt.Sprintf("ok %v", r.Words)
}

// runnerTable is the lab host's own mount table (see table), as the runner sees it.
func runnerTable() ([]string, error) {
	ms, err := ReadMountinfo("/proc/self/mountinfo")
	if err != nil {
		return nil, fmt.Errorf("read the lab host's mount table: %w", err)
	}
	return table(ms), nil
}

// oneHolder is what the report of a step that works in one holder starts with.
type oneHolder struct {
	Host []string // the lab host's mount table (see table), before the check
	PID  int      // the holder
}

func (h oneHolder) holder() oneHolder { return h }

// heldWorkspace reads the lab host's mount table, then starts the step's
// workspace: both go into *r.
func heldWorkspace(ctx context.Context, cleanup *lab.Cleanup, r *oneHolder, kinds ...ns.Kind) (*nsHolder, error) {
	var err error
	if r.Host, err = runnerTable(); err != nil {
		return nil, err
	}
	h, err := workspace(ctx, cleanup, kinds...)
	if err != nil {
		return nil, err
	}
	r.PID = h.PID()
	return h, nil
}

// workspace starts a holder in new namespaces of kinds, stopped after the
// check, with the lab's tmpfs on /tmp, where every directory and mount of
// the step goes.
func workspace(ctx context.Context, cleanup *lab.Cleanup, kinds ...ns.Kind) (*nsHolder, error) {
	h, err := startHolder(ctx, kinds...)
	if err != nil {
		return nil, err
	}
	cleanup.Add(h.Stop)
	return h, h.must("labtmpfs /tmp")
}

type newNamespaceReport struct {
	oneHolder // the child of StartInNewMount, held
}

func runNewNamespace(ctx context.Context, cleanup *lab.Cleanup) (r newNamespaceReport, err error) {
	if r.Host, err = runnerTable(); err != nil {
		return r, err
	}
	child, err := StartInNewMount(ctx, []string{"true"})
	r.PID, err = spawn.HeldPID("StartInNewMount", child, err, cleanup.Add)
	return r, err
}

// parsed is what ParsePropagation made of the optional fields of one mount.
type parsed struct {
	Fields []string
	Got    Propagation
	Err    string `json:",omitempty"`
}

func parse(fields []string) parsed {
	p, err := ParsePropagation(fields)
	out := parsed{Fields: fields, Got: p}
	if err != nil {
		out.Err = err.Error()
	}
	return out
}

type readPropagationReport struct {
	oneHolder          // holder H: /tmp shared, /tmp/u unbindable
	Cases     []parsed // propagationCases, in order
	Peer      int      // H's peer B (a TID of H): its /tmp a slave
	Shared    parsed   // H's /tmp
	Unbind    parsed   // H's /tmp/u
	Slave     parsed   // B's /tmp
}

func runReadPropagation(ctx context.Context, cleanup *lab.Cleanup) (r readPropagationReport, err error) {
	h, err := heldWorkspace(ctx, cleanup, &r.oneHolder, ns.Mnt)
	if err != nil {
		return r, err
	}
	for _, tc := range propagationCases {
		r.Cases = append(r.Cases, parse(tc.fields))
	}
	if err := h.must("labprop /tmp shared", "mkdir /tmp/u", "labtmpfs /tmp/u", "labprop /tmp/u unbindable"); err != nil {
		return r, err
	}
	if err := h.peer("b"); err != nil {
		return r, err
	}
	if err := h.must("@b labprop /tmp slave"); err != nil {
		return r, err
	}
	r.Peer = h.peers["b"]
	for _, w := range []struct {
		peer, point string
		to          *parsed
	}{{"", "/tmp", &r.Shared}, {"", "/tmp/u", &r.Unbind}, {"b", "/tmp", &r.Slave}} {
		ms, err := h.mounts(w.peer)
		if err != nil {
			return r, err
		}
		m, ok := Find(ms, w.point)
		if !ok {
			return r, fmt.Errorf("the lab's mount on %s is missing", w.point)
		}
		*w.to = parse(m.Optional)
	}
	return r, nil
}

type privateFirstReport struct {
	Host      []string
	Leaked    bool   // a tmpfs mounted by a peer that only unshared showed in its holder
	SharedTmp bool   // the lab made the lab host's /tmp shared, as / is on a systemd host
	TID       int    // the runner's thread that called EnterPrivateMountNS
	Right     string // where that thread then mounted a tmpfs
	Chrooted  result // EnterPrivateMountNS on a thread chrooted to a plain directory
	Limited   result // EnterPrivateMountNS where no mount namespace may be made
}

func runPrivateFirst(ctx context.Context, cleanup *lab.Cleanup) (r privateFirstReport, err error) {
	if r.Host, err = runnerTable(); err != nil {
		return r, err
	}
	if r.Leaked, err = leak(ctx); err != nil {
		return r, err
	}
	// The lab host stands for the host: its /tmp becomes shared, as every
	// mount is on a systemd machine. (With NSLAB_BARE=1 the runner is on the
	// machine itself, whose mounts the lab leaves as they are.)
	if !labhost.Bare() {
		if err := labPropagation("/tmp", "shared"); err != nil {
			return r, fmt.Errorf("the lab's own set-up failed: %w", err)
		}
		r.SharedTmp = true
		// Back to private once the step's mount is made: what leaked has
		// leaked by then, and the lab host is handed back as it was found
		// (the harness compares it before and after the step).
		defer labPropagation("/tmp", "private")
	}
	r.Right = fmt.Sprintf("/tmp/nslab-right-%d", rand.Int64())
	if err := os.Mkdir(r.Right, 0o755); err != nil {
		return r, err
	}
	cleanup.Add(func() { os.Remove(r.Right) })
	t, err := startThread(EnterPrivateMountNS)
	if err != nil {
		return r, fmt.Errorf("EnterPrivateMountNS on a locked thread of the lab host: %w", err)
	}
	cleanup.Add(t.stop)
	r.TID = t.tid
	if err := t.do(func() error { return mountFS("tmpfs", r.Right, "tmpfs", 0, "mode=755") }); err != nil {
		return r, fmt.Errorf("after EnterPrivateMountNS, the lab's tmpfs on %s: %w", r.Right, err)
	}
	r.Chrooted, r.Limited, err = refusedPrivate(ctx, cleanup)
	return r, err
}

// refusedPrivate calls EnterPrivateMountNS where the kernel refuses each of
// its two calls, in a holder that is root in a user namespace of its own:
// on a thread chrooted to a plain directory, where / is no mount point (the
// mount fails with EINVAL), then with the holder's limit of mount
// namespaces set to 0 (unshare fails with ENOSPC, and the mount that would
// follow works).
func refusedPrivate(ctx context.Context, cleanup *lab.Cleanup) (chrooted, limited result, err error) {
	h, err := workspace(ctx, cleanup, ns.User, ns.Mnt)
	if err != nil {
		return chrooted, limited, err
	}
	for _, w := range []struct {
		setup, call string
		to          *result
	}{{"mkdir /tmp/jail", "private /tmp/jail", &chrooted}, {"labmntmax 0", "private", &limited}} {
		if *w.to, err = h.tryAfter([]string{w.setup}, "%s", w.call); err != nil {
			return chrooted, limited, err
		}
		if strings.Contains(w.to.Err, errSetUp) {
			return chrooted, limited, errors.New(w.to.Err)
		}
	}
	return chrooted, limited, nil
}

// leak shows what goes wrong without step 03: in a holder whose /tmp is
// shared, a peer that only unshares its mount namespace mounts a tmpfs, and
// the tmpfs shows in the holder's table too.
func leak(ctx context.Context) (bool, error) {
	h, err := startHolder(ctx, ns.Mnt)
	if err != nil {
		return false, err
	}
	defer h.Stop()
	if err := h.must("labtmpfs /tmp", "labprop /tmp shared"); err != nil {
		return false, err
	}
	if err := h.peer("leaky"); err != nil {
		return false, err
	}
	if err := h.must("@leaky mkdir /tmp/leak", "@leaky labtmpfs /tmp/leak"); err != nil {
		return false, err
	}
	ms, err := h.mounts("")
	if err != nil {
		return false, err
	}
	if _, ok := Find(ms, "/tmp/leak"); !ok {
		return false, errors.New("a tmpfs mounted on /tmp/leak in a copy of a namespace whose /tmp is shared did not appear in the original; the kernel should propagate it")
	}
	return true, nil
}

type tmpfsReport struct {
	oneHolder         // the holder that called MountTmpfs(/tmp, KiB)
	Under      int    // mounts on /tmp or below in the holder before
	KiB        int    // the size asked for
	Mark       string // a file the holder wrote in its /tmp
	MarkInHost bool   // whether the runner found it in the lab host's /tmp
	Missing    result // MountTmpfs(missingDir, KiB)
}

// missingDir is a directory that does not exist, in the holder's new /tmp.
const missingDir = "/tmp/nslab-missing"

func runTmpfs(ctx context.Context, cleanup *lab.Cleanup) (r tmpfsReport, err error) {
	if r.Host, err = runnerTable(); err != nil {
		return r, err
	}
	h, err := startHolder(ctx, ns.Mnt)
	if err != nil {
		return r, err
	}
	cleanup.Add(h.Stop)
	ms, err := h.mounts("")
	if err != nil {
		return r, err
	}
	r.PID, r.Under = h.PID(), len(Under(ms, "/tmp"))
	r.KiB = 4 * (256 + rand.IntN(256)) // whole pages: tmpfs rounds the size up
	if _, err := h.call("tmpfs /tmp %d", r.KiB); err != nil {
		return r, fmt.Errorf("MountTmpfs(/tmp, %d) in a new mount namespace: %w", r.KiB, err)
	}
	r.Mark = fmt.Sprintf("/tmp/nslab-mount-mark-%d", rand.Int64())
	cleanup.Add(func() { os.Remove(r.Mark) }) // only there if the tmpfs was not
	if err := h.must("write " + r.Mark + " inside"); err != nil {
		return r, err
	}
	if got, err := h.Do("stat %s", r.Mark); err != nil || strings.Join(got, " ") != "file" {
		return r, fmt.Errorf("stat %s in the holder: %v, %v; want the file it wrote", r.Mark, got, err)
	}
	_, err = os.Lstat(r.Mark)
	r.MarkInHost = err == nil
	r.Missing, err = h.try("tmpfs %s %d", missingDir, r.KiB)
	return r, err
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

type propagationTypesReport struct {
	oneHolder             // holder H
	Peer           int    // its peer B (a TID of H)
	BindShared     result // B: BindMount(/tmp/shared, /tmp/copy-shared)
	BindUnbindable result // B: BindMount(/tmp/unbindable, /tmp/copy-unbindable)
	NotMount       result // H: SetPropagation(/tmp/plain, shared), a directory that is no mount point
	Unknown        result // H: SetPropagation(/tmp/shared, unknownType)
}

// unknownType is a propagation type that does not exist.
const unknownType = "sideways"

func runPropagationTypes(ctx context.Context, cleanup *lab.Cleanup) (r propagationTypesReport, err error) {
	h, err := heldWorkspace(ctx, cleanup, &r.oneHolder, ns.Mnt)
	if err != nil {
		return r, err
	}
	for _, w := range propagationWant {
		if err := h.must("mkdir /tmp/"+w.typ, "labtmpfs /tmp/"+w.typ); err != nil {
			return r, err
		}
		if _, err := h.call("prop /tmp/%s shared", w.typ); err != nil {
			return r, fmt.Errorf("SetPropagation(/tmp/%s, shared): %w", w.typ, err)
		}
	}
	if err := h.peer("b"); err != nil {
		return r, err
	}
	r.Peer = h.peers["b"]
	for _, w := range propagationWant {
		if _, err := h.call("@b prop /tmp/%s %s", w.typ, w.typ); err != nil {
			return r, fmt.Errorf("SetPropagation(/tmp/%s, %s) in the second namespace: %w", w.typ, w.typ, err)
		}
		dir := "/tmp/" + w.typ
		if err := h.must("mkdir "+dir+"/from-holder", "labtmpfs "+dir+"/from-holder", "mkdir "+dir+"/from-peer", "@b labtmpfs "+dir+"/from-peer"); err != nil {
			return r, err
		}
	}
	if err := h.must("mkdir /tmp/copy-shared", "mkdir /tmp/copy-unbindable"); err != nil {
		return r, err
	}
	if r.BindShared, err = h.try("@b bind /tmp/shared /tmp/copy-shared"); err != nil {
		return r, err
	}
	if r.BindUnbindable, err = h.try("@b bind /tmp/unbindable /tmp/copy-unbindable"); err != nil {
		return r, err
	}
	if err := h.must("mkdir /tmp/plain"); err != nil {
		return r, err
	}
	if r.NotMount, err = h.try("prop /tmp/plain shared"); err != nil {
		return r, err
	}
	r.Unknown, err = h.try("prop /tmp/shared %s", unknownType)
	return r, err
}

// roBind is one BindReadOnly of step 06.
type roBind struct {
	Source, Target string
	Write          result // creating a file in Target
}

type readOnlyBindReport struct {
	oneHolder // the holder, root in a user namespace of its own
	Binds     []roBind
	Missing   result    // BindReadOnly(missingDir, /tmp/ro-missing)
	Moved     []roMoved // binds whose target path leads elsewhere once bound
}

// roMoved is a BindReadOnly whose target is a path through ".." that the
// bind covers: once the bind is made, the same path leads elsewhere.
type roMoved struct {
	Source, Target string
	Covered        string // the directory the bind covers
	Got            result // what BindReadOnly returned
}

// movedTargets are the roMoved cases of step 06, each made by its set-up
// commands: after the bind on /tmp/wa, /tmp/wa/q/.. leads nowhere (statfs
// fails); after the one on /tmp/wb, it leads through the link q to
// /tmp/away, a directory that is no mount point (the remount fails).
var movedTargets = []struct {
	source, covered string
	setup           []string
}{
	{"/tmp/src-a", "/tmp/wa", []string{"mkdir /tmp/src-a", "mkdir /tmp/wa/q"}},
	{"/tmp/src-b", "/tmp/wb", []string{"mkdir /tmp/src-b", "mkdir /tmp/away/x", "labsymlink /tmp/away/x /tmp/src-b/q", "mkdir /tmp/wb/q"}},
}

func runReadOnlyBind(ctx context.Context, cleanup *lab.Cleanup) (r readOnlyBindReport, err error) {
	h, err := heldWorkspace(ctx, cleanup, &r.oneHolder, ns.User, ns.Mnt)
	if err != nil {
		return r, err
	}
	// A directory of the host's root file system, and the lab host's /dev/shm:
	// a tmpfs mounted nosuid,nodev in a more privileged mount namespace than
	// the holder's, so those flags are locked there.
	for i, source := range []string{"/usr", "/dev/shm"} {
		target := fmt.Sprintf("/tmp/ro-%d", i)
		if err := h.must("mkdir " + target); err != nil {
			return r, err
		}
		if _, err := h.call("robind %s %s", source, target); err != nil {
			why := ""
			if errors.Is(err, unix.EPERM) {
				why = " (EPERM: in a user namespace, the flags a mount got from a more privileged namespace are locked; the read-only remount must keep the nosuid, nodev, noexec and atime flags statfs(2) reports)"
			}
			return r, fmt.Errorf("BindReadOnly(%s, %s) in a holder that is root in a user namespace of its own: %w%s", source, target, err, why)
		}
		r.Binds = append(r.Binds, roBind{Source: source, Target: target, Write: resultOf(h.Do("write %s/nslab-probe x", target))})
	}
	return refusedReadOnly(h, r)
}

// refusedReadOnly calls BindReadOnly where the kernel refuses one of its
// calls: a source that does not exist, and the movedTargets.
func refusedReadOnly(h *nsHolder, r readOnlyBindReport) (readOnlyBindReport, error) {
	var err error
	if err := h.must("mkdir /tmp/ro-missing"); err != nil {
		return r, err
	}
	if r.Missing, err = h.try("robind %s /tmp/ro-missing", missingDir); err != nil {
		return r, err
	}
	for _, w := range movedTargets {
		m := roMoved{Source: w.source, Target: w.covered + "/q/..", Covered: w.covered}
		if m.Got, err = h.tryAfter(w.setup, "robind %s %s", m.Source, m.Target); err != nil {
			return r, err
		}
		r.Moved = append(r.Moved, m)
	}
	return r, nil
}

// borrowed is what the holder saw of one of HostDirs in its new root.
type borrowed struct {
	Dir   string
	Stat  result // stat of /tmp/root + Dir
	Write result // creating a file in it
}

type rootfsReport struct {
	oneHolder // the holder that called BuildRootfs(/tmp/root)
	Borrowed  []borrowed
	DevNull   result        // writing to /tmp/root/dev/null
	Refused   []refusedRoot // BuildRootfs where one of its calls fails
}

// refusedRoot is a BuildRootfs(Root) where one of the calls it makes fails
// with Errno.
type refusedRoot struct {
	Why, Root, Errno string
	Got              result
}

// refusedRoots are the refusedRoot cases of step 07 in the holder of the
// step, in order, each after its set-up commands: the lab refuses one
// mount point of its own helpers, then the holder's /dev is replaced by a
// tmpfs where zero is a directory (a bind of it on a file fails).
var refusedRoots = []struct {
	why, root, errno string
	setup            []string
}{
	{"a root that does not exist", missingDir, "ENOENT", nil},
	{"BorrowHostDirs refused on usr", "/tmp/r-usr", "ENOMEM", []string{"mkdir /tmp/r-usr", "labrefuse /tmp/r-usr/usr"}},
	{"mkdirMount refused on dev", "/tmp/r-dev", "ENOMEM", []string{"mkdir /tmp/r-dev", "labrefuse /tmp/r-dev/dev"}},
	{"mkdirMount refused on tmp", "/tmp/r-tmp", "ENOMEM", []string{"mkdir /tmp/r-tmp", "labrefuse /tmp/r-tmp/tmp"}},
	{"the host's /dev/zero a directory", "/tmp/r-zero", "ENOTDIR", []string{"labrefuse -", "mkdir /tmp/r-zero", "labtmpfs /dev", "mkdir /dev/zero"}},
}

func runRootfs(ctx context.Context, cleanup *lab.Cleanup) (r rootfsReport, err error) {
	h, err := heldWorkspace(ctx, cleanup, &r.oneHolder, ns.Mnt, ns.PID)
	if err != nil {
		return r, err
	}
	if err := h.must("mkdir /tmp/root"); err != nil {
		return r, err
	}
	if _, err := h.call("rootfs /tmp/root"); err != nil {
		return r, fmt.Errorf("BuildRootfs(/tmp/root): %w", err)
	}
	for _, dir := range HostDirs() {
		b := borrowed{Dir: dir, Stat: resultOf(h.Do("stat /tmp/root%s", dir))}
		if strings.Join(b.Stat.Words, " ") == "dir" {
			b.Write = resultOf(h.Do("write /tmp/root%s/nslab-probe x", dir))
		}
		r.Borrowed = append(r.Borrowed, b)
	}
	r.DevNull = resultOf(h.Do("write /tmp/root/dev/null discarded"))
	return refusedRootfs(ctx, cleanup, h, r)
}

// refusedRootfs calls BuildRootfs where the kernel, or the lab, refuses one
// of the calls it makes: the refusedRoots in h, then in a holder that is
// root in a user namespace of its own without a PID namespace of its own,
// where mounting proc fails with EPERM.
func refusedRootfs(ctx context.Context, cleanup *lab.Cleanup, h *nsHolder, r rootfsReport) (rootfsReport, error) {
	for _, w := range refusedRoots {
		got, err := h.tryAfter(w.setup, "rootfs %s", w.root)
		if err != nil {
			return r, err
		}
		r.Refused = append(r.Refused, refusedRoot{Why: w.why, Root: w.root, Errno: w.errno, Got: got})
	}
	u, err := workspace(ctx, cleanup, ns.User, ns.Mnt)
	if err != nil {
		return r, err
	}
	if err := u.must("mkdir /tmp/root"); err != nil {
		return r, err
	}
	got, err := u.try("rootfs /tmp/root")
	r.Refused = append(r.Refused, refusedRoot{Why: "in a user namespace without a PID namespace of its own (proc is refused)", Root: "/tmp/root", Errno: "EPERM", Got: got})
	return r, err
}

type pivotRootReport struct {
	oneHolder                   // the holder that called PivotRoot(/tmp/root)
	Stats     map[string]result // stat in the holder afterwards, by path
	Pwd       result            // /bin/sh -c pwd in the holder afterwards
	Before    []string          // what /tmp/root held before
	After     result            // ls / in the holder afterwards
	Refused   []refusedPivot    // PivotRoot where one of its calls fails
}

// refusedPivot is a PivotRoot(Root) where one of the calls it makes fails
// with Errno ("" for any error, or a pivot that worked all the same).
type refusedPivot struct {
	Why, Root, Errno string
	Got              result
	Hostname         result // stat /etc/hostname afterwards: ENOENT once pivoted
}

// refusedPivots are the refusedPivot cases of step 08, in order, in one
// holder, each after its set-up commands.
var refusedPivots = []struct {
	why, root, errno string
	setup            []string
}{
	{"an unbindable mount: the bind onto itself fails", "/tmp/ra", "EINVAL",
		[]string{"mkdir /tmp/ra", "labtmpfs /tmp/ra", "labprop /tmp/ra unbindable"}},
	{"under a shared /tmp: pivot_root fails", "/tmp/rb", "EINVAL",
		[]string{"mkdir /tmp/rb", "labroot /tmp/rb", "labprop /tmp shared"}},
	{"a read-only mount: no directory can be made in it", "/tmp/rc", "",
		[]string{"labprop /tmp private", "mkdir /tmp/rc", "labroot /tmp/rc", "labbind /tmp/rc /tmp/rc", "labro /tmp/rc"}},
}

// outOfReach are paths that must be gone after step 08's pivot.
var outOfReach = []string{"/etc/hostname", "/root", "/tmp/root"}

func runPivotRoot(ctx context.Context, cleanup *lab.Cleanup) (r pivotRootReport, err error) {
	h, err := heldWorkspace(ctx, cleanup, &r.oneHolder, ns.Mnt, ns.PID)
	if err != nil {
		return r, err
	}
	if err := h.must("mkdir /tmp/root", "labroot /tmp/root"); err != nil {
		return r, err
	}
	if r.Before, err = h.Do("ls /tmp/root"); err != nil {
		return r, err
	}
	if _, err := h.call("pivot /tmp/root"); err != nil {
		why := ""
		if errors.Is(err, unix.EINVAL) {
			why = " (EINVAL from pivot_root: is the new root a mount point? /tmp/root is a plain directory until it is bound onto itself)"
		}
		return r, fmt.Errorf("PivotRoot(/tmp/root): %w%s", err, why)
	}
	r.Stats = map[string]result{}
	for _, p := range outOfReach {
		r.Stats[p] = resultOf(h.Do("stat %s", p))
	}
	r.Pwd = resultOf(h.Do("exec /bin/sh -c pwd"))
	r.After = resultOf(h.Do("ls /"))
	r.Refused, err = pivotRefused(ctx, cleanup)
	return r, err
}

// pivotRefused calls PivotRoot where one of its calls fails: the
// refusedPivots, in a holder of their own, until one of them returns nil.
func pivotRefused(ctx context.Context, cleanup *lab.Cleanup) ([]refusedPivot, error) {
	h, err := workspace(ctx, cleanup, ns.Mnt, ns.PID)
	if err != nil {
		return nil, err
	}
	var out []refusedPivot
	for _, w := range refusedPivots {
		got, err := h.tryAfter(w.setup, "pivot %s", w.root)
		if err != nil {
			return out, err
		}
		out = append(out, refusedPivot{Why: w.why, Root: w.root, Errno: w.errno, Got: got, Hostname: resultOf(h.Do("stat /etc/hostname"))})
		if got.Err == "" {
			break // pivoted, or not: the holder is no longer the one the cases expect
		}
	}
	return out, nil
}

type teardownReport struct {
	oneHolder        // the holder that called Teardown(/tmp/t)
	Teardown  result // what Teardown returned
	Dir       result // stat /tmp/t afterwards
	Keep      result // stat /tmp/src/keep, bound on /tmp/t/c, afterwards
	Refused   []refusedTeardown
}

// refusedTeardown is a Teardown(Dir) where one of its calls fails with
// Errno; Kept is stat Dir/m/keep afterwards, a file on a tmpfs on Dir/m.
type refusedTeardown struct {
	Why, Dir, Errno string
	Got, Kept       result
}

// refusedTeardowns are the refusedTeardown cases of step 09, each run by
// the holder or its peer p (a thread in a copy of its mount namespace).
var refusedTeardowns = []struct {
	why, dir, errno, on string
	setup               []string
}{
	{"with a file open on /tmp/t1/m", "/tmp/t1", "EBUSY", "",
		[]string{"mkdir /tmp/t1/m", "labtmpfs /tmp/t1/m", "write /tmp/t1/m/keep kept", "labopen /tmp/t1/m/keep"}},
	{"with no /proc to read the mount table from", "/tmp/t2", "", "@p ",
		[]string{"mkdir /tmp/t2/m", "labtmpfs /tmp/t2/m", "write /tmp/t2/m/keep kept", "peer p", "@p labtmpfs /proc"}},
}

func runTeardown(ctx context.Context, cleanup *lab.Cleanup) (r teardownReport, err error) {
	h, err := heldWorkspace(ctx, cleanup, &r.oneHolder, ns.Mnt)
	if err != nil {
		return r, err
	}
	if err := h.must("mkdir /tmp/src", "mkdir /tmp/t/a", "mkdir /tmp/t/c", "mkdir /tmp/t/d/e",
		"write /tmp/src/keep kept", "labtmpfs /tmp/t/a", "mkdir /tmp/t/a/x", "labtmpfs /tmp/t/a/x",
		"labbind /tmp/src /tmp/t/c", "labtmpfs /tmp/t/d/e", "labtmpfs /tmp/t/d/e"); err != nil {
		return r, err
	}
	if r.Teardown, err = h.try("teardown /tmp/t"); err != nil {
		return r, err
	}
	r.Dir = resultOf(h.Do("stat /tmp/t"))
	r.Keep = resultOf(h.Do("stat /tmp/src/keep"))
	return teardownRefused(h, r)
}

// teardownRefused calls Teardown where one of its calls fails: the
// refusedTeardowns.
func teardownRefused(h *nsHolder, r teardownReport) (teardownReport, error) {
	for _, w := range refusedTeardowns {
		for _, cmd := range w.setup {
			if strings.HasPrefix(cmd, "peer ") {
				if err := h.peer(strings.TrimPrefix(cmd, "peer ")); err != nil {
					return r, err
				}
			} else if err := h.must(cmd); err != nil {
				return r, err
			}
		}
		got, err := h.try("%steardown %s", w.on, w.dir)
		if err != nil {
			return r, err
		}
		r.Refused = append(r.Refused, refusedTeardown{Why: w.why, Dir: w.dir, Errno: w.errno, Got: got, Kept: resultOf(h.Do("%sstat %s/m/keep", w.on, w.dir))})
	}
	return r, h.must("labclose")
}
