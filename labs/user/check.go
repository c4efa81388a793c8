//go:build linux

package user

import (
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"

	"github.com/nslab/nslab/pkg/lab"
	"github.com/nslab/nslab/pkg/ns"
	"github.com/nslab/nslab/pkg/spawn"
	"golang.org/x/sys/unix"
)

// The check halves of the steps: in the harness, they verify the reports of
// run.go against what the kernel holds, read from outside (maps, setgroups,
// status lines, namespaces and their owners, file owners), narrate, and
// return what the kernel was expected to do and did not. IDs read here are
// the machine's: the harness is outside the lab host's user namespace.

func checkUnmapped(c *lab.Check, r unmappedReport) error {
	if err := c.NewKindsOnly(r.PID, "child", ns.User); err != nil {
		return err
	}
	m, err := kernelMap(c, r.PID, "uid_map")
	if err != nil {
		return err
	}
	child, err := kernelStatus(c, r.PID)
	if err != nil {
		return err
	}
	runner, err := kernelStatus(c, c.Runner)
	if err != nil {
		return err
	}
	c.Say("its uid_map: %d lines before it ran (read by the step), %d now (read here)", len(r.Before), len(m))
	c.Say("inside:  getuid %d, getgid %d, CapEff %016x", r.Inside.Getuid, r.Inside.Getgid, r.Inside.Status.CapEff)
	c.Say("outside: the step reads Uid %d, Gid %d (its own UID %d); here, on the machine, Uid %d, Gid %d, CapEff %016x (the runner: Uid %d)",
		r.Outside.UID, r.Outside.GID, r.EUID, child.UID, child.GID, child.CapEff, runner.UID)
	c.Say("an external command started the same way: Uid %d, CapEff %016x", r.Command.UID, r.Command.CapEff)
	full := fullCaps()
	switch {
	case len(r.Before) != 0 || len(m) != 0:
		return c.Failf("/proc/%d/uid_map holds %v (read by the step before the child ran; %v read now); want it empty: StartUnmapped writes no map (leave MapRoot, UIDMap and GIDMap unset)", r.PID, r.Before, m)
	case r.Inside.Getuid != overflowUID() || r.Inside.Getgid != overflowGID() || r.Inside.Status.UID != overflowUID():
		return c.Failf("inside, getuid/getgid = %d/%d and status Uid %d; want the overflow IDs %d/%d of an unmapped namespace", r.Inside.Getuid, r.Inside.Getgid, r.Inside.Status.UID, overflowUID(), overflowGID())
	}
	c.Check(true, "inside, the unmapped IDs read as the overflow IDs %d/%d", overflowUID(), overflowGID())
	if r.Inside.Status.CapEff != full || child.CapEff != full {
		return c.Failf("CapEff of the child = %016x inside, %016x read from outside; want every capability, %016x (the creator of a user namespace has them all in it)", r.Inside.Status.CapEff, child.CapEff, full)
	}
	c.Check(true, "the Go child holds every capability (%016x) in its new user namespace", full)
	if r.Command.CapEff != 0 || r.Command.UID != overflowUID() {
		return c.Failf("an external command run unmapped has Uid %d and CapEff %016x; want %d and none (execve(2) drops them for a UID that is not 0)", r.Command.UID, r.Command.CapEff, overflowUID())
	}
	c.Check(true, "the external command has none: execve(2) as a UID that is not 0 drops them")
	if r.Outside.UID != r.EUID || r.Outside.GID != r.EGID {
		return c.Failf("outside, /proc/%d/status says Uid %d Gid %d; want the caller's %d %d", r.PID, r.Outside.UID, r.Outside.GID, r.EUID, r.EGID)
	}
	if child.UID != runner.UID || child.GID != runner.GID {
		return c.Failf("on the machine, the child is Uid %d Gid %d; want its creator's, %d %d: a new user namespace changes no ID the kernel records", child.UID, child.GID, runner.UID, runner.GID)
	}
	c.Check(true, "outside, the child is still its creator (UID %d in the lab host, %d on the machine)", r.EUID, runner.UID)
	return nil
}

