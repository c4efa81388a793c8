//go:build linux

package user

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"

	"github.com/nslab/nslab/pkg/holder"
	"github.com/nslab/nslab/pkg/ns"
	"github.com/nslab/nslab/pkg/spawn"
	"golang.org/x/sys/unix"
)

// The lab's children: Go functions that spawn runs in a re-executed binary.
// Each that the harness looks at reports one JSON line, then waits for the
// end of its input, so that it is still alive when the check reads it.
const (
	entryStatus   = "user-status"   // reports its IDs and capabilities (statusReport)
	entryHostname = "user-hostname" // tries sethostname(2) and reports the outcome (hostnameReport)
	entryFiles    = "user-files"    // makes files on a tmpfs of its own and reports them
	entryNest     = "user-nest"     // prints its PID, starts the next level, or waits for EOF at the bottom
	entryMapper   = "user-mapper"   // an unprivileged writer: calls MapToRoot for a child of its own (mapper.go)
)

func init() {
	spawn.Register(entryStatus, statusMain)
	spawn.Register(entryHostname, hostnameMain)
	spawn.Register(entryFiles, filesMain)
	spawn.Register(entryNest, nestMain)
	spawn.Register(entryMapper, mapperMain)
}

// statusReport is what a user-status child says of itself.
type statusReport struct {
	Getuid int    `json:"getuid"` // getuid(2) inside
	Getgid int    `json:"getgid"` // getgid(2) inside
	Status Status `json:"status"` // its /proc/self/status
}

// statusMain reports, then waits for the end of its input.
func statusMain(args []string) int {
	if len(args) != 0 {
		return spawn.Fail(errors.New("usage: user-status (no arguments; it reports, then waits for the end of its input)"))
	}
	st, err := readStatus("self")
	if err != nil {
		return spawn.Fail(err)
	}
	return holder.ReportAndHold(statusReport{Getuid: os.Getuid(), Getgid: os.Getgid(), Status: st})
}

// hostnameReport is what a user-hostname child saw.
type hostnameReport struct {
	Before, After string // its host name before and after the attempt
	Err           string // the error of sethostname(2), empty when it succeeded
	EPERM         bool   // the error was EPERM
}

// hostnameMain: args are MODE (rename or same), the parent's user namespace,
// the parent's UTS namespace (both ns.ID.Arg) and the new name. "rename"
// sets the name in a UTS namespace the lab made; "same" sets the name the
// namespace already has, so that even a success changes nothing. It
// reports, then waits for the end of its input.
func hostnameMain(args []string) int {
	if len(args) != 4 || (args[0] != "rename" && args[0] != "same") {
		return spawn.Fail(errors.New("usage: user-hostname rename|same PARENT-USER PARENT-UTS NAME"))
	}
	if err := ns.NotInParent(ns.User, args[1], "call sethostname(2)"); err != nil {
		return spawn.Fail(err)
	}
	var r hostnameReport
	r.Before = hostname()
	name := args[3]
	if args[0] == "same" {
		name = r.Before
	} else if err := ns.NotInParent(ns.UTS, args[2], "call sethostname(2)"); err != nil {
		return spawn.Fail(err)
	}
	if err := unix.Sethostname([]byte(name)); err != nil {
		r.Err, r.EPERM = fmt.Sprintf("sethostname %q: %v", name, err), errors.Is(err, unix.EPERM)
	}
	r.After = hostname()
	return holder.ReportAndHold(r)
}

func hostname() string {
	var u unix.Utsname
	unix.Uname(&u) // cannot fail with a valid buffer
	return unix.ByteSliceToString(u.Nodename[:])
}

// fileReport is one ID a user-files child tried to give a file, as it sees it.
type fileReport struct {
	ID       int    `json:"id"`       // the ID it asked chown(2) for
	Path     string `json:"path"`     // inside the child's mount namespace; empty when unmapped
	UID      int    `json:"uid"`      // the owner, as the child's stat(2) says
	GID      int    `json:"gid"`      // the group
	Unmapped bool   `json:"unmapped"` // chown(2) said EINVAL: no line of the map holds ID
}

// filesDir is where a user-files child mounts its tmpfs, in its own mount namespace.
const filesDir = "/tmp"

// filesMain mounts a tmpfs on filesDir and, for each ID of its arguments,
// makes a file as root and gives it to that UID and GID; the kernel refuses
// (EINVAL) an ID its map does not hold. It prints what it made and waits
// for the end of its input, so that the parent can look from outside.
func filesMain(args []string) int {
	if len(args) == 0 {
		return spawn.Fail(errors.New("usage: user-files ID..."))
	}
	ids := make([]int, len(args))
	for i, a := range args {
		id, err := strconv.Atoi(a)
		if err != nil || id < 0 {
			return spawn.Fail(fmt.Errorf("usage: user-files ID...: %q is not an ID", a))
		}
		ids[i] = id
	}
	if err := unix.Mount("nslab-user", filesDir, "tmpfs", unix.MS_NOSUID|unix.MS_NODEV, "mode=0755,size=64k"); err != nil {
		return spawn.Fail(fmt.Errorf("mount tmpfs on %s: %w", filesDir, err))
	}
	made := make([]fileReport, 0, len(ids))
	for _, id := range ids {
		f, err := makeFile(filepath.Join(filesDir, "made-by-root-for-"+strconv.Itoa(id)), id)
		if err != nil {
			return spawn.Fail(err)
		}
		made = append(made, f)
	}
	return holder.ReportAndHold(made)
}

func makeFile(path string, id int) (fileReport, error) {
	if err := os.WriteFile(path, []byte("made by root inside\n"), 0o644); err != nil {
		return fileReport{}, err
	}
	if err := os.Chown(path, id, id); errors.Is(err, unix.EINVAL) {
		return fileReport{ID: id, Unmapped: true}, os.Remove(path)
	} else if err != nil {
		return fileReport{}, err
	}
	var st unix.Stat_t
	if err := unix.Stat(path, &st); err != nil {
		return fileReport{}, fmt.Errorf("stat %s: %w", path, err)
	}
	return fileReport{ID: id, Path: path, UID: int(st.Uid), GID: int(st.Gid)}, nil
}

// nestMain: args[0] is how many levels to start below this one. Each level
// prints its PID; the bottom one, in a new UTS namespace too, waits for the
// end of its input, and every level above waits for the one below.
func nestMain(args []string) int {
	below := -1
	if len(args) == 1 {
		if n, err := strconv.Atoi(args[0]); err == nil {
			below = n
		}
	}
	if below < 0 {
		return spawn.Fail(fmt.Errorf("usage: user-nest LEVELS-BELOW (a number, 0 at the bottom); got %q", args))
	}
	fmt.Println(os.Getpid())
	if below == 0 {
		io.Copy(io.Discard, os.Stdin)
		return 0
	}
	if err := spawn.Run(context.Background(), nestConfig(below-1, os.Stdin, os.Stdout, os.Stderr)); err != nil {
		return spawn.Fail(err)
	}
	return 0
}

// nestConfig is the next level: a new user namespace mapping root to root,
// and at the bottom (below == 0) a new UTS namespace too.
func nestConfig(below int, stdin io.Reader, stdout, stderr io.Writer) spawn.Config {
	cfg := spawn.Config{
		New: []ns.Kind{ns.User}, MapRoot: true, Entrypoint: entryNest, Args: []string{strconv.Itoa(below)},
		Stdin: stdin, Stdout: stdout, Stderr: stderr,
	}
	if below == 0 {
		cfg.New = append(cfg.New, ns.UTS)
	}
	return cfg
}
