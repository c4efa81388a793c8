package holder

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"

	"github.com/nslab/nslab/pkg/ns"
	"github.com/nslab/nslab/pkg/spawn"
)

// A Holder is the parent's end of a holder child. The zero value is not a
// holder: make one with Start, StartWith or StartCommand.
type Holder struct {
	proc   process       // the child: a *spawn.Child or a command; nil once closed or stopped
	pid    int           // its PID in the caller's PID namespace, kept once it ended
	in     *os.File      // write end of the child's stdin
	outR   *os.File      // read end of the child's stdout
	out    *bufio.Reader // outR, by lines
	mu     sync.Mutex    // one command or read at a time
	stderr SyncBuffer    // the child's stderr
}

// process is what a Holder needs of its child: a *spawn.Child, or a
// started command (command).
type process interface {
	PID() int
	Release() error
	Wait() error
	Stop() error
}

// A StartFunc starts a held spawn child from a Config: spawn.Start, or a
// lab's function that calls it (the learner's, as often as not).
type StartFunc func(context.Context, spawn.Config) (*spawn.Child, error)

// ErrNoChild is the error of StartWith when start returned neither a child
// nor an error: the mistake of a start function, not the kernel's.
var ErrNoChild = errors.New("no child and no error; want the *spawn.Child of spawn.Start")

// Start starts cfg with spawn.Start: see StartWith.
func Start(ctx context.Context, cfg spawn.Config) (*Holder, error) {
	return StartWith(ctx, cfg, spawn.Start)
}

// StartRunning starts cfg with spawn.Start and lets it run at once (Start,
// then Release): for a holder the caller has nothing to look at before it
// runs.
func StartRunning(ctx context.Context, cfg spawn.Config) (*Holder, error) {
	h, err := Start(ctx, cfg)
	if err != nil {
		return nil, err
	}
	if err := h.Release(); err != nil {
		return nil, err
	}
	return h, nil
}

// StartWith starts cfg, whose Entrypoint serves the holder's commands or
// reports, with start, held before it runs (see spawn.Start); Release or
// Report lets it run. StartWith sets the Config's Stdin and Stdout to pipes
// to the caller, and its Stderr to a buffer that Stderr returns and the
// errors of a holder that died quote. A nil child with a nil error from
// start is ErrNoChild; a child that start returned with an error is stopped.
func StartWith(ctx context.Context, cfg spawn.Config, start StartFunc) (*Holder, error) {
	h, p, err := prepare("holder " + cfg.Entrypoint)
	if err != nil {
		return nil, err
	}
	started := false
	defer func() { p.done(started) }() // also when start panics (an unwritten step)
	cfg.Stdin, cfg.Stdout, cfg.Stderr = p.inR, p.outW, &h.stderr
	c, err := start(ctx, cfg)
	if err == nil && c == nil {
		err = ErrNoChild
	}
	if err != nil {
		if c != nil {
			c.Stop()
		}
		return nil, err
	}
	h.proc, h.pid, started = c, c.PID(), true
	return h, nil
}

// Release lets a held holder run (spawn.Child.Release; a command runs
// already); on failure it stops the holder.
func (h *Holder) Release() error {
	p := h.running()
	if p == nil {
		return fmt.Errorf("release holder PID %d: it is closed", h.pid)
	}
	if err := p.Release(); err != nil {
		h.Stop()
		return err
	}
	return nil
}

// running returns the holder's process, nil once it is closed or stopped.
func (h *Holder) running() process {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.proc
}

// PID returns the holder's PID in the caller's PID namespace.
func (h *Holder) PID() int { return h.pid }

// Child returns the holder's spawn child: nil for a command, and once the
// holder is closed or stopped.
func (h *Holder) Child() *spawn.Child {
	c, _ := h.running().(*spawn.Child)
	return c
}

// Namespaces reads the holder's namespaces.
func (h *Holder) Namespaces() (ns.Set, error) { return ns.Of(h.pid) }

// Stderr returns what the holder wrote on its standard error so far,
// without surrounding white space.
func (h *Holder) Stderr() string { return h.stderr.String() }

// Do runs one command in the holder and returns the words after "ok". A
// reply "err ERRNO MESSAGE" is a *CommandError; a holder that died (an
// unwritten step panics there) is an error with its exit status and stderr.
func (h *Holder) Do(format string, args ...any) ([]string, error) {
	cmd := fmt.Sprintf(format, args...)
	line, err := h.Line(cmd)
	if err != nil {
		return nil, err
	}
	return ParseReply(cmd, line)
}

// Line runs one command in the holder and returns its answer line as it
// is, without the newline: for a holder that relays another's answers.
func (h *Holder) Line(cmd string) (string, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.proc == nil {
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
	return fmt.Errorf("holder (PID %d) gave no answer to %q: %w: %s", h.pid, cmd, h.reap(cause), h.stderr.String())
}

// Report lets a held holder run (Release) and reads its report, one line
// of JSON (see ReportAndHold), into v. A holder that ended without one is
// reaped, and the error quotes its stderr and wraps its exit error (a
// *spawn.ExitError when its status was not 0).
func (h *Holder) Report(v any) error {
	if err := h.Release(); err != nil {
		return err
	}
	line, err := h.read("ended without a report")
	if err != nil {
		return err
	}
	if err := json.Unmarshal([]byte(line), v); err != nil {
		return fmt.Errorf("read the report of PID %d, %q: %w", h.pid, line, err)
	}
	return nil
}

// Next reads the next line the holder wrote, without the newline: for a
// holder that speaks unasked, a line at a time. A holder that ended first
// is reaped, and the error is as Report's.
func (h *Holder) Next() (string, error) { return h.read("ended before its next line") }

// read reads a line of the holder's output; what says what it means that
// there was none.
func (h *Holder) read(what string) (string, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.proc == nil {
		return "", fmt.Errorf("read from holder PID %d: it is closed", h.pid)
	}
	line, err := h.out.ReadString('\n')
	if err != nil {
		return "", h.ended(what, err)
	}
	return strings.TrimSuffix(line, "\n"), nil
}

// ended reaps a holder whose output ended early and says why: "PID 12
// ended without a report: its stderr (its exit error)".
func (h *Holder) ended(what string, cause error) error {
	werr := h.reap(cause)
	if msg := h.stderr.String(); msg != "" {
		return fmt.Errorf("PID %d %s: %s (%w)", h.pid, what, msg, werr)
	}
	return fmt.Errorf("PID %d %s (%w)", h.pid, what, werr)
}

// reap closes the input of a holder that stopped answering, reaps it, and
// returns why it ended: its exit error, or cause when it exited with 0.
func (h *Holder) reap(cause error) error {
	h.in.Close()
	if err := h.proc.Wait(); err != nil {
		return err
	}
	return cause
}

// Close ends the holder: it closes its standard input, so that the holder
// leaves its command loop (or its hold) and exits, and reaps it. A holder
// that did not exit with status 0 is an error quoting its stderr.
func (h *Holder) Close() error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.proc == nil {
		return nil
	}
	h.in.Close()
	err := h.proc.Wait()
	h.outR.Close()
	h.proc = nil
	if err != nil {
		return fmt.Errorf("%w: %s", err, h.stderr.String())
	}
	return nil
}

// Stop ends the holder if it still runs, the end of its input first, and
// reaps it; for deferred cleanup. A spawn child gets its StopSignal (see
// spawn.Child.Stop), a command SIGKILL after stopDelay.
func (h *Holder) Stop() {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.proc == nil {
		return
	}
	h.in.Close()
	h.proc.Stop()
	h.outR.Close()
	h.proc = nil
}
