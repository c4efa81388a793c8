//go:build linux

package user

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/nslab/nslab/pkg/holder"
	"github.com/nslab/nslab/pkg/host"
	"github.com/nslab/nslab/pkg/lab"
	"github.com/nslab/nslab/pkg/ns"
	"github.com/nslab/nslab/pkg/spawn"
	"golang.org/x/sys/unix"
)

// The run halves of the steps: each calls the learner's code in the lab
// host and returns what it saw; the children the harness looks at stay
// alive until the check is over (cleanup). check.go makes the verdicts.
// Inside a lab host the runner is root of the lab host's user namespace;
// under NSLAB_BARE=1 it is whoever ran the lab, root or not.

// unmappedReport is what step 01 saw.
type unmappedReport struct {
	PID        int           // the Go child StartUnmapped started, alive
	Before     []spawn.IDMap // its uid_map, read by the runner while it was held
	Outside    Status        // its /proc/PID/status, read by the runner
	Inside     statusReport  // what it reported of itself once released
	Command    Status        // what cat /proc/self/status, started the same way, printed
	EUID, EGID int           // the runner's IDs
}

func runUnmapped(ctx context.Context, cleanup *lab.Cleanup) (r unmappedReport, err error) {
	r.EUID, r.EGID = os.Geteuid(), os.Getegid()
	t, err := holder.StartWith(ctx, spawn.Config{Entrypoint: entryStatus}, StartUnmapped)
	if err != nil {
		return r, fmt.Errorf("StartUnmapped: %w", err)
	}
	cleanup.Add(t.Stop)
	r.PID = t.PID()
	if t.Child().Released() {
		return r, fmt.Errorf("StartUnmapped returned child PID %d already released; want it held, so that the caller can write its maps or look at it before it runs (spawn.Start holds it; do not call Release, Run or Wait)", r.PID)
	}
	if r.Before, err = readIDMap(r.PID, "uid_map"); err != nil {
		return r, err
	}
	if r.Outside, err = readStatus(strconv.Itoa(r.PID)); err != nil {
		return r, err
	}
	if err := t.Report(&r.Inside); err != nil {
		return r, fmt.Errorf("the Go child of StartUnmapped: %w", err)
	}
	r.Command, err = commandStatus(ctx)
	return r, err
}

// commandStatus runs cat /proc/self/status through StartUnmapped.
func commandStatus(ctx context.Context) (Status, error) {
	var out bytes.Buffer
	var errs holder.SyncBuffer
	child, err := StartUnmapped(ctx, spawn.Config{Args: []string{"cat", "/proc/self/status"}, Stdout: &out, Stderr: &errs})
	if err != nil {
		return Status{}, fmt.Errorf("StartUnmapped(cat): %w", err)
	}
	if child == nil {
		return Status{}, errors.New("StartUnmapped(cat) returned no child and no error; want the *spawn.Child of spawn.Start")
	}
	defer child.Stop()
	err = child.Release()
	if err == nil {
		err = child.Wait()
	}
	if err != nil {
		return Status{}, fmt.Errorf("cat /proc/self/status started by StartUnmapped: %s (%w)", errs.String(), err)
	}
	return ParseStatus(out.String())
}

// mapReport is what step 02 saw: MapToRoot called by two writers.
type mapReport struct {
	Runner          mapping // by the runner (root, in the lab host)
	Writer          mapping // by a writer without capabilities (mapper.go)
	RunnerSetgroups string  // the runner's own /proc/self/setgroups
}

func runMapRoot(ctx context.Context, cleanup *lab.Cleanup) (r mapReport, err error) {
	if r.RunnerSetgroups, err = readSetgroups(os.Getpid()); err != nil {
		return r, err
	}
	m, t, err := mapHeld(ctx, fmt.Sprintf("the step's runner (UID %d, GID %d)", os.Geteuid(), os.Getegid()))
	if err != nil {
		return r, err
	}
	cleanup.Add(t.Stop)
	r.Runner = m
	w, stop, err := startMapper()
	if err != nil {
		return r, fmt.Errorf("%w (a writer without CAP_SETUID and CAP_SETGID in the parent user namespace may map only its own UID and GID, one line each, and must write \"deny\" to /proc/PID/setgroups before gid_map)", err)
	}
	cleanup.Add(stop)
	r.Writer = w
	return r, nil
}

