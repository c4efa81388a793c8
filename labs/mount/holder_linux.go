//go:build linux

package mount

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/nslab/nslab/pkg/ns"
	"github.com/nslab/nslab/pkg/spawn"
	"golang.org/x/sys/unix"
)

// A Holder is a child in a mount namespace of its own that runs one lab
// command per line written to its standard input and answers with one line:
// "ok [WORDS]" or "err ERRNO MESSAGE" (the commands are in entry_linux.go).
// A command prefixed with "@NAME " runs on the holder's peer NAME: a thread
// of the holder that moved to a mount namespace of its own (command "peer").
// The holder exits when its standard input is closed; its namespaces, and
// every mount in them, go with it.
type Holder struct {
	child  *spawn.Child
	in     *os.File
	outR   *os.File
	out    *bufio.Reader
	stderr bytes.Buffer
	peers  map[string]int // peer name -> TID
}

// StartHolder starts a holder in new namespaces of kinds (ns.Mnt among
// them) and lets it run.
func StartHolder(ctx context.Context, kinds ...ns.Kind) (*Holder, error) {
	inR, inW, err := os.Pipe()
	if err != nil {
		return nil, fmt.Errorf("start holder: make pipe: %w", err)
	}
	outR, outW, err := os.Pipe()
	if err != nil {
		inR.Close()
		inW.Close()
		return nil, fmt.Errorf("start holder: make pipe: %w", err)
	}
	h := &Holder{in: inW, outR: outR, out: bufio.NewReader(outR), peers: map[string]int{}}
	h.child, err = spawn.Start(ctx, spawn.Config{New: kinds, Entrypoint: entryHolder, Stdin: inR, Stdout: outW, Stderr: &h.stderr})
	inR.Close()
	outW.Close()
	if err == nil {
		err = h.child.Release()
	}
	if err != nil {
		h.Stop()
		return nil, err
	}
	return h, nil
}

// PID returns the holder's PID.
func (h *Holder) PID() int { return h.child.PID() }

// Do runs one command in the holder and returns the words after "ok". A
// reply "err ERRNO MESSAGE" is a *CommandError.
func (h *Holder) Do(format string, args ...any) ([]string, error) {
	cmd := fmt.Sprintf(format, args...)
	if h.child == nil {
		return nil, fmt.Errorf("holder: %s: not running", cmd)
	}
	if _, err := fmt.Fprintln(h.in, cmd); err != nil {
		return nil, h.died(cmd, err)
	}
	line, err := h.out.ReadString('\n')
	if err != nil {
		return nil, h.died(cmd, err)
	}
	return parseReply(cmd, line)
}

// Peer makes a thread of the holder leave for a new mount namespace: with
// private, through the learner's EnterPrivateMountNS (step 03); without,
// through a bare unshare(CLONE_NEWNS), which keeps every mount's propagation.
func (h *Holder) Peer(name string, private bool) error {
	how := "keep"
	if private {
		how = "private"
	}
	words, err := h.Do("peer %s %s", name, how)
	if err != nil {
		return err
	}
	tid, err := strconv.Atoi(strings.Join(words, ""))
	if err != nil {
		return fmt.Errorf("holder: peer %s: bad TID %q", name, words)
	}
	h.peers[name] = tid
	return nil
}

// Path returns the /proc path of file for the holder ("mountinfo",
// "ns/mnt"), or for its peer's thread when peer is not empty.
func (h *Holder) Path(peer, file string) string {
	if peer == "" {
		return fmt.Sprintf("/proc/%d/%s", h.PID(), file)
	}
	return fmt.Sprintf("/proc/%d/task/%d/%s", h.PID(), h.peers[peer], file)
}

// Mounts reads the mount table of the holder, or of its peer.
func (h *Holder) Mounts(peer string) ([]Mount, error) {
	return ReadMountinfo(h.Path(peer, "mountinfo"))
}

// MntNS returns the mount namespace of the holder, or of its peer, as "mnt:[INODE]".
func (h *Holder) MntNS(peer string) (string, error) {
	link, err := os.Readlink(h.Path(peer, "ns/mnt"))
	if err != nil {
		return "", fmt.Errorf("read the mount namespace: %w", err)
	}
	return link, nil
}

func (h *Holder) died(cmd string, cause error) error {
	h.in.Close()
	werr := h.child.Wait()
	if werr == nil {
		werr = cause
	}
	return fmt.Errorf("holder (PID %d) gave no answer to %q: %w: %s", h.PID(), cmd, werr, strings.TrimSpace(h.stderr.String()))
}

// Close ends the holder: it closes its standard input and reaps it.
func (h *Holder) Close() error {
	if h.child == nil {
		return nil
	}
	h.in.Close()
	err := h.child.Wait()
	h.outR.Close()
	h.child = nil
	if err != nil {
		return fmt.Errorf("%w: %s", err, strings.TrimSpace(h.stderr.String()))
	}
	return nil
}

// Stop kills the holder if it still runs and reaps it; for deferred cleanup.
func (h *Holder) Stop() {
	if h.child == nil {
		return
	}
	h.in.Close()
	h.child.Stop()
	h.outR.Close()
	h.child = nil
}

// CommandError is a holder's "err" reply.
type CommandError struct {
	Cmd   string
	Errno unix.Errno // 0 when the failure was not a system call's
	Msg   string
}

func (e *CommandError) Error() string { return e.Cmd + ": " + e.Msg }

func (e *CommandError) Unwrap() error {
	if e.Errno == 0 {
		return nil
	}
	return e.Errno
}

// Errno names the error number of err ("EINVAL"), or "-" when it has none.
func Errno(err error) string {
	var errno unix.Errno
	if errors.As(err, &errno) && unix.ErrnoName(errno) != "" {
		return unix.ErrnoName(errno)
	}
	return "-"
}

func parseReply(cmd, line string) ([]string, error) {
	f := strings.Fields(line)
	switch {
	case len(f) > 0 && f[0] == "ok":
		return f[1:], nil
	case len(f) > 1 && f[0] == "err":
		msg := strings.TrimSpace(strings.TrimPrefix(strings.TrimPrefix(line, "err "), f[1]))
		return nil, &CommandError{Cmd: cmd, Errno: errnoValue(f[1]), Msg: msg}
	}
	return nil, fmt.Errorf("holder: %s: unexpected answer %q", cmd, line)
}

func errnoValue(name string) unix.Errno {
	for e := unix.Errno(1); e < 256; e++ {
		if unix.ErrnoName(e) == name {
			return e
		}
	}
	return 0
}

// ReadMountinfo reads and parses a mountinfo file, such as /proc/PID/mountinfo.
func ReadMountinfo(path string) ([]Mount, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	m, err := ParseMountinfo(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return m, nil
}
