//go:build linux

package user

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"

	"github.com/nslab/nslab/pkg/ns"
	"github.com/nslab/nslab/pkg/spawn"
	"golang.org/x/sys/unix"
)

// The lab's children: Go functions that spawn runs in a re-executed binary.
const (
	entryStatus   = "user-status"   // reports its IDs and capabilities (Report)
	entryHostname = "user-hostname" // tries sethostname(2) and reports the outcome (HostnameReport)
	entryFiles    = "user-files"    // makes files on a tmpfs of its own, reports them, waits for EOF
	entryNest     = "user-nest"     // prints its PID, starts the next level, or waits for EOF at the bottom
)

func init() {
	spawn.Register(entryStatus, statusMain)
	spawn.Register(entryHostname, hostnameMain)
	spawn.Register(entryFiles, filesMain)
	spawn.Register(entryNest, nestMain)
}

// Report is what a user-status child says of itself.
type Report struct {
	Getuid int    `json:"getuid"` // getuid(2) inside
	Getgid int    `json:"getgid"` // getgid(2) inside
	Status Status `json:"status"` // its /proc/self/status
}

func statusMain([]string) int {
	st, err := ReadStatus("self")
	if err != nil {
		return fail(err)
	}
	return emit(Report{Getuid: os.Getuid(), Getgid: os.Getgid(), Status: st})
}

// HostnameReport is what a user-hostname child saw.
type HostnameReport struct {
	Before, After string // its host name before and after the attempt
	Err           string // the error of sethostname(2), empty when it succeeded
	EPERM         bool   // the error was EPERM
}

// hostnameMain: args are MODE (rename or same), the parent's user namespace,
// the parent's UTS namespace (both "DEV:INODE", see guard) and the new name.
// "rename" sets the name in a UTS namespace the lab made; "same" sets the
// name the namespace already has, so that even a success changes nothing.
func hostnameMain(args []string) int {
	if len(args) != 4 {
		return fail(errors.New("usage: user-hostname rename|same PARENT-USER PARENT-UTS NAME"))
	}
	if err := refuseIn(ns.User, args[1]); err != nil {
		return fail(err)
	}
	var r HostnameReport
	r.Before = hostname()
	name := args[3]
	switch args[0] {
	case "same":
		name = r.Before
	case "rename":
		if err := refuseIn(ns.UTS, args[2]); err != nil {
			return fail(err)
		}
	default:
		return fail(fmt.Errorf("unknown mode %q", args[0]))
	}
	if err := unix.Sethostname([]byte(name)); err != nil {
		r.Err, r.EPERM = fmt.Sprintf("sethostname %q: %v", name, err), errors.Is(err, unix.EPERM)
	}
	r.After = hostname()
	return emit(r)
}

func hostname() string {
	var u unix.Utsname
	unix.Uname(&u) // cannot fail with a valid buffer
	return unix.ByteSliceToString(u.Nodename[:])
}

// guard is the caller's namespace of kind k, "DEV:INODE", for a child to
// compare with its own: a child cannot read its parent's /proc/PID/ns, so it
// is told.
func guard(k ns.Kind) (string, error) {
	id, err := ns.Get(ns.Self, k)
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("%d:%d", id.Dev, id.Inode), nil
}

// refuseIn fails when this process is still in its parent's namespace of kind k.
func refuseIn(k ns.Kind, parent string) error {
	own, err := guard(k)
	if err != nil {
		return err
	}
	if own == parent {
		return fmt.Errorf("refuse to call sethostname(2): PID %d is in its parent's %s namespace, not one the lab made", os.Getpid(), k)
	}
	return nil
}

// FileReport is one file a user-files child made, as it sees it.
type FileReport struct {
	Path string `json:"path"` // inside the child's mount namespace
	UID  int    `json:"uid"`  // its owner, as the child's stat(2) says
	GID  int    `json:"gid"`
}

// filesDir is where a user-files child mounts its tmpfs, in its own mount namespace.
const filesDir = "/tmp"

// filesMain mounts a tmpfs on filesDir, makes a file as root, and one given
// to UID and GID 1000 when its map has them; it prints what it made and
// waits for the end of its input, so that the parent can look from outside.
func filesMain([]string) int {
	if err := unix.Mount("nslab-user", filesDir, "tmpfs", unix.MS_NOSUID|unix.MS_NODEV, "mode=0755,size=64k"); err != nil {
		return fail(fmt.Errorf("mount tmpfs on %s: %w", filesDir, err))
	}
	var made []FileReport
	for _, id := range filesToMake() {
		f, err := makeFile(filepath.Join(filesDir, "made-by-root-for-"+strconv.Itoa(id)), id)
		if err != nil {
			return fail(err)
		}
		made = append(made, f)
	}
	if code := emit(made); code != 0 {
		return code
	}
	io.Copy(io.Discard, os.Stdin)
	return 0
}

// filesToMake: root's own file, and one for 1000 when 1000 is mapped.
func filesToMake() []int {
	ids := []int{0}
	m, err := ParseIDMapFile("/proc/self/uid_map")
	if err == nil && covers(m, 1000) {
		ids = append(ids, 1000)
	}
	return ids
}

func makeFile(path string, id int) (FileReport, error) {
	if err := os.WriteFile(path, []byte("made by root inside\n"), 0o644); err != nil {
		return FileReport{}, err
	}
	if id != 0 {
		if err := os.Chown(path, id, id); err != nil {
			return FileReport{}, err
		}
	}
	var st unix.Stat_t
	if err := unix.Stat(path, &st); err != nil {
		return FileReport{}, fmt.Errorf("stat %s: %w", path, err)
	}
	return FileReport{Path: path, UID: int(st.Uid), GID: int(st.Gid)}, nil
}

// ParseIDMapFile reads a uid_map or gid_map file by path.
func ParseIDMapFile(path string) ([]spawn.IDMap, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return ParseIDMap(string(b))
}

func covers(m []spawn.IDMap, id int) bool {
	for _, r := range m {
		if id >= r.ContainerID && id-r.ContainerID < r.Size {
			return true
		}
	}
	return false
}

// nestMain: args[0] is how many levels to start below this one. Each level
// prints its PID; the bottom one, in a new UTS namespace too, waits for the
// end of its input, and every level above waits for the one below.
func nestMain(args []string) int {
	below, err := strconv.Atoi(args[0])
	if err != nil {
		return fail(fmt.Errorf("user-nest: bad depth %q", args[0]))
	}
	fmt.Println(os.Getpid())
	if below == 0 {
		io.Copy(io.Discard, os.Stdin)
		return 0
	}
	err = spawn.Run(context.Background(), nestConfig(below-1, os.Stdin, os.Stdout, os.Stderr))
	if err != nil {
		return fail(err)
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

// emit prints v as one JSON line: a child's report to its parent.
func emit(v any) int {
	b, err := json.Marshal(v)
	if err != nil {
		return fail(err)
	}
	fmt.Printf("%s\n", b)
	return 0
}

func fail(err error) int {
	fmt.Fprintf(os.Stderr, "%v\n", err)
	return 1
}