func checkMapRoot(c *lab.Check, r mapReport) error {
	runner, err := kernelStatus(c, c.Runner)
	if err != nil {
		return err
	}
	c.Say("the runner is UID %d, GID %d on the machine; its setgroups: %s", runner.UID, runner.GID, r.RunnerSetgroups)
	for _, m := range []mapping{r.Runner, r.Writer} {
		if err := checkMapping(c, m, runner); err != nil {
			return err
		}
	}
	return nil
}

// checkMapping checks what one writer's MapToRoot did to its child, as
// the writer read it and as the kernel holds it, read here.
func checkMapping(c *lab.Check, m mapping, runner Status) error {
	uidK, err := kernelMap(c, m.PID, "uid_map")
	if err != nil {
		return err
	}
	gidK, err := kernelMap(c, m.PID, "gid_map")
	if err != nil {
		return err
	}
	sg, err := c.ReadFile(m.PID, "setgroups")
	if err != nil {
		return err
	}
	sg = strings.TrimSpace(sg)
	child, err := kernelStatus(c, m.PID)
	if err != nil {
		return err
	}
	c.Say("%s called MapToRoot(%d, %d, %d)", m.Writer, m.PID, m.UID, m.GID)
	c.Say("  before: uid_map %v, setgroups %s; after, as the writer reads them: uid_map %v, gid_map %v, setgroups %s", m.Before, m.SetgroupsBefore, m.UIDMap, m.GIDMap, m.Setgroups)
	c.Say("  read here, on the machine: uid_map %v, gid_map %v, setgroups %s; the child is Uid %d", uidK, gidK, sg, child.UID)
	c.Say("  a second write to uid_map: %s", lab.Or(m.Again, "success"))
	c.Say("  MapToRoot for a PID no process has: %s; for a child whose gid_map is written: %s", lab.Or(m.Missing.Err, "success"), lab.Or(m.Preset.Err, "success"))
	c.Say("  inside: getuid %d, getgid %d, CapEff %016x", m.Inside.Getuid, m.Inside.Getgid, m.Inside.Status.CapEff)
	if err := checkMapsWritten(c, m, uidK, gidK, child, runner); err != nil {
		return err
	}
	if err := checkSetgroups(c, m, sg); err != nil {
		return err
	}
	if err := judgeRefusals(m); err != nil {
		return c.Failf("%v", err)
	}
	c.Check(true, "a map can be written only once (EPERM the second time); MapToRoot returns the kernel's refusals")
	if m.Inside.Getuid != 0 || m.Inside.Getgid != 0 || m.Inside.Status.CapEff != fullCaps() || child.CapEff != fullCaps() {
		return c.Failf("inside, getuid %d getgid %d CapEff %016x (%016x read from outside); want root with every capability, %016x", m.Inside.Getuid, m.Inside.Getgid, m.Inside.Status.CapEff, child.CapEff, fullCaps())
	}
	c.Check(true, "the child is root inside, with every capability")
	return nil
}

