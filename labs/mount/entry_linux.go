//go:build linux

package mount

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"

	"github.com/nslab/nslab/pkg/holder"
	"github.com/nslab/nslab/pkg/lab"
	"github.com/nslab/nslab/pkg/spawn"
	"golang.org/x/sys/unix"
)

// entryHolder is the command loop of a Holder.
const entryHolder = "mount.holder"

func init() { spawn.Register(entryHolder, holderMain) }

// commands are the holder's commands, sorted by name.
var commands = holder.Commands{
	"bind":     two(func(a, b string) error { return BindMount(a, b) }), // step 05
	"exec":     execCmd,
	"labbind":  two(func(a, b string) error { return mountFS(a, b, "", unix.MS_BIND|unix.MS_REC, "") }),
	"labprop":  two(labPropagation),
	"labroot":  one(labRoot),
	"labtmpfs": one(func(p string) error { return mountFS("tmpfs", p, "tmpfs", 0, "mode=755") }),
	"ls":       holder.ListDir,
	"mkdir":    one(mkdirCmd),
	"pivot":    one(PivotRoot),                                             // step 07
	"prop":     two(SetPropagation),                                        // step 05
	"rootfs":   one(BuildRootfs),                                           // step 06
	"stat":     statCmd,                                                    // what is at a path, from this thread
	"teardown": one(Teardown),                                              // step 08
	"tmpfs":    two(func(p, kib string) error { return tmpfsCmd(p, kib) }), // step 04
	"write":    two(func(p, text string) error { return writeCmd(p, text) }),
}

// holderMain answers one line per command line until stdin closes.
func holderMain([]string) int {
	s := &server{peers: map[string]*peer{}}
	return holder.Serve(s.answer)
}

type server struct{ peers map[string]*peer }

// peer is a thread of the holder locked in a mount namespace of its own; it
// runs the commands sent to it, so that they act in that namespace.
type peer struct {
	tid  int
	reqs chan request
}

type request struct {
	words []string
	reply chan string
}

func (s *server) answer(words []string) string {
	if len(words) > 0 && strings.HasPrefix(words[0], "@") {
		p, ok := s.peers[words[0][1:]]
		if !ok {
			return fmt.Sprintf("err - no peer %q", words[0][1:])
		}
		r := request{words: words[1:], reply: make(chan string)}
		p.reqs <- r
		return <-r.reply
	}
	if len(words) == 3 && words[0] == "peer" {
		return s.newPeer(words[1], words[2] == "private")
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

// newPeer starts a thread in a new mount namespace and answers with its TID.
func (s *server) newPeer(name string, private bool) string {
	if _, dup := s.peers[name]; dup {
		return fmt.Sprintf("err - peer %q exists", name)
	}
	for range 3 {
		p := &peer{reqs: make(chan request)}
		ready := make(chan error)
		go p.run(private, ready)
		err := <-ready
		if errors.Is(err, errLeader) {
			continue
		}
		if err != nil {
			return holder.Reply(nil, err)
		}
		s.peers[name] = p
		return fmt.Sprintf("ok %d", p.tid)
	}
	return "err - could not get a thread other than the main one"
}

var errLeader = errors.New("locked to the main thread")

// run locks its goroutine to an OS thread for good: the thread changes its
// mount namespace, so it must never run another goroutine, and it ends when
// the process does. The main thread is kept out of it (parked), so that
// /proc/PID/mountinfo keeps showing the holder's own namespace.
func (p *peer) run(private bool, ready chan<- error) {
	runtime.LockOSThread()
	if unix.Gettid() == unix.Getpid() {
		ready <- errLeader
		select {} // keep the main thread locked, and out of the way, for good
	}
	p.tid = unix.Gettid()
	err := lab.Recover(func() error {
		if private {
			return EnterPrivateMountNS()
		}
		if err := unix.Unshare(unix.CLONE_NEWNS); err != nil {
			return fmt.Errorf("unshare(CLONE_NEWNS): %w", err)
		}
		return nil
	})
	ready <- err
	if err != nil {
		return // the thread ends with the goroutine: it is locked
	}
	for r := range p.reqs {
		r.reply <- answer(r.words)
	}
}

func one(fn func(string) error) holder.Command {
	return func(args []string) ([]string, error) {
		if len(args) != 1 {
			return nil, fmt.Errorf("usage: PATH")
		}
		return nil, fn(args[0])
	}
}

func two(fn func(a, b string) error) holder.Command {
	return func(args []string) ([]string, error) {
		if len(args) != 2 {
			return nil, fmt.Errorf("usage: ARG ARG")
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

// labPropagation is the lab's own mount --make-TYPE, for set-ups that do not grade SetPropagation.
func labPropagation(path, typ string) error {
	flags := map[string]uintptr{"shared": unix.MS_SHARED, "slave": unix.MS_SLAVE, "private": unix.MS_PRIVATE, "unbindable": unix.MS_UNBINDABLE}
	if flags[typ] == 0 {
		return fmt.Errorf("unknown propagation type %q", typ)
	}
	return mountFS("", path, "", flags[typ], "")
}

// labRoot is the lab's own small root for step 07, so that step 07 does not
// depend on step 06: a tmpfs with the host's /usr (and /bin, /lib*: the
// same links, or binds), and a fresh /proc.
func labRoot(root string) error {
	if err := mountFS("tmpfs", root, "tmpfs", 0, "mode=755"); err != nil {
		return err
	}
	for _, dir := range HostDirs {
		target := filepath.Join(root, dir)
		if link, err := os.Readlink(dir); err == nil {
			if err := os.Symlink(link, target); err != nil {
				return err
			}
		} else if _, err := os.Stat(dir); err == nil {
			if err := os.Mkdir(target, 0o755); err != nil {
				return err
			}
			if err := mountFS(dir, target, "", unix.MS_BIND|unix.MS_REC, ""); err != nil {
				return err
			}
		}
	}
	return mkdirMount("proc", filepath.Join(root, "proc"), "proc", unix.MS_NOSUID|unix.MS_NODEV|unix.MS_NOEXEC, "")
}

// statCmd says what is at a path: "dir", "file", "char", "link TARGET", or "other".
func statCmd(args []string) ([]string, error) {
	if len(args) != 1 {
		return nil, fmt.Errorf("usage: stat PATH")
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
		return nil, fmt.Errorf("usage: exec CMD [ARG...]")
	}
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Stdin = strings.NewReader("") // a pipe: after pivot_root there may be no /dev/null
	out, err := cmd.CombinedOutput()
	if err != nil {
		return nil, fmt.Errorf("%s: %w: %s", args[0], err, strings.TrimSpace(string(out)))
	}
	return strings.Fields(string(out)), nil
}
