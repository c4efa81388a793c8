//go:build linux

package user

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"

	"github.com/nslab/nslab/pkg/lab"
	"github.com/nslab/nslab/pkg/ns"
	"github.com/nslab/nslab/pkg/spawn"
	"golang.org/x/sys/unix"
)

// NestDepth is how many user namespaces step 05 nests below the caller's.
const NestDepth = 3

// Lab is the user namespace lab, registered with pkg/lab.
var Lab = &lab.Lab{
	Name:    "user",
	Title:   "User namespaces: root inside, yourself outside",
	Summary: "   A user namespace maps user and group IDs, and decides which capabilities a process has over which other namespaces.",
	Steps: []*lab.Step{
		{
			ID: "01", Slug: "unmapped", Title: "Before any map: nobody, with every capability", Points: 10,
			Explain: "clone(2) with CLONE_NEWUSER gives the child a full set of capabilities in a user namespace where no ID is mapped yet.",
			Hints: []string{
				"spawn.Start with ns.User in Config.New; leave MapRoot, UIDMap and GIDMap unset, so that no map is written.",
				"cfg.New = []ns.Kind{ns.User}; cfg.MapRoot, cfg.UIDMap, cfg.GIDMap = false, nil, nil; return spawn.Start(ctx, cfg)",
			},
			Run: runUnmapped,
		},
		{
			ID: "02", Slug: "map_root", Title: "Mapping yourself to root", Points: 10,
			Explain: "the parent writes /proc/PID/uid_map, then setgroups (deny) and gid_map; each map can be written once.",
			Hints: []string{
				"Each map file takes lines of three numbers: the first ID inside, the first ID outside, how many.",
				"Write \"0 UID 1\" to /proc/PID/uid_map; without root write \"deny\" to /proc/PID/setgroups before gid_map.",
				"os.WriteFile(fmt.Sprintf(\"/proc/%d/uid_map\", pid), []byte(fmt.Sprintf(\"0 %d 1\\n\", uid)), 0), and likewise for the others.",
			},
			Run: runMapRoot,
		},
		{
			ID: "03", Slug: "owned_power", Title: "Root inside rules only what its namespace owns", Points: 10,
			Explain: "sethostname(2) needs CAP_SYS_ADMIN in the user namespace that owns the UTS namespace, not in the caller's own.",
			Hints: []string{
				"Handle.UserNS (NS_GET_USERNS) gives the owner of a namespace; Handle.Parent (NS_GET_PARENT) the parent of a user namespace.",
				"Compare IDs with ns.ID.Equal; walk up from the owner with Parent until you meet user, or get ns.ErrOutsideScope (answer false).",
				"owner, _ := target.UserNS(); loop: if owner.ID().Equal(user.ID()) return true; owner, err = owner.Parent(); errors.Is(err, ns.ErrOutsideScope) means false. Close each handle.",
			},
			Run: runOwnedPower,
		},
		{
			ID: "04", Slug: "file_owner", Title: "Root's files belong to you", Points: 10,
			Explain: "a file made by root inside is owned, outside, by the ID that the map gives for 0: the caller's, for a rootless map.",
			Hints: []string{
				"Find the line whose range [ContainerID, ContainerID+Size) holds id.",
				"outside = HostID + (id - ContainerID); no such line: return -1, false.",
			},
			Run: runFileOwner,
		},
		{
			ID: "05", Slug: "ownership", Title: "Every namespace has an owner", Points: 10,
			Explain: "NS_GET_USERNS names the user namespace that owns any namespace; NS_GET_PARENT climbs user namespaces up to the top of the caller's scope.",
			Hints: []string{
				"ns.Open(pid, k), then UserNS(), then Parent() again and again; OwnerUID() on each user namespace.",
				"Stop when Parent returns an error that errors.Is(err, ns.ErrOutsideScope): the caller's own user namespace was the last.",
			},
			Run: runOwnership,
		},
	},
}

func init() { lab.Register(Lab) }

func runUnmapped(ctx context.Context, n *lab.Narrator) error {
	r, err := Unmapped(ctx)
	if err != nil {
		return err
	}
	host, err := ns.Of(ns.Self)
	if err != nil {
		return err
	}
	n.Compare(host, r.Child, "child")
	if err := lab.CheckNewKinds(host, r.Child, ns.User); err != nil {
		return n.Expect(false, "%v", err)
	}
	n.Say("its uid_map, read from outside before it ran: %d lines", len(r.MapOutside))
	n.Say("inside:  getuid %d, getgid %d, CapEff %016x", r.Inside.Getuid, r.Inside.Getgid, r.Inside.Status.CapEff)
	n.Say("outside: /proc/%d/status says Uid %d, Gid %d (you are UID %d)", r.Child.PID, r.Outside.UID, r.Outside.GID, os.Geteuid())
	n.Say("an external command started the same way: Uid %d, CapEff %016x", r.Command.UID, r.Command.CapEff)
	if err := n.Expect(r.Inside.Getuid == OverflowUID() && r.Inside.Getgid == OverflowGID(), "inside, the unmapped IDs read as the overflow IDs %d/%d", OverflowUID(), OverflowGID()); err != nil {
		return err
	}
	if err := n.Expect(r.Inside.Status.CapEff == FullCaps(), "the Go child holds every capability (%016x) in its new user namespace", FullCaps()); err != nil {
		return err
	}
	n.Check(r.Command.CapEff == 0, "the external command has none: execve(2) as a non-root UID drops them")
	return n.Expect(r.Outside.UID == os.Geteuid(), "outside, the child is still you")
}

