//go:build linux

package user_test

import (
	"errors"
	"os"
	"slices"
	"testing"

	"github.com/nslab/nslab/labs/user"
	"github.com/nslab/nslab/pkg/lab"
	"github.com/nslab/nslab/pkg/lab/labtest"
	"github.com/nslab/nslab/pkg/ns"
	"github.com/nslab/nslab/pkg/spawn"
	"golang.org/x/sys/unix"
)

func TestMain(m *testing.M) { labtest.Main(m) }

func TestUser(t *testing.T) {
	labtest.Need(t, ns.User)
	labtest.Steps(t, user.Lab, testUnmapped, testMapRoot, testOwnedPower, testFileOwner, testOwnership)
}

func testUnmapped(t *testing.T) {
	t.Parallel()
	r, err := user.Unmapped(t.Context())
	if err != nil {
		labtest.Failf(t, user.Lab, "01", "start children in a new user namespace without maps: %v", err)
	}
	host, err := ns.Of(ns.Self)
	if err != nil {
		t.Fatal(err)
	}
	if err := lab.CheckNewKinds(host, r.Child, ns.User); err != nil {
		labtest.Failf(t, user.Lab, "01", "%v", err)
	}
	if len(r.MapOutside) != 0 {
		labtest.Failf(t, user.Lab, "01", "/proc/%d/uid_map holds %v before the child ran; want it empty (no MapRoot, UIDMap or GIDMap)", r.Child.PID, r.MapOutside)
	}
	if r.Inside.Getuid != user.OverflowUID() || r.Inside.Getgid != user.OverflowGID() || r.Inside.Status.UID != user.OverflowUID() {
		labtest.Failf(t, user.Lab, "01", "inside, getuid/getgid = %d/%d and status Uid %d; want the overflow IDs %d/%d of an unmapped namespace", r.Inside.Getuid, r.Inside.Getgid, r.Inside.Status.UID, user.OverflowUID(), user.OverflowGID())
	}
	if r.Inside.Status.CapEff != user.FullCaps() {
		labtest.Failf(t, user.Lab, "01", "inside, CapEff = %016x; want every capability, %016x (the creator of a user namespace has them all in it)", r.Inside.Status.CapEff, user.FullCaps())
	}
	if r.Command.CapEff != 0 || r.Command.UID != user.OverflowUID() {
		labtest.Failf(t, user.Lab, "01", "an external command run unmapped has Uid %d and CapEff %016x; want %d and none (execve(2) drops them for a UID that is not 0)", r.Command.UID, r.Command.CapEff, user.OverflowUID())
	}
	if r.Outside.UID != os.Geteuid() || r.Outside.GID != os.Getegid() {
		labtest.Failf(t, user.Lab, "01", "outside, /proc/%d/status says Uid %d Gid %d; want the caller's %d %d", r.Child.PID, r.Outside.UID, r.Outside.GID, os.Geteuid(), os.Getegid())
	}
}

func testMapRoot(t *testing.T) {
	t.Parallel()
	r, err := user.Mapped(t.Context())
	if err != nil {
		labtest.Failf(t, user.Lab, "02", "map the caller to root in a held child: %v", err)
	}
	if len(r.Before) != 0 {
		labtest.Failf(t, user.Lab, "02", "the child had a uid_map %v before MapToRoot; the lab leaves it unwritten", r.Before)
	}
	want := []spawn.IDMap{{ContainerID: 0, HostID: os.Geteuid(), Size: 1}}
	if !slices.Equal(r.UIDMap, want) {
		labtest.Failf(t, user.Lab, "02", "after MapToRoot, /proc/%d/uid_map is %v; want %v (\"0 UID 1\")", r.Child.PID, r.UIDMap, want)
	}
	want[0].HostID = os.Getegid()
	if !slices.Equal(r.GIDMap, want) {
		labtest.Failf(t, user.Lab, "02", "after MapToRoot, /proc/%d/gid_map is %v; want %v (without root, write \"deny\" to setgroups first)", r.Child.PID, r.GIDMap, want)
	}
	if os.Geteuid() != 0 && r.Setgroups != "deny" {
		labtest.Failf(t, user.Lab, "02", "/proc/%d/setgroups is %q; want deny, which the kernel asks of an unprivileged writer of gid_map", r.Child.PID, r.Setgroups)
	}
	if !errors.Is(r.Again, unix.EPERM) {
		labtest.Failf(t, user.Lab, "02", "a second write to uid_map returned %v; want EPERM: a map is written once", r.Again)
	}
	if r.Inside.Getuid != 0 || r.Inside.Getgid != 0 || r.Inside.Status.CapEff != user.FullCaps() {
		labtest.Failf(t, user.Lab, "02", "inside, getuid %d getgid %d CapEff %016x; want root with every capability", r.Inside.Getuid, r.Inside.Getgid, r.Inside.Status.CapEff)
	}
}

