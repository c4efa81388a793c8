//go:build linux

package user

import (
	"github.com/nslab/nslab/pkg/lab"
)

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
			Do: lab.Do(runUnmapped, checkUnmapped),
		},
		{
			ID: "02", Slug: "map_root", Title: "Mapping yourself to root", Points: 10,
			Explain: "the parent writes /proc/PID/uid_map, then setgroups (deny) and gid_map; each map can be written once.",
			Hints: []string{
				"Each map file takes lines of three numbers: the first ID inside, the first ID outside, how many.",
				"Write \"0 UID 1\" to /proc/PID/uid_map; without root write \"deny\" to /proc/PID/setgroups before gid_map.",
				"os.WriteFile(fmt.Sprintf(\"/proc/%d/uid_map\", pid), []byte(fmt.Sprintf(\"0 %d 1\\n\", uid)), 0), and likewise for the others.",
			},
			Do: lab.Do(runMapRoot, checkMapRoot),
		},
		{
			ID: "03", Slug: "owned_power", Title: "Root inside rules only what its namespace owns", Points: 10,
			Explain: "sethostname(2) needs CAP_SYS_ADMIN in the user namespace that owns the UTS namespace, not in the caller's own.",
			Hints: []string{
				"Handle.UserNS (NS_GET_USERNS) gives the owner of a namespace; Handle.Parent (NS_GET_PARENT) the parent of a user namespace.",
				"Compare IDs with ns.ID.Equal; walk up from the owner with Parent until you meet user, or get ns.ErrOutsideScope (answer false).",
				"owner, _ := target.UserNS(); loop: if owner.ID().Equal(user.ID()) return true; owner, err = owner.Parent(); errors.Is(err, ns.ErrOutsideScope) means false. Close each handle.",
			},
			Do: lab.Do(runOwnedPower, checkOwnedPower),
		},
		{
			ID: "04", Slug: "file_owner", Title: "Root's files belong to you", Points: 10,
			Explain: "a file made by root inside is owned, outside, by the ID that the map gives for 0: the caller's, for a rootless map.",
			Hints: []string{
				"Find the line whose range [ContainerID, ContainerID+Size) holds id.",
				"outside = HostID + (id - ContainerID); no such line: return -1, false.",
			},
			Do: lab.Do(runFileOwner, checkFileOwner),
		},
		{
			ID: "05", Slug: "ownership", Title: "Every namespace has an owner", Points: 10,
			Explain: "NS_GET_USERNS names the user namespace that owns any namespace; NS_GET_PARENT climbs user namespaces up to the top of the caller's scope.",
			Hints: []string{
				"ns.Open(pid, k), then UserNS(), then Parent() again and again; OwnerUID() on each user namespace.",
				"Stop when Parent returns an error that errors.Is(err, ns.ErrOutsideScope): the caller's own user namespace was the last.",
			},
			Do: lab.Do(runOwnership, checkOwnership),
		},
	},
}

func init() { lab.Register(Lab) }