// checkMapsWritten checks the child's maps: as the writer read them, "0
// UID 1" and "0 GID 1"; as the kernel holds them, read here, the runner's
// IDs on the machine.
func checkMapsWritten(c *lab.Check, m mapping, uidK, gidK []spawn.IDMap, child, runner Status) error {
	if len(m.Before) != 0 {
		return c.Failf("the child had a uid_map %v before MapToRoot; the lab leaves it unwritten", m.Before)
	}
	want := []spawn.IDMap{{ContainerID: 0, HostID: m.UID, Size: 1}}
	if !slices.Equal(m.UIDMap, want) {
		return c.Failf("after MapToRoot(%d, %d, %d) by %s, /proc/%d/uid_map is %v; want %v (\"0 UID 1\": 0 inside, UID outside, one ID)", m.PID, m.UID, m.GID, m.Writer, m.PID, m.UIDMap, want)
	}
	want = []spawn.IDMap{{ContainerID: 0, HostID: m.GID, Size: 1}}
	if !slices.Equal(m.GIDMap, want) {
		return c.Failf("after MapToRoot(%d, %d, %d) by %s, /proc/%d/gid_map is %v; want %v (\"0 GID 1\"; without root, write \"deny\" to setgroups first)", m.PID, m.UID, m.GID, m.Writer, m.PID, m.GIDMap, want)
	}
	wantU := []spawn.IDMap{{ContainerID: 0, HostID: runner.UID, Size: 1}}
	wantG := []spawn.IDMap{{ContainerID: 0, HostID: runner.GID, Size: 1}}
	if !slices.Equal(uidK, wantU) || !slices.Equal(gidK, wantG) || child.UID != runner.UID {
		return c.Failf("read on the machine, the child's uid_map is %v and gid_map %v, and it is Uid %d; want %v and %v, and Uid %d: root inside is the writer, whom the machine knows as %d:%d", uidK, gidK, child.UID, wantU, wantG, runner.UID, runner.UID, runner.GID)
	}
	c.Check(true, "both maps send 0 inside to the writer outside (%d:%d on the machine)", runner.UID, runner.GID)
	return nil
}

// checkSetgroups checks the child's setgroups, sg as read here.
func checkSetgroups(c *lab.Check, m mapping, sg string) error {
	switch {
	case !m.Privileged && sg != "deny":
		return c.Failf("/proc/%d/setgroups is %q after MapToRoot by %s; want deny, which the kernel asks of an unprivileged writer of gid_map", m.PID, sg, m.Writer)
	case m.Privileged && m.SetgroupsBefore == "allow" && sg != "allow":
		return c.Failf("MapToRoot by %s, which is root (CAP_SETGID in the parent user namespace), left /proc/%d/setgroups %q; want it \"allow\", as it was: only a writer without root must write deny, and deny takes setgroups(2) from the child for good", m.Writer, m.PID, sg)
	}
	why := "an unprivileged writer must deny it before gid_map"
	switch {
	case m.SetgroupsBefore == "deny":
		why = "inherited from the writer's user namespace, and it cannot be allowed again"
	case m.Privileged:
		why = "root need not deny it"
	}
	c.Check(true, "setgroups is %s (%s)", sg, why)
	return nil
}

// judgeRefusals judges what the kernel refused one writer: a second write
// to uid_map, and MapToRoot where it cannot succeed.
func judgeRefusals(m mapping) error {
	switch {
	case !m.AgainEPERM:
		return fmt.Errorf("a second write to /proc/%d/uid_map returned %s; want EPERM: a map is written once", m.PID, lab.Or(m.Again, "success"))
	case m.Missing.Errno != "ENOENT":
		return fmt.Errorf("MapToRoot for a PID that no process has, by %s, returned %s; want an error wrapping ENOENT: return the error of each write (with %%w)", m.Writer, lab.Or(m.Missing.Err, "success"))
	case m.Preset.Errno != "EPERM":
		return fmt.Errorf("MapToRoot, by %s, for a child whose gid_map is already written returned %s; want an error wrapping EPERM, the kernel's answer to a write to setgroups (without root) or to gid_map (as root) once gid_map is written: return the error of each write (with %%w)", m.Writer, lab.Or(m.Preset.Err, "success"))
	}
	return nil
}

