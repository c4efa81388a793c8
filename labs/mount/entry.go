//go:build linux

package mount

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/nslab/nslab/pkg/holder"
	"github.com/nslab/nslab/pkg/lab"
	"github.com/nslab/nslab/pkg/spawn"
	"golang.org/x/sys/unix"
)

// entryHolder is the command loop of a holder (holder.go).
const entryHolder = "mount.holder"

func init() { spawn.Register(entryHolder, holderMain) }

// commands are the holder's commands, sorted by name.
var commands = holder.Commands{
	"bind":       two(BindMount), // step 05
	"exec":       execCmd,
	"labbind":    two(func(a, b string) error { return mountFS(a, b, "", unix.MS_BIND|unix.MS_REC, "") }),
	"labclose":   labCloseCmd,
	"labmntmax":  one(labMntMax),
	"labopen":    one(labOpen),
	"labprop":    two(labPropagation),
	"labrefuse":  one(func(p string) error { refused = strings.TrimPrefix(p, "-"); return nil }),
	"labro":      one(func(p string) error { return mountFS("", p, "", unix.MS_REMOUNT|unix.MS_BIND|unix.MS_RDONLY, "") }),
	"labroot":    one(labRoot),
	"labsymlink": two(os.Symlink),
	"labtmpfs":   one(func(p string) error { return mountFS("tmpfs", p, "tmpfs", 0, "mode=755") }),
	"ls":         holder.ListDir,
	"mkdir":      one(mkdirCmd),
	"pivot":      one(PivotRoot),      // step 08
	"private":    privateCmd,          // step 03
	"prop":       two(SetPropagation), // step 05
	"robind":     two(BindReadOnly),   // step 06
	"rootfs":     one(BuildRootfs),    // step 07
	"stat":       statCmd,             // what is at a path, from this thread
	"teardown":   one(Teardown),       // step 09
	"tmpfs":      two(tmpfsCmd),       // step 04
	"write":      two(writeCmd),
}

// holderMain answers one line per command line until stdin closes.
func holderMain(args []string) int {
	if len(args) != 0 {
		fmt.Fprintln(os.Stderr, "usage: mount.holder (commands on standard input)")
		return 2
	}
	s := &server{peers: map[string]*nsThread{}}
	return holder.Serve(s.answer)
}

type server struct{ peers map[string]*nsThread }

func (s *server) answer(words []string) string {
	if len(words) > 0 && strings.HasPrefix(words[0], "@") {
		p, ok := s.peers[words[0][1:]]
		if !ok {
			return fmt.Sprintf("err - no peer %q", words[0][1:])
		}
		var line string
		p.do(func() error { line = answer(words[1:]); return nil })
		return line
	}
	if len(words) == 2 && words[0] == "peer" {
		return s.newPeer(words[1])
	}
	return answer(words)
}

// answer runs a command; an unwritten step's panic becomes its "err"
// answer, so that the holder, and its peers, live on.
func answer(words []string) string {
	var line string
	err := lab.Recover(func() error {
		line = commands.Answer(words)
		return nil
	})
	if err != nil {
		return holder.Reply(nil, err)
	}
	return line
}

// newPeer starts a thread in a new mount namespace, made with a bare
// unshare(CLONE_NEWNS) that keeps every mount's propagation, and answers
// with its TID.
func (s *server) newPeer(name string) string {
	if _, dup := s.peers[name]; dup {
		return fmt.Sprintf("err - peer %q exists", name)
	}
	t, err := startThread(unshareMount)
	if err != nil {
		return holder.Reply(nil, err)
	}
	s.peers[name] = t
	return fmt.Sprintf("ok %d", t.tid)
}

// unshareMount moves the calling thread to a new mount namespace and leaves
// propagation as it was (what goes wrong without step 03, and what the
// propagation of step 05 needs).
func unshareMount() error {
	if err := unix.Unshare(unix.CLONE_NEWNS); err != nil {
		return fmt.Errorf("unshare(CLONE_NEWNS): %w", err)
	}
	return nil
}

func one(fn func(string) error) holder.Command {
	return func(args []string) ([]string, error) {
		if len(args) != 1 {
			return nil, errors.New("usage: PATH")
		}
		return nil, fn(args[0])
	}
}

func two(fn func(a, b string) error) holder.Command {
	return func(args []string) ([]string, error) {
		if len(args) != 2 {
			return nil, errors.New("usage: ARG ARG")
		}
		return nil, fn(args[0], args[1])
	}
}

// mkdirCmd makes a directory and its parents, but only on a tmpfs: the
// lab makes nothing on the host's own file systems.
func mkdirCmd(path string) error {
	dir := filepath.Clean(path)
	for {
		if _, err := os.Stat(dir); err == nil || dir == "/" {
			break
		}
		dir = filepath.Dir(dir)
	}
	var st unix.Statfs_t
	if err := unix.Statfs(dir, &st); err != nil {
		return fmt.Errorf("statfs %s: %w", dir, err)
	}
	if st.Type != unix.TMPFS_MAGIC {
		return fmt.Errorf("mkdir %s: %s is not on a tmpfs; the lab makes directories only in its own tmpfs", path, dir)
	}
	return os.MkdirAll(path, 0o755)
}

