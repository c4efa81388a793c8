//go:build linux

package network

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"

	"github.com/nslab/nslab/pkg/ns"
	"github.com/nslab/nslab/pkg/spawn"
	"golang.org/x/sys/unix"
)

// A Holder is a child that keeps its namespaces alive and runs one lab
// command per line written to its standard input, answering with one line
// on its standard output: "ok [WORDS]" or "err ERRNO MESSAGE". The commands
// are in entry_linux.go. The holder exits when its standard input is closed.
type Holder struct {
	child  *spawn.Child
	in     *os.File      // write end of the child's stdin
	outR   *os.File      // read end of the child's stdout
	out    *bufio.Reader // outR, by lines
	mu     sync.Mutex    // one command at a time
	stderr bytes.Buffer  // written by os/exec until Wait returns
}

// StartHolder starts a holder in new namespaces of kinds and lets it run.
// mapRoot asks for a user namespace mapping the caller to root even when the
// caller is root (kinds must then include ns.User).
func StartHolder(ctx context.Context, mapRoot bool, kinds ...ns.Kind) (*Holder, error) {
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
	h := &Holder{in: inW, outR: outR, out: bufio.NewReader(outR)}
	parent, err := ns.Get(ns.Self, ns.Net)
	if err == nil {
		h.child, err = spawn.Start(ctx, spawn.Config{
			New: kinds, MapRoot: mapRoot, Entrypoint: entryHolder, Args: []string{netnsArg(parent)},
			Stdin: inR, Stdout: outW, Stderr: &h.stderr,
		})
	}
	inR.Close()
	outW.Close()
	if err == nil {
		err = h.child.Release()
	}
	if err == nil {
		_, err = h.Do("ready") // the holder checked that its network namespace is not its parent's
	}
	if err != nil {
		h.Stop()
		return nil, err
	}
	return h, nil
}

// netnsArg tells a holder its parent's network namespace, which the holder
// could not read itself from inside a user namespace of its own.
func netnsArg(id ns.ID) string { return fmt.Sprintf("%d:%d", id.Dev, id.Inode) }

// PID returns the holder's PID.
func (h *Holder) PID() int { return h.child.PID() }

// Namespaces reads the holder's namespaces.
func (h *Holder) Namespaces() (ns.Set, error) { return h.child.Namespaces() }

// Do runs one command in the holder and returns the words after "ok". A
// reply "err ERRNO MESSAGE" is a *CommandError; a holder that died (an
// unwritten step panics there) is an error with its exit status and stderr.
func (h *Holder) Do(format string, args ...any) ([]string, error) {
	cmd := fmt.Sprintf(format, args...)
	line, err := h.Line(cmd)
	if err != nil {
		return nil, err
	}
	return parseReply(cmd, line)
}

// Line runs one command in the holder and returns its answer line as it is.
func (h *Holder) Line(cmd string) (string, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.child == nil {
		return "", fmt.Errorf("holder: %s: not running", cmd)
	}
	if _, err := fmt.Fprintln(h.in, cmd); err != nil {
		return "", h.died(cmd, err)
	}
	line, err := h.out.ReadString('\n')
	if err != nil {
		return "", h.died(cmd, err)
	}
	return strings.TrimSuffix(line, "\n"), nil
}

// died reaps a holder that stopped answering and says why.
func (h *Holder) died(cmd string, cause error) error {
	h.in.Close()
	werr := h.child.Wait()
	msg := strings.TrimSpace(h.stderr.String())
	if werr == nil {
		werr = cause
	}
	return fmt.Errorf("holder (PID %d) gave no answer to %q: %w: %s", h.PID(), cmd, werr, msg)
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

// Errno names the error number of err, "ENOENT", or returns "-" when it has none.
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

// Close ends the holder: it closes its standard input, so that the holder
// leaves its command loop and exits, and reaps it.
func (h *Holder) Close() error {
	h.mu.Lock()
	defer h.mu.Unlock()
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
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.child == nil {
		return
	}
	h.in.Close()
	h.child.Stop()
	h.outR.Close()
	h.child = nil
}

// errnoValue is the error number called name ("ENOENT"), or 0.
func errnoValue(name string) unix.Errno {
	for e := unix.Errno(1); e < 256; e++ {
		if unix.ErrnoName(e) == name {
			return e
		}
	}
	return 0
}