func checkOwnedPower(c *lab.Check, r powerReport) error {
	host, err := c.Host()
	if err != nil {
		return err
	}
	own, err := c.NS(r.Own)
	if err != nil {
		return err
	}
	shared, err := c.NS(r.Shared)
	if err != nil {
		return err
	}
	c.Table(lab.Column{Title: fmt.Sprintf("runner (PID %d)", host.PID), Set: host},
		lab.Column{Title: fmt.Sprintf("own uts (PID %d)", r.Own), Set: own},
		lab.Column{Title: fmt.Sprintf("lab host's uts (PID %d)", r.Shared), Set: shared})
	c.Say("Governs said: over its own uts namespace %v, over the lab host's %v; the runner's user namespace over the first's uts namespace: %v", r.OwnGoverns, r.SharedGoverns, r.UpGoverns)
	c.Say("Governs left %d more files open; with room for one more open file only: %s; with a closed handle: %s", r.Leaked, lab.Or(r.Limited.Err, "success"), lab.Or(r.Closed.Err, "success"))
	c.Say("the first renamed its uts namespace: %q -> %q %s", r.OwnTry.Before, r.OwnTry.After, r.OwnTry.Err)
	c.Say("the second tried to set the lab host's name to what it already is: %s", lab.Or(r.SharedTry.Err, "success"))
	if err := lab.CheckNewKinds(host, own, ns.User, ns.UTS); err != nil {
		return c.Failf("the first child: %v", err)
	}
	if err := lab.CheckNewKinds(host, shared, ns.User); err != nil {
		return c.Failf("the second child: %v", err)
	}
	ownOwner, err := kernelOwner(c, r.Own, ns.UTS)
	if err != nil {
		return err
	}
	sharedOwner, err := kernelOwner(c, r.Shared, ns.UTS)
	if err != nil {
		return err
	}
	ownUser, _ := own.Get(ns.User)
	hostUser, _ := host.Get(ns.User)
	c.Say("read here with NS_GET_USERNS: the first's uts namespace is owned by %s (its user namespace %s); the lab host's by %s", ownOwner, ownUser, sharedOwner)
	if !ownOwner.Equal(ownUser) || !sharedOwner.Equal(hostUser) {
		return c.Failf("the kernel says the first child's uts namespace is owned by %s and the lab host's by %s; want %s (the first child's user namespace) and %s (the runner's)", ownOwner, sharedOwner, ownUser, hostUser)
	}
	switch {
	case !r.OwnGoverns:
		return c.Failf("Governs(its user namespace, its own new UTS namespace) = false; want true: the namespace is owned by that user namespace (NS_GET_USERNS)")
	case r.SharedGoverns:
		return c.Failf("Governs(a new user namespace, the lab host's UTS namespace) = true; want false: the lab host's is owned by the runner's user namespace, an ancestor, not a descendant")
	case r.OwnTry.Err != "" || r.OwnTry.After != r.Name:
		return c.Failf("root in a new user namespace renamed its own new UTS namespace to %q: got %q, %s; want the kernel to allow it", r.Name, r.OwnTry.After, r.OwnTry.Err)
	}
	c.Check(true, "root inside renames a uts namespace its user namespace owns, as Governs predicted")
	if !r.SharedTry.EPERM {
		return c.Failf("root in a new user namespace calling sethostname in the lab host's UTS namespace got %q; want EPERM", lab.Or(r.SharedTry.Err, "success"))
	}
	c.Check(true, "root inside cannot touch the lab host's uts namespace (EPERM), as Governs predicted")
	if err := judgeGovernsMore(r); err != nil {
		return c.Failf("%v", err)
	}
	c.Check(true, "the runner's user namespace governs what its descendants own; Governs closes its handles and returns the kernel's errors")
	return namesSeen(c, r)
}

// judgeGovernsMore judges Governs beyond the two children's own
// namespaces: over a namespace owned one level below, its open files, and
// its errors.
func judgeGovernsMore(r powerReport) error {
	switch {
	case !r.UpGoverns:
		return fmt.Errorf("Governs(the runner's user namespace, the first child's uts namespace) = false; want true: that namespace is owned by the child's user namespace, nested below the runner's (walk up from the owner with Parent)")
	case r.Leaked != 0:
		return fmt.Errorf("the runner had %d more open files after its calls of Governs than before; want none: close each handle that UserNS and Parent return once you are done with it", r.Leaked)
	case r.Limited.Errno != "EMFILE":
		return fmt.Errorf("Governs(the runner's user namespace, the first child's uts namespace) with room for one more open file only returned %s; want an error wrapping EMFILE, the kernel's answer to NS_GET_PARENT, which opens a file: only ns.ErrOutsideScope ends the walk with false", lab.Or(r.Limited.Err, "success"))
	case r.Closed.Errno != "EBADF":
		return fmt.Errorf("Governs with a closed target handle returned %s; want an error wrapping EBADF, the kernel's answer to NS_GET_USERNS: return UserNS's error", lab.Or(r.Closed.Err, "success"))
	}
	return nil
}