func tmpfsCmd(path, kib string) error {
	n, err := strconv.Atoi(kib)
	if err != nil {
		return fmt.Errorf("bad size %q: %w", kib, err)
	}
	return MountTmpfs(path, n)
}

func writeCmd(path, text string) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return err
	}
	_, err = f.WriteString(text)
	return errors.Join(err, f.Close())
}

// propagationFlags are the mount(2) flags of mount --make-TYPE.
var propagationFlags = map[string]uintptr{"shared": unix.MS_SHARED, "slave": unix.MS_SLAVE, "private": unix.MS_PRIVATE, "unbindable": unix.MS_UNBINDABLE}

// labPropagation is the lab's own mount --make-TYPE, for set-ups that do not grade SetPropagation.
func labPropagation(path, typ string) error {
	flag, ok := propagationFlags[typ]
	if !ok {
		return fmt.Errorf("unknown propagation type %q", typ)
	}
	return mountFS("", path, "", flag, "")
}

// statCmd says what is at a path: "dir", "file", "char", "link TARGET", or "other".
func statCmd(args []string) ([]string, error) {
	if len(args) != 1 {
		return nil, errors.New("usage: stat PATH")
	}
	fi, err := os.Lstat(args[0])
	if err != nil {
		return nil, err
	}
	switch m := fi.Mode(); {
	case m&os.ModeSymlink != 0:
		link, err := os.Readlink(args[0])
		return []string{"link", link}, err
	case m.IsDir():
		return []string{"dir"}, nil
	case m.IsRegular():
		return []string{"file"}, nil
	case m&os.ModeCharDevice != 0:
		return []string{"char"}, nil
	}
	return []string{"other"}, nil
}

// execCmd runs an external command from this thread and answers with the words of its output.
func execCmd(args []string) ([]string, error) {
	if len(args) == 0 {
		return nil, errors.New("usage: exec CMD [ARG...]")
	}
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Stdin = strings.NewReader("") // a pipe: after pivot_root there may be no /dev/null
	out, err := cmd.CombinedOutput()
	if err != nil {
		return nil, fmt.Errorf("%s: %w: %s", args[0], err, strings.TrimSpace(string(out)))
	}
	return strings.Fields(string(out)), nil
}

// labMntMax sets the most mount namespaces that may be made in the
// holder's user namespace (user/max_mnt_namespaces, a limit of each user
// namespace's own, which root in it may change).
func labMntMax(n string) error {
	if _, err := strconv.Atoi(n); err != nil {
		return fmt.Errorf("bad limit %q: %w", n, err)
	}
	return os.WriteFile("/proc/sys/user/max_mnt_namespaces", []byte(n+"\n"), 0)
}

// errSetUp marks the failure of the lab's own set-up in an answer.
const errSetUp = "the lab's own set-up failed"

// privateCmd calls EnterPrivateMountNS (step 03) on a new thread of the
// holder, chrooted first to the directory given, if one is, and ends the
// thread.
func privateCmd(args []string) ([]string, error) {
	if len(args) > 1 {
		return nil, errors.New("usage: private [CHROOT]")
	}
	var setup error
	t, err := startThread(func() error {
		if len(args) == 1 {
			if setup = chrootThread(args[0]); setup != nil {
				return setup
			}
		}
		return EnterPrivateMountNS()
	})
	if setup != nil {
		return nil, fmt.Errorf("%s: %w", errSetUp, setup)
	}
	if t != nil {
		t.stop()
	}
	return nil, err
}

// chrootThread gives the calling thread, which is locked and will end, a
// root directory of its own: dir, which need not be a mount point.
func chrootThread(dir string) error {
	if err := unix.Unshare(unix.CLONE_FS); err != nil {
		return fmt.Errorf("unshare(CLONE_FS): %w", err)
	}
	if err := unix.Chroot(dir); err != nil {
		return fmt.Errorf("chroot %s: %w", dir, err)
	}
	return unix.Chdir("/")
}

// held are the files labopen keeps open, until labclose: an open file
// keeps its mount busy (umount2 without MNT_DETACH fails with EBUSY).
var held []*os.File

// labOpen opens path and keeps it open.
func labOpen(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	held = append(held, f)
	return nil
}

// labCloseCmd closes the files labopen keeps open.
func labCloseCmd(args []string) ([]string, error) {
	if len(args) != 0 {
		return nil, errors.New("usage: labclose")
	}
	var errs []error
	for _, f := range held {
		errs = append(errs, f.Close())
	}
	held = nil
	return nil, errors.Join(errs...)
}