// powerReport is what step 03 saw: two children, root in user namespaces of
// their own; the first made a UTS namespace too, the second kept the lab
// host's.
type powerReport struct {
	Name                      string         // the name the first child gave its UTS namespace
	Own, Shared               int            // the two children (alive)
	OwnGoverns, SharedGoverns bool           // Governs' answers: over the first's UTS namespace, over the lab host's
	UpGoverns                 bool           // Governs(the runner's user namespace, the first's UTS namespace)
	OwnTry, SharedTry         hostnameReport // what sethostname(2) did in each
	Leaked                    int            // files the runner had open after the Governs calls, and not before
	Limited                   refusal        // Governs(runner's, first's UTS) with room for one more open file only
	Closed                    refusal        // Governs with a closed target handle
}

func runOwnedPower(ctx context.Context, cleanup *lab.Cleanup) (r powerReport, err error) {
	gUser, err := ns.GuardArg(ns.User)
	if err != nil {
		return r, err
	}
	gUTS, err := ns.GuardArg(ns.UTS)
	if err != nil {
		return r, err
	}
	r.Name = labName("user-lab-")
	own, err := holder.Start(ctx, spawn.Config{New: []ns.Kind{ns.User, ns.UTS}, MapRoot: true, Entrypoint: entryHostname,
		Args: []string{"rename", gUser, gUTS, r.Name}})
	if err != nil {
		return r, err
	}
	cleanup.Add(own.Stop)
	shared, err := holder.Start(ctx, spawn.Config{New: []ns.Kind{ns.User}, MapRoot: true, Entrypoint: entryHostname,
		Args: []string{"same", gUser, gUTS, ""}})
	if err != nil {
		return r, err
	}
	cleanup.Add(shared.Stop)
	r.Own, r.Shared = own.PID(), shared.PID()
	if err := r.askGoverns(); err != nil {
		return r, err
	}
	if err := own.Report(&r.OwnTry); err != nil {
		return r, err
	}
	return r, shared.Report(&r.SharedTry)
}

// askGoverns asks Governs about the children's namespaces, counting the
// runner's open files around each call, then where the kernel refuses: with
// room for one more open file only (NS_GET_PARENT opens one), and with a
// closed handle.
func (r *powerReport) askGoverns() (err error) {
	self, err := ns.Open(ns.Self, ns.User)
	if err != nil {
		return err
	}
	defer self.Close()
	if r.OwnGoverns, err = r.governs(r.Own, nil); err != nil {
		return err
	}
	if r.SharedGoverns, err = r.governs(r.Shared, nil); err != nil {
		return err
	}
	if r.UpGoverns, err = r.governs(r.Own, self); err != nil {
		return err
	}
	uts, err := ns.Open(r.Own, ns.UTS)
	if err != nil {
		return err
	}
	r.Limited = refused(lab.WithOneMoreFile(func() error {
		_, err := Governs(self, uts)
		return err
	}))
	uts.Close()
	_, err = Governs(self, uts)
	r.Closed = refused(err)
	return nil
}

// governs asks Governs about process pid's UTS namespace and user, its
// user namespace when nil, and adds the files the call left open to
// r.Leaked.
func (r *powerReport) governs(pid int, user *ns.Handle) (bool, error) {
	if user == nil {
		own, err := ns.Open(pid, ns.User)
		if err != nil {
			return false, err
		}
		defer own.Close()
		user = own
	}
	uts, err := ns.Open(pid, ns.UTS)
	if err != nil {
		return false, err
	}
	defer uts.Close()
	return leakCounted(&r.Leaked, fmt.Sprintf("Governs(%s, %s)", user, uts), func() (bool, error) { return Governs(user, uts) })
}

// leakCounted calls the learner's fn (what, in its error) and adds the
// files it left open to *leaked.
func leakCounted[T any](leaked *int, what string, fn func() (T, error)) (T, error) {
	before := lab.OpenFiles()
	v, err := fn()
	*leaked += lab.OpenFiles() - before
	if err != nil {
		var zero T
		return zero, fmt.Errorf("%s: %w", what, err)
	}
	return v, nil
}

// labName returns prefix and 8 random hexadecimal digits: a name no other run uses.
func labName(prefix string) string {
	var b [4]byte
	rand.Read(b[:]) // never returns an error (crypto/rand)
	return prefix + hex.EncodeToString(b[:])
}