// namesSeen visits the first child's UTS namespace and the runner's, and
// checks that only the first carries the new name.
func namesSeen(c *lab.Check, r powerReport) error {
	var ownName, hostName string
	err := c.Do(r.Own, []ns.Kind{ns.UTS}, func() error { ownName = unameNode(); return nil })
	if err == nil {
		err = c.Do(c.Runner, []ns.Kind{ns.UTS}, func() error { hostName = unameNode(); return nil })
	}
	switch {
	case errors.Is(err, lab.ErrNoVisit):
		return nil // without root, the children's reports are all there is
	case err != nil:
		return fmt.Errorf("read the host names of the lab host: %w", err)
	case ownName != r.Name || hostName == r.Name:
		return c.Failf("visited here, the first child's uts namespace is named %q and the lab host's %q; want %q in the first only", ownName, hostName, r.Name)
	}
	c.Check(true, "visited here: the first child's uts namespace is %q, the lab host's is %q", ownName, hostName)
	return nil
}

func unameNode() string {
	var u unix.Utsname
	unix.Uname(&u) // cannot fail with a valid buffer
	return unix.ByteSliceToString(u.Nodename[:])
}

func checkFileOwner(c *lab.Check, r filesReport) error {
	runner, err := kernelStatus(c, c.Runner)
	if err != nil {
		return err
	}
	uidK, err := kernelMap(c, r.PID, "uid_map")
	if err != nil {
		return err
	}
	c.Say("the child (PID %d) is root in a new user namespace; as the step reads them, uid_map %v, gid_map %v; on the machine, uid_map %v", r.PID, r.UIDMap, r.GIDMap, uidK)
	for _, f := range r.Files {
		c.Say("%s: owner %d:%d inside; %d:%d outside (%s); ToOutside says %d:%d", f.Inside.Path, f.Inside.UID, f.Inside.GID, f.OutsideUID, f.OutsideGID, f.OutsidePath, f.ToUID, f.ToGID)
	}
	for _, p := range r.Unmapped {
		c.Say("ID %d: chown(2) inside said EINVAL, no line maps it; ToOutside says %d, %v", p.ID, p.ToUID, p.OKUID)
	}
	if len(r.Files) == 0 || r.Files[0].Inside.UID != 0 {
		return c.Failf("the child made %v; want a file owned by root inside", r.Files)
	}
	root := r.Files[0]
	if root.OutsideUID != r.EUID || root.OutsideGID != r.EGID {
		return c.Failf("root's file %s is owned by %d:%d outside; want the caller, %d:%d", root.OutsidePath, root.OutsideUID, root.OutsideGID, r.EUID, r.EGID)
	}
	var st unix.Stat_t
	path := filepath.Join(c.ProcDir(r.PID), "root", root.Inside.Path)
	if err := unix.Stat(path, &st); err != nil {
		return fmt.Errorf("stat %s: %w", path, err)
	}
	if int(st.Uid) != runner.UID || int(st.Gid) != runner.GID {
		return c.Failf("on the machine, root's file is owned by %d:%d; want the runner's %d:%d", st.Uid, st.Gid, runner.UID, runner.GID)
	}
	c.Check(true, "root's file inside is the caller's (%d:%d) outside, and %d:%d on the machine", r.EUID, r.EGID, st.Uid, st.Gid)
	for _, p := range r.Unmapped {
		if p.OKUID || p.OKGID || p.ToUID != -1 || p.ToGID != -1 {
			return c.Failf("ToOutside(%v, %d) = %d, %v (gid_map: %d, %v); want -1, false: no line maps %d (the kernel refused it to chown(2)); a line maps [ContainerID, ContainerID+Size), its end excluded, and -1 is no ID, as the kernel's own (uid_t)-1", r.UIDMap, p.ID, p.ToUID, p.OKUID, p.ToGID, p.OKGID, p.ID)
		}
	}
	for _, f := range r.Files {
		if !f.OKUID || f.ToUID != f.OutsideUID {
			return c.Failf("ToOutside(%v, %d) = %d, %v; want %d, true: the owner stat(2) shows outside for %s", r.UIDMap, f.Inside.UID, f.ToUID, f.OKUID, f.OutsideUID, f.OutsidePath)
		}
		if !f.OKGID || f.ToGID != f.OutsideGID {
			return c.Failf("ToOutside(%v, %d) = %d, %v; want %d, true (the group of %s)", r.GIDMap, f.Inside.GID, f.ToGID, f.OKGID, f.OutsideGID, f.OutsidePath)
		}
	}
	c.Check(true, "ToOutside gives the owner outside of all %d files, and no ID for the %d IDs no line maps", len(r.Files), len(r.Unmapped))
	return nil
}

