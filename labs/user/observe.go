//go:build linux

package user

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"

	"github.com/nslab/nslab/pkg/ns"
	"github.com/nslab/nslab/pkg/spawn"
	"golang.org/x/sys/unix"
)

// UnmappedReport is what step 01 saw.
type UnmappedReport struct {
	Child      ns.Set        // the Go child's namespaces, read while it was held
	MapOutside []spawn.IDMap // its uid_map read from outside before it ran: empty
	Outside    Status        // its /proc/PID/status read from outside
	Inside     Report        // what it reported of itself
	Command    Status        // an external command's /proc/self/status, run the same way
}

// Unmapped starts a Go child and then an external command through
// StartUnmapped (step 01) and reports what each sees of itself.
func Unmapped(ctx context.Context) (r UnmappedReport, err error) {
	var out, errs bytes.Buffer
	child, err := StartUnmapped(ctx, spawn.Config{Entrypoint: entryStatus, Stdout: &out, Stderr: &errs})
	if err != nil {
		return r, fmt.Errorf("StartUnmapped: %w", err)
	}
	defer child.Stop()
	if r.Child, err = child.Namespaces(); err != nil {
		return r, err
	}
	if r.MapOutside, err = ReadIDMap(child.PID(), "uid_map"); err != nil {
		return r, err
	}
	if r.Outside, err = ReadStatus(strconv.Itoa(child.PID())); err != nil {
		return r, err
	}
	if err := finish(child, &errs); err != nil {
		return r, err
	}
	if err := json.Unmarshal(out.Bytes(), &r.Inside); err != nil {
		return r, fmt.Errorf("read the child's report %q: %w", out.String(), err)
	}
	r.Command, err = commandStatus(ctx)
	return r, err
}

// commandStatus runs cat /proc/self/status through StartUnmapped.
func commandStatus(ctx context.Context) (Status, error) {
	var out, errs bytes.Buffer
	child, err := StartUnmapped(ctx, spawn.Config{Args: []string{"cat", "/proc/self/status"}, Stdout: &out, Stderr: &errs})
	if err != nil {
		return Status{}, fmt.Errorf("StartUnmapped(cat): %w", err)
	}
	defer child.Stop()
	if err := finish(child, &errs); err != nil {
		return Status{}, err
	}
	return ParseStatus(out.String())
}

// finish releases a held child and waits for it; its stderr explains a failure.
func finish(child *spawn.Child, errs *bytes.Buffer) error {
	err := child.Release()
	if err == nil {
		err = child.Wait()
	}
	if err != nil {
		return fmt.Errorf("%s (%w)", strings.TrimSpace(errs.String()), err)
	}
	return nil
}

// MapReport is what step 02 saw.
type MapReport struct {
	Child          ns.Set
	Before         []spawn.IDMap // uid_map before MapToRoot
	UIDMap, GIDMap []spawn.IDMap // after it, read from outside
	Setgroups      string        // /proc/PID/setgroups after it
	Again          error         // writing uid_map a second time
	Inside         Report        // what the child reported once released
}

// Mapped starts a child in a new user namespace without maps, held, maps
// the caller to root in it with MapToRoot (step 02), tries to write the map
// a second time, and lets the child report its IDs.
func Mapped(ctx context.Context) (r MapReport, err error) {
	var out, errs bytes.Buffer
	child, err := spawn.Start(ctx, spawn.Config{New: []ns.Kind{ns.User}, Entrypoint: entryStatus, Stdout: &out, Stderr: &errs})
	if err != nil {
		return r, err
	}
	defer child.Stop()
	pid := child.PID()
	if r.Child, err = child.Namespaces(); err != nil {
		return r, err
	}
	if r.Before, err = ReadIDMap(pid, "uid_map"); err != nil {
		return r, err
	}
	if err := MapToRoot(pid, os.Geteuid(), os.Getegid()); err != nil {
		return r, fmt.Errorf("MapToRoot(%d, %d, %d): %w", pid, os.Geteuid(), os.Getegid(), err)
	}
	if err := readMaps(pid, &r.UIDMap, &r.GIDMap); err != nil {
		return r, err
	}
	b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/setgroups", pid))
	r.Setgroups = strings.TrimSpace(string(b))
	r.Again = os.WriteFile(fmt.Sprintf("/proc/%d/uid_map", pid), fmt.Appendf(nil, "0 %d 1\n", os.Geteuid()), 0)
	if err := finish(child, &errs); err != nil {
		return r, err
	}
	if err := json.Unmarshal(out.Bytes(), &r.Inside); err != nil {
		return r, fmt.Errorf("read the child's report %q: %w", out.String(), err)
	}
	return r, nil
}

func readMaps(pid int, uid, gid *[]spawn.IDMap) (err error) {
	if *uid, err = ReadIDMap(pid, "uid_map"); err != nil {
		return err
	}
	*gid, err = ReadIDMap(pid, "gid_map")
	return err
}