// filesBase: a root runner whose own user namespace holds the IDs 0 to
// 2*filesBase-1 (a lab host made by root does) maps 0 inside step 04's child
// to its own 0, and 1 to filesBase-1 inside to filesBase+1 and on: ID 1000
// inside is filesBase+1000 outside. Any other runner can map only itself.
const filesBase = 10000

// fileSeen is one file of step 04, seen from both sides.
type fileSeen struct {
	Inside                 fileReport // the child's stat(2)
	OutsidePath            string     // the same file, through /proc/PID/root
	OutsideUID, OutsideGID int        // its owner there, as the runner's stat(2) says
	ToUID, ToGID           int        // ToOutside of the child's maps
	OKUID, OKGID           bool
}

// probe is an ID the kernel would not give a file in step 04 (no line of
// the map holds it), with ToOutside's answers for it.
type probe struct {
	ID           int
	ToUID, ToGID int
	OKUID, OKGID bool
}

// filesReport is what step 04 saw.
type filesReport struct {
	PID            int // the child, root in a new user namespace, alive
	EUID, EGID     int // the runner's IDs
	UIDMap, GIDMap []spawn.IDMap
	Files          []fileSeen
	Unmapped       []probe
}

func runFileOwner(ctx context.Context, cleanup *lab.Cleanup) (r filesReport, err error) {
	r.EUID, r.EGID = os.Geteuid(), os.Getegid()
	uidMap, gidMap, ids := filesMaps()
	args := make([]string, len(ids))
	for i, id := range ids {
		args[i] = strconv.Itoa(id)
	}
	t, err := holder.Start(ctx, spawn.Config{New: []ns.Kind{ns.User, ns.Mnt}, UIDMap: uidMap, GIDMap: gidMap, Entrypoint: entryFiles, Args: args})
	if err != nil {
		return r, err
	}
	cleanup.Add(t.Stop)
	r.PID = t.PID()
	var made []fileReport
	if err := t.Report(&made); err != nil {
		return r, err
	}
	if r.UIDMap, err = readIDMap(r.PID, "uid_map"); err != nil {
		return r, err
	}
	if r.GIDMap, err = readIDMap(r.PID, "gid_map"); err != nil {
		return r, err
	}
	for _, f := range made {
		if f.Unmapped {
			p := probe{ID: f.ID}
			p.ToUID, p.OKUID = ToOutside(r.UIDMap, f.ID)
			p.ToGID, p.OKGID = ToOutside(r.GIDMap, f.ID)
			r.Unmapped = append(r.Unmapped, p)
			continue
		}
		seen := fileSeen{Inside: f, OutsidePath: filepath.Join(fmt.Sprintf("/proc/%d/root", r.PID), f.Path)}
		var st unix.Stat_t
		if err := unix.Stat(seen.OutsidePath, &st); err != nil {
			return r, fmt.Errorf("stat %s: %w", seen.OutsidePath, err)
		}
		seen.OutsideUID, seen.OutsideGID = int(st.Uid), int(st.Gid)
		seen.ToUID, seen.OKUID = ToOutside(r.UIDMap, f.UID)
		seen.ToGID, seen.OKGID = ToOutside(r.GIDMap, f.GID)
		r.Files = append(r.Files, seen)
	}
	return r, nil
}

// filesMaps returns the maps of step 04's child and the IDs it tries to
// give files: each ID a line holds, the ID just past each line, and 70000.
// The maps give only IDs that the runner's own user namespace holds: the
// kernel refuses (EPERM) a map of an ID unmapped in the parent namespace.
func filesMaps() (uid, gid []spawn.IDMap, ids []int) {
	euid, egid := os.Geteuid(), os.Getegid()
	own, err1 := readIDMap(os.Getpid(), "uid_map")
	ownG, err2 := readIDMap(os.Getpid(), "gid_map")
	if euid == 0 && egid == 0 && err1 == nil && err2 == nil && holds(own, 2*filesBase) && holds(ownG, 2*filesBase) {
		m := []spawn.IDMap{{ContainerID: 0, HostID: 0, Size: 1}, {ContainerID: 1, HostID: filesBase + 1, Size: filesBase - 1}}
		return m, m, []int{0, 1, 1000, filesBase - 1, filesBase, 70000}
	}
	return []spawn.IDMap{{ContainerID: 0, HostID: euid, Size: 1}}, []spawn.IDMap{{ContainerID: 0, HostID: egid, Size: 1}}, []int{0, 1, 1000, 70000}
}