func checkOwnership(c *lab.Check, r nestReport) error {
	for i, l := range r.Levels {
		c.Say("level %d: PID %d in %s", i+1, l.PID, l.User)
	}
	c.Say("the runner: %s", r.Self)
	for i, o := range r.Chain {
		c.Say("OwnerChain(bottom, uts)[%d] = %s, made by UID %d", i, o.ID, o.UID)
	}
	if len(r.Levels) != nestDepth {
		return fmt.Errorf("the nest has %d levels, want %d", len(r.Levels), nestDepth)
	}
	bottom := r.Levels[len(r.Levels)-1].PID
	if len(r.Chain) != nestDepth+1 {
		return c.Failf("OwnerChain(bottom, uts) has %d user namespaces %v; want %d: the bottom's, the %d above it, and the caller's (then ns.ErrOutsideScope ends it)", len(r.Chain), r.Chain, nestDepth+1, nestDepth-1)
	}
	for i, o := range r.Chain {
		want := r.Self
		if i < len(r.Levels) {
			want = r.Levels[len(r.Levels)-1-i].User
		}
		if !o.ID.Equal(want) {
			return c.Failf("OwnerChain(bottom, uts)[%d] = %s; want %s (/proc/PID/ns/user of level %d)", i, o.ID, want, len(r.Levels)-i)
		}
		if i < len(r.Levels) && o.UID != r.EUID {
			return c.Failf("OwnerChain(bottom, uts)[%d] was made by UID %d; want the caller's %d (NS_GET_OWNER_UID)", i, o.UID, r.EUID)
		}
	}
	c.Check(true, "the chain climbs from the bottom's user namespace through every level to the caller's")
	runner, err := kernelStatus(c, c.Runner)
	if err != nil {
		return err
	}
	for _, k := range append([]ns.Kind{ns.UTS}, r.Kinds...) {
		got := r.Chain
		if k != ns.UTS {
			got = r.Chains[k]
		}
		if err := checkChain(c, r, bottom, k, got, runner.UID); err != nil {
			return err
		}
	}
	c.Check(true, "every other kind is owned by a user namespace, as the kernel says from outside")
	c.Say("OwnerChain left %d more files open; for a PID no process has: %s; with room for one more open file only: %s", r.Leaked, lab.Or(r.Missing.Err, "success"), lab.Or(r.Limited.Err, "success"))
	if err := judgeChainErrors(r); err != nil {
		return c.Failf("%v", err)
	}
	c.Check(true, "OwnerChain closes its handles and returns the kernel's errors")
	return nil
}

// judgeChainErrors judges OwnerChain's open files and its errors.
func judgeChainErrors(r nestReport) error {
	switch {
	case r.Leaked != 0:
		return fmt.Errorf("the runner had %d more open files after its calls of OwnerChain than before; want none: close each handle once you have its owner or parent", r.Leaked)
	case r.Missing.Errno != "ENOENT":
		return fmt.Errorf("OwnerChain of a PID that no process has returned %s; want an error wrapping ENOENT: return ns.Open's error", lab.Or(r.Missing.Err, "success"))
	case r.Limited.Errno != "EMFILE":
		return fmt.Errorf("OwnerChain(bottom, uts) with room for one more open file only returned %s; want an error wrapping EMFILE, the kernel's answer to NS_GET_USERNS, which opens a file: only ns.ErrOutsideScope ends the chain without an error", lab.Or(r.Limited.Err, "success"))
	}
	return nil
}