// PowerReport is what step 03 saw: two children, root in user namespaces of
// their own; one made a UTS namespace too, the other kept the host's.
type PowerReport struct {
	Name                   string         // the name the first child gave its UTS namespace
	Own, Shared            ns.Set         // the two children's namespaces
	OwnGoverns, HostGovern bool           // Governs' answers: over its own UTS namespace, over the host's
	OwnTry, HostTry        HostnameReport // what sethostname(2) did in each
}

// Power asks Governs (step 03) whether each child has power over its UTS
// namespace, then lets each call sethostname(2) to see what the kernel says.
func Power(ctx context.Context) (r PowerReport, err error) {
	gUser, err := guard(ns.User)
	if err != nil {
		return r, err
	}
	gUTS, err := guard(ns.UTS)
	if err != nil {
		return r, err
	}
	r.Name = labName("user-lab-")
	var ownOut, hostOut, errs syncBuffer
	own, err := spawn.Start(ctx, spawn.Config{New: []ns.Kind{ns.User, ns.UTS}, MapRoot: true, Entrypoint: entryHostname,
		Args: []string{"rename", gUser, gUTS, r.Name}, Stdout: &ownOut, Stderr: &errs})
	if err != nil {
		return r, err
	}
	defer own.Stop()
	host, err := spawn.Start(ctx, spawn.Config{New: []ns.Kind{ns.User}, MapRoot: true, Entrypoint: entryHostname,
		Args: []string{"same", gUser, gUTS, ""}, Stdout: &hostOut, Stderr: &errs})
	if err != nil {
		return r, err
	}
	defer host.Stop()
	if r.Own, r.OwnGoverns, err = governs(own.PID()); err != nil {
		return r, err
	}
	if r.Shared, r.HostGovern, err = governs(host.PID()); err != nil {
		return r, err
	}
	if err := tryHostname(own, &ownOut, &errs, &r.OwnTry); err != nil {
		return r, err
	}
	return r, tryHostname(host, &hostOut, &errs, &r.HostTry)
}

// governs reads process pid's namespaces and asks Governs about its user and UTS namespaces.
func governs(pid int) (set ns.Set, ok bool, err error) {
	if set, err = ns.Of(pid); err != nil {
		return set, false, err
	}
	user, err := ns.Open(pid, ns.User)
	if err != nil {
		return set, false, err
	}
	defer user.Close()
	uts, err := ns.Open(pid, ns.UTS)
	if err != nil {
		return set, false, err
	}
	defer uts.Close()
	ok, err = Governs(user, uts)
	if err != nil {
		return set, false, fmt.Errorf("Governs(%s, %s): %w", user, uts, err)
	}
	return set, ok, nil
}

func tryHostname(child *spawn.Child, out, errs *syncBuffer, r *HostnameReport) error {
	err := child.Release()
	if err == nil {
		err = child.Wait()
	}
	if err != nil {
		return fmt.Errorf("%s (%w)", errs.String(), err)
	}
	return json.Unmarshal([]byte(out.String()), r)
}

// labName returns prefix and 8 random hexadecimal digits: a name no other run uses.
func labName(prefix string) string {
	var b [4]byte
	rand.Read(b[:]) // never returns an error (crypto/rand)
	return prefix + hex.EncodeToString(b[:])
}

// RootBase is where a root caller maps the IDs 1-65535 of step 04's child:
// ID 1000 inside is RootBase+1000 outside. An unprivileged caller can map only itself.
const RootBase = 100000

// FileSeen is one file of step 04, seen from both sides.
type FileSeen struct {
	Inside      FileReport // the child's stat(2)
	OutsidePath string     // the same file from outside, through /proc/PID/root
	OutsideUID  int        // the owner there
	OutsideGID  int
}

// FilesReport is what step 04 saw.
type FilesReport struct {
	Child          ns.Set
	UIDMap, GIDMap []spawn.IDMap // the child's maps, read from outside
	Files          []FileSeen
}

// Files starts a child that is root in a new user namespace and makes files
// on a tmpfs in its own mount namespace, then looks at them from outside.
func Files(ctx context.Context) (r FilesReport, err error) {
	inR, inW, err := os.Pipe()
	if err != nil {
		return r, fmt.Errorf("make a pipe for the child's stdin: %w", err)
	}
	defer inW.Close()
	defer inR.Close()
	var errs syncBuffer
	outR, outW, err := os.Pipe()
	if err != nil {
		return r, fmt.Errorf("make a pipe for the child's stdout: %w", err)
	}
	defer outR.Close()
	cfg := spawn.Config{New: []ns.Kind{ns.User, ns.Mnt}, MapRoot: true, Entrypoint: entryFiles, Stdin: inR, Stdout: outW, Stderr: &errs}
	if os.Geteuid() == 0 {
		cfg.UIDMap = []spawn.IDMap{{ContainerID: 0, HostID: 0, Size: 1}, {ContainerID: 1, HostID: RootBase + 1, Size: 65535}}
		cfg.GIDMap = cfg.UIDMap
	}
	child, err := spawn.Start(ctx, cfg)
	outW.Close()
	if err != nil {
		return r, err
	}
	defer child.Stop()
	if err := child.Release(); err != nil {
		return r, err
	}
	if err := lookOutside(child.PID(), &r, outR, &errs); err != nil {
		return r, err
	}
	inW.Close() // the child exits at the end of its input; its tmpfs goes with its mount namespace
	return r, child.Wait()
}