func runMapRoot(ctx context.Context, n *lab.Narrator) error {
	r, err := Mapped(ctx)
	if err != nil {
		return err
	}
	n.Say("before MapToRoot, /proc/%d/uid_map had %d lines", r.Child.PID, len(r.Before))
	n.Say("after: uid_map %v, gid_map %v, setgroups %q", r.UIDMap, r.GIDMap, r.Setgroups)
	n.Say("a second write to uid_map: %v", r.Again)
	n.Say("inside: getuid %d, getgid %d, CapEff %016x", r.Inside.Getuid, r.Inside.Getgid, r.Inside.Status.CapEff)
	if err := n.Expect(r.Inside.Getuid == 0 && r.Inside.Getgid == 0, "the child is root inside"); err != nil {
		return err
	}
	if err := n.Expect(isRootMap(r.UIDMap, os.Geteuid()) && isRootMap(r.GIDMap, os.Getegid()), "both maps send 0 inside to you outside"); err != nil {
		return err
	}
	return n.Expect(errors.Is(r.Again, unix.EPERM), "a map can be written only once (EPERM the second time)")
}

func isRootMap(m []spawn.IDMap, id int) bool {
	return len(m) == 1 && m[0].ContainerID == 0 && m[0].HostID == id && m[0].Size == 1
}

func runOwnedPower(ctx context.Context, n *lab.Narrator) error {
	r, err := Power(ctx)
	if err != nil {
		return err
	}
	host, err := ns.Of(ns.Self)
	if err != nil {
		return err
	}
	n.Table(lab.Column{Title: "host (self)", Set: host},
		lab.Column{Title: fmt.Sprintf("own uts (PID %d)", r.Own.PID), Set: r.Own},
		lab.Column{Title: fmt.Sprintf("host's uts (PID %d)", r.Shared.PID), Set: r.Shared})
	n.Say("Governs said: over its own uts namespace %v, over the host's %v", r.OwnGoverns, r.HostGovern)
	n.Say("the first renamed its uts namespace: %q -> %q %s", r.OwnTry.Before, r.OwnTry.After, r.OwnTry.Err)
	n.Say("the second tried to set the host's name to what it already is: %s", orOK(r.HostTry.Err))
	if err := n.Expect(r.OwnGoverns && r.OwnTry.Err == "" && r.OwnTry.After == r.Name, "root inside renames a uts namespace its user namespace owns, as Governs predicted"); err != nil {
		return err
	}
	return n.Expect(!r.HostGovern && r.HostTry.EPERM, "root inside cannot touch the host's uts namespace (EPERM), as Governs predicted")
}

func orOK(s string) string {
	if s == "" {
		return "it succeeded"
	}
	return s
}

func runFileOwner(ctx context.Context, n *lab.Narrator) error {
	r, err := Files(ctx)
	if err != nil {
		return err
	}
	n.Say("the child (PID %d) is root in a new user namespace; uid_map %v, gid_map %v", r.Child.PID, r.UIDMap, r.GIDMap)
	for _, f := range r.Files {
		out, _ := ToOutside(r.UIDMap, f.Inside.UID)
		n.Say("%s: owner %d inside; %d outside (%s); ToOutside says %d", f.Inside.Path, f.Inside.UID, f.OutsideUID, f.OutsidePath, out)
	}
	if len(r.Files) == 0 {
		return n.Expect(false, "the child made files")
	}
	for _, f := range r.Files {
		uid, okU := ToOutside(r.UIDMap, f.Inside.UID)
		gid, okG := ToOutside(r.GIDMap, f.Inside.GID)
		if err := n.Expect(okU && okG && uid == f.OutsideUID && gid == f.OutsideGID, "ToOutside(%d) = %d: the owner outside", f.Inside.UID, uid); err != nil {
			return err
		}
	}
	return n.Expect(r.Files[0].Inside.UID == 0 && r.Files[0].OutsideUID == os.Geteuid(), "root's file inside is yours (UID %d) outside", os.Geteuid())
}

func runOwnership(ctx context.Context, n *lab.Narrator) error {
	r, err := Nest(ctx, NestDepth)
	if err != nil {
		return err
	}
	for i, l := range r.Levels {
		n.Say("level %d: PID %d in %s", i+1, l.PID, l.User)
	}
	n.Say("the caller: %s", r.Self)
	for i, o := range r.Chain {
		n.Say("OwnerChain(bottom, uts)[%d] = %s, made by UID %d", i, o.ID, o.UID)
	}
	for _, k := range r.Kinds {
		n.Say("the bottom's %s namespace is owned by %s", k, r.Owners[k])
	}
	if err := n.Expect(chainMatches(r), "the chain climbs from the bottom's user namespace through every level to the caller's"); err != nil {
		return err
	}
	return n.Expect(ownersMatch(r), "every other kind is owned by a user namespace: the new uts by the bottom's, the host's by the caller's")
}

// chainMatches: the owners of the bottom's UTS namespace are the levels'
// user namespaces from the bottom up, then the caller's.
func chainMatches(r NestReport) bool {
	want := []ns.ID{}
	for i := len(r.Levels) - 1; i >= 0; i-- {
		want = append(want, r.Levels[i].User)
	}
	want = append(want, r.Self)
	got := make([]ns.ID, len(r.Chain))
	for i, o := range r.Chain {
		got[i] = o.ID
	}
	return slices.EqualFunc(got, want, ns.ID.Equal)
}

// ownersMatch: the bottom's user namespace is owned by the level above, its
// other namespaces (the host's) by the caller's.
func ownersMatch(r NestReport) bool {
	parent := r.Self
	if len(r.Levels) > 1 {
		parent = r.Levels[len(r.Levels)-2].User
	}
	for _, k := range r.Kinds {
		want := r.Self
		if k == ns.User {
			want = parent
		}
		if !r.Owners[k].Equal(want) {
			return false
		}
	}
	return len(r.Kinds) > 0
}