// checkChain compares OwnerChain(bottom, k), as the runner got it, with the
// owners the harness reads itself: the same user namespaces, up to the
// runner's own, beyond which the runner cannot see. A namespace owned above
// the runner's user namespace (the time namespace, which the lab host
// shares with the machine) has an empty chain.
func checkChain(c *lab.Check, r nestReport, bottom int, k ns.Kind, got []Owner, runnerUID int) error {
	all, uids, err := kernelChain(c, bottom, k)
	if err != nil {
		return err
	}
	want := []ns.ID{}
	if i := slices.IndexFunc(all, r.Self.Equal); i >= 0 {
		want = all[:i+1]
	}
	ids := make([]ns.ID, len(got))
	for i, o := range got {
		ids[i] = o.ID
	}
	c.Say("the bottom's %s namespace: OwnerChain %v; the kernel, read here: %v", k, ids, all)
	if !slices.EqualFunc(ids, want, ns.ID.Equal) {
		first := "none: it is owned above the caller's user namespace, out of its scope (OwnerChain returns an empty chain)"
		if len(want) > 0 {
			first = want[0].String()
		}
		return c.Failf("OwnerChain(bottom PID %d, %s) = %v; want %v, the owner (NS_GET_USERNS; for a user namespace, its parent) and its parents up to the caller's user namespace. First owner: %s", bottom, k, ids, want, first)
	}
	for i := range len(want) - 1 { // the levels, made by the runner's UID
		if uids[i] != runnerUID {
			return c.Failf("on the machine, %s was made by UID %d; want the runner's %d", want[i], uids[i], runnerUID)
		}
	}
	return nil
}

// kernelChain walks, from the harness, the owners of process pid's
// namespace of kind k up to the top of the harness's scope.
func kernelChain(c *lab.Check, pid int, k ns.Kind) (ids []ns.ID, uids []int, err error) {
	h, err := ns.OpenPath(filepath.Join(c.ProcDir(pid), "ns", string(k)))
	if err != nil {
		return nil, nil, err
	}
	next, err := h.UserNS()
	h.Close()
	for err == nil {
		uid, uerr := next.OwnerUID()
		if uerr != nil {
			next.Close()
			return nil, nil, uerr
		}
		ids, uids = append(ids, next.ID()), append(uids, uid)
		parent, perr := next.Parent()
		next.Close()
		next, err = parent, perr
	}
	if errors.Is(err, ns.ErrOutsideScope) {
		return ids, uids, nil
	}
	return nil, nil, err
}

// kernelOwner reads, from the harness, the owner of process pid's namespace of kind k.
func kernelOwner(c *lab.Check, pid int, k ns.Kind) (ns.ID, error) {
	h, err := ns.OpenPath(filepath.Join(c.ProcDir(pid), "ns", string(k)))
	if err != nil {
		return ns.ID{}, err
	}
	defer h.Close()
	owner, err := h.UserNS()
	if err != nil {
		return ns.ID{}, err
	}
	defer owner.Close()
	return owner.ID(), nil
}

// kernelMap reads /proc/PID/FILE (uid_map, gid_map) of a lab host process
// from the harness: the IDs outside are the machine's.
func kernelMap(c *lab.Check, pid int, file string) ([]spawn.IDMap, error) {
	text, err := c.ReadFile(pid, file)
	if err != nil {
		return nil, fmt.Errorf("read the %s of PID %d: %w", file, pid, err)
	}
	return ParseIDMap(text)
}

// kernelStatus reads /proc/PID/status of a lab host process from the harness.
func kernelStatus(c *lab.Check, pid int) (Status, error) {
	text, err := c.ReadFile(pid, "status")
	if err != nil {
		return Status{}, fmt.Errorf("read the status of PID %d: %w", pid, err)
	}
	return ParseStatus(text)
}