// lookOutside reads the child's report of the files it made, then stats each
// through /proc/PID/root, which shows the child's mount namespace.
func lookOutside(pid int, r *FilesReport, out io.Reader, errs *syncBuffer) (err error) {
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		return fmt.Errorf("read the report of the child PID %d: %w (%s)", pid, err, errs.String())
	}
	var made []FileReport
	if err := json.Unmarshal([]byte(line), &made); err != nil {
		return fmt.Errorf("read the report %q of the child PID %d: %w", line, pid, err)
	}
	if r.Child, err = ns.Of(pid); err != nil {
		return err
	}
	if err := readMaps(pid, &r.UIDMap, &r.GIDMap); err != nil {
		return err
	}
	for _, f := range made {
		seen := FileSeen{Inside: f, OutsidePath: filepath.Join(fmt.Sprintf("/proc/%d/root", pid), f.Path)}
		var st unix.Stat_t
		if err := unix.Stat(seen.OutsidePath, &st); err != nil {
			return fmt.Errorf("stat %s: %w", seen.OutsidePath, err)
		}
		seen.OutsideUID, seen.OutsideGID = int(st.Uid), int(st.Gid)
		r.Files = append(r.Files, seen)
	}
	return nil
}

// Level is one process of step 05's nest of user namespaces.
type Level struct {
	PID  int
	User ns.ID // its user namespace, read from /proc/PID/ns/user
}

// NestReport is what step 05 saw.
type NestReport struct {
	Self   ns.ID             // the caller's user namespace
	Levels []Level           // from the top down; the last is also in a new UTS namespace
	Chain  []Owner           // OwnerChain(bottom, uts)
	Owners map[ns.Kind]ns.ID // the first owner OwnerChain gives for each other kind of the bottom process
	Kinds  []ns.Kind         // the kinds of Owners, in order
}

// Nest starts depth processes, each in a new user namespace inside the one
// above, the last in a new UTS namespace too, and walks the ownership up
// from the bottom with OwnerChain (step 05).
func Nest(ctx context.Context, depth int) (r NestReport, err error) {
	if r.Self, err = ns.Get(ns.Self, ns.User); err != nil {
		return r, err
	}
	inR, inW, err := os.Pipe()
	if err != nil {
		return r, fmt.Errorf("make a pipe for the nest's stdin: %w", err)
	}
	defer inW.Close()
	defer inR.Close()
	outR, outW, err := os.Pipe()
	if err != nil {
		return r, fmt.Errorf("make a pipe for the nest's stdout: %w", err)
	}
	defer outR.Close()
	var errs syncBuffer
	top, err := spawn.Start(ctx, nestConfig(depth-1, inR, outW, &errs))
	outW.Close()
	if err != nil {
		return r, err
	}
	defer top.Stop()
	if err := top.Release(); err != nil {
		return r, err
	}
	if r.Levels, err = readLevels(outR, depth, &errs); err != nil {
		return r, err
	}
	if err := walk(&r); err != nil {
		return r, err
	}
	inW.Close() // the bottom exits at the end of its input, then every level above it
	return r, top.Wait()
}

func readLevels(out io.Reader, depth int, errs *syncBuffer) ([]Level, error) {
	sc := bufio.NewScanner(out)
	var levels []Level
	for len(levels) < depth && sc.Scan() {
		pid, err := strconv.Atoi(strings.TrimSpace(sc.Text()))
		if err != nil {
			return levels, fmt.Errorf("read a PID from the nest: %q", sc.Text())
		}
		id, err := ns.Get(pid, ns.User)
		if err != nil {
			return levels, err
		}
		levels = append(levels, Level{PID: pid, User: id})
	}
	if len(levels) < depth {
		return levels, fmt.Errorf("the nest printed %d PIDs, want %d: %s", len(levels), depth, errs.String())
	}
	return levels, nil
}

// walk calls OwnerChain for the bottom process: for its UTS namespace in
// full, and for the first owner of every other kind.
func walk(r *NestReport) (err error) {
	bottom := r.Levels[len(r.Levels)-1].PID
	if r.Chain, err = OwnerChain(bottom, ns.UTS); err != nil {
		return fmt.Errorf("OwnerChain(%d, uts): %w", bottom, err)
	}
	r.Owners = map[ns.Kind]ns.ID{}
	for _, k := range ns.Kinds {
		if k != k.Base() || k == ns.UTS || !ns.Supported(k) {
			continue
		}
		chain, err := OwnerChain(bottom, k)
		if err != nil {
			return fmt.Errorf("OwnerChain(%d, %s): %w", bottom, k, err)
		}
		if len(chain) > 0 {
			r.Owners[k] = chain[0].ID
		}
		r.Kinds = append(r.Kinds, k)
	}
	return nil
}

// syncBuffer is a bytes.Buffer that os/exec may write while the lab reads it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return strings.TrimSpace(s.b.String())
}