func testOwnedPower(t *testing.T) {
	t.Parallel()
	r, err := user.Power(t.Context())
	if err != nil {
		labtest.Failf(t, user.Lab, "03", "ask Governs about two children and let them call sethostname: %v", err)
	}
	if !r.OwnGoverns {
		labtest.Failf(t, user.Lab, "03", "Governs(its user namespace, its own new UTS namespace) = false; want true: the namespace is owned by that user namespace (NS_GET_USERNS)")
	}
	if r.HostGovern {
		labtest.Failf(t, user.Lab, "03", "Governs(a new user namespace, the host's UTS namespace) = true; want false: the host's is owned by the caller's user namespace, an ancestor, not a descendant")
	}
	if r.OwnTry.Err != "" || r.OwnTry.After != r.Name {
		labtest.Failf(t, user.Lab, "03", "root in a new user namespace renamed its own new UTS namespace to %q: got %q, %s; want the kernel to allow it", r.Name, r.OwnTry.After, r.OwnTry.Err)
	}
	if !r.HostTry.EPERM {
		labtest.Failf(t, user.Lab, "03", "root in a new user namespace calling sethostname in the host's UTS namespace got %q; want EPERM", orOK(r.HostTry.Err))
	}
}

func orOK(s string) string {
	if s == "" {
		return "success"
	}
	return s
}

func testFileOwner(t *testing.T) {
	t.Parallel()
	r, err := user.Files(t.Context())
	if err != nil {
		labtest.Failf(t, user.Lab, "04", "let root in a new user namespace make files: %v", err)
	}
	if len(r.Files) == 0 || r.Files[0].Inside.UID != 0 {
		labtest.Failf(t, user.Lab, "04", "the child made %v; want a file owned by root inside", r.Files)
	}
	if r.Files[0].OutsideUID != os.Geteuid() || r.Files[0].OutsideGID != os.Getegid() {
		labtest.Failf(t, user.Lab, "04", "root's file %s is owned by %d:%d outside; want the caller, %d:%d", r.Files[0].OutsidePath, r.Files[0].OutsideUID, r.Files[0].OutsideGID, os.Geteuid(), os.Getegid())
	}
	for _, f := range r.Files {
		uid, ok := user.ToOutside(r.UIDMap, f.Inside.UID)
		if !ok || uid != f.OutsideUID {
			labtest.Failf(t, user.Lab, "04", "ToOutside(%v, %d) = %d, %v; want %d, true: the owner stat(2) shows outside for %s", r.UIDMap, f.Inside.UID, uid, ok, f.OutsideUID, f.OutsidePath)
		}
		gid, ok := user.ToOutside(r.GIDMap, f.Inside.GID)
		if !ok || gid != f.OutsideGID {
			labtest.Failf(t, user.Lab, "04", "ToOutside(%v, %d) = %d, %v; want %d, true (the group of %s)", r.GIDMap, f.Inside.GID, gid, ok, f.OutsideGID, f.OutsidePath)
		}
	}
	if id, ok := user.ToOutside(r.UIDMap, 70000); ok {
		labtest.Failf(t, user.Lab, "04", "ToOutside(%v, 70000) = %d, true; want false: no line maps 70000", r.UIDMap, id)
	}
}

func testOwnership(t *testing.T) {
	t.Parallel()
	r, err := user.Nest(t.Context(), user.NestDepth)
	if err != nil {
		labtest.Failf(t, user.Lab, "05", "walk the owners up from %d nested user namespaces: %v", user.NestDepth, err)
	}
	if len(r.Chain) != user.NestDepth+1 {
		labtest.Failf(t, user.Lab, "05", "OwnerChain(bottom, uts) has %d user namespaces %v; want %d: the bottom's, the %d above it, and the caller's (then ns.ErrOutsideScope ends it)", len(r.Chain), r.Chain, user.NestDepth+1, user.NestDepth-1)
	}
	for i, o := range r.Chain {
		want := r.Self
		if i < len(r.Levels) {
			want = r.Levels[len(r.Levels)-1-i].User
		}
		if !o.ID.Equal(want) {
			labtest.Failf(t, user.Lab, "05", "OwnerChain(bottom, uts)[%d] = %s; want %s (/proc/PID/ns/user of level %d)", i, o.ID, want, len(r.Levels)-i)
		}
		if i < len(r.Levels) && o.UID != os.Geteuid() {
			labtest.Failf(t, user.Lab, "05", "OwnerChain(bottom, uts)[%d] was made by UID %d; want the caller's %d (NS_GET_OWNER_UID)", i, o.UID, os.Geteuid())
		}
	}
	for _, k := range r.Kinds {
		want := r.Self
		if k == ns.User {
			want = r.Levels[len(r.Levels)-2].User
		}
		if !r.Owners[k].Equal(want) {
			labtest.Failf(t, user.Lab, "05", "OwnerChain(bottom, %s) starts with %s; want %s", k, r.Owners[k], want)
		}
	}
}