// holds reports whether one line of m holds the IDs 0 to n-1.
func holds(m []spawn.IDMap, n int) bool {
	for _, l := range m {
		if l.ContainerID == 0 && l.Size >= n {
			return true
		}
	}
	return false
}

// nestDepth is how many user namespaces step 05 nests below the runner's.
const nestDepth = 3

// level is one process of step 05's nest of user namespaces.
type level struct {
	PID  int
	User ns.ID // its user namespace, read from /proc/PID/ns/user
}

// nestReport is what step 05 saw.
type nestReport struct {
	Self    ns.ID               // the runner's user namespace
	EUID    int                 // the runner's UID
	Levels  []level             // from the top down, alive; the last is in a new UTS namespace too
	Chain   []Owner             // OwnerChain(bottom, uts)
	Chains  map[ns.Kind][]Owner // OwnerChain(bottom, k) for every other kind
	Kinds   []ns.Kind           // the kinds of Chains, in order
	Leaked  int                 // files the runner had open after the OwnerChain calls, and not before
	Missing refusal             // OwnerChain of a PID that no process has
	Limited refusal             // OwnerChain(bottom, uts) with room for one more open file only
}

func runOwnership(ctx context.Context, cleanup *lab.Cleanup) (r nestReport, err error) {
	r.EUID = os.Geteuid()
	if r.Self, err = ns.Get(ns.Self, ns.User); err != nil {
		return r, err
	}
	top, err := holder.Start(ctx, nestConfig(nestDepth-1, nil, nil, nil))
	if err != nil {
		return r, err
	}
	cleanup.Add(top.Stop) // the bottom exits at the end of its input, then every level above it
	if err := top.Release(); err != nil {
		return r, err
	}
	if r.Levels, err = readLevels(top, nestDepth); err != nil {
		return r, err
	}
	return r, walk(&r)
}

// readLevels reads the PIDs the levels of the nest print, from the top down.
func readLevels(nest *holder.Holder, depth int) ([]level, error) {
	var levels []level
	for len(levels) < depth {
		line, err := nest.Next()
		if err != nil {
			return levels, fmt.Errorf("the nest printed %d PIDs, want %d: %w", len(levels), depth, err)
		}
		pid, err := strconv.Atoi(strings.TrimSpace(line))
		if err != nil {
			return levels, fmt.Errorf("read a PID from the nest: %q", line)
		}
		id, err := ns.Get(pid, ns.User)
		if err != nil {
			return levels, err
		}
		levels = append(levels, level{PID: pid, User: id})
	}
	return levels, nil
}

// walk calls OwnerChain for the bottom process: for its UTS namespace, and
// for every other kind; then where the kernel refuses: for a PID that no
// process has, and with room for one more open file only (NS_GET_USERNS
// opens one).
func walk(r *nestReport) (err error) {
	bottom := r.Levels[len(r.Levels)-1].PID
	if r.Chain, err = r.ownerChain(bottom, ns.UTS); err != nil {
		return err
	}
	r.Chains = map[ns.Kind][]Owner{}
	for _, k := range ns.Kinds() {
		if k != k.Base() || k == ns.UTS || !ns.Supported(k) {
			continue
		}
		if r.Chains[k], err = r.ownerChain(bottom, k); err != nil {
			return err
		}
		r.Kinds = append(r.Kinds, k)
	}
	pidMax, err := host.ReadInt("/proc/sys/kernel/pid_max") // PIDs are below it
	if err != nil {
		return err
	}
	_, err = OwnerChain(pidMax, ns.UTS)
	r.Missing = refused(err)
	r.Limited = refused(lab.WithOneMoreFile(func() error {
		_, err := OwnerChain(bottom, ns.UTS)
		return err
	}))
	return nil
}

// ownerChain calls OwnerChain and adds the files it left open to r.Leaked.
func (r *nestReport) ownerChain(pid int, k ns.Kind) ([]Owner, error) {
	return leakCounted(&r.Leaked, fmt.Sprintf("OwnerChain(%d, %s)", pid, k), func() ([]Owner, error) { return OwnerChain(pid, k) })
}
