package holder

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"strings"
	"sync"

	"github.com/nslab/nslab/pkg/ns"
	"github.com/nslab/nslab/pkg/spawn"
)

// A Holder is the parent's end of a holder child.
type Holder struct {
	child  *spawn.Child // nil once closed or stopped
	pid    int
	in     *os.File      // write end of the child's stdin
	outR   *os.File      // read end of the child's stdout
	out    *bufio.Reader // outR, by lines
	mu     sync.Mutex    // one command at a time
	stderr bytes.Buffer  // written by os/exec until Wait returns
}

// Start starts cfg, whose Entrypoint serves the holder's commands, held
// before it runs (see spawn.Start); Release lets it run. Start sets the
// Config's Stdin and Stdout to pipes to the caller, and its Stderr to a
// buffer that the errors of a holder that died quote.
func Start(ctx context.Context, cfg spawn.Config) (*Holder, error) {
	inR, inW, err := os.Pipe()
	if err != nil {
		return nil, fmt.Errorf("start holder %s: make pipe: %w", cfg.Entrypoint, err)
	}
	outR, outW, err := os.Pipe()
	if err != nil {
		inR.Close()
		inW.Close()
		return nil, fmt.Errorf("start holder %s: make pipe: %w", cfg.Entrypoint, err)
	}
	h := &Holder{in: inW, outR: outR, out: bufio.NewReader(outR)}
	cfg.Stdin, cfg.Stdout, cfg.Stderr = inR, outW, &h.stderr
	h.child, err = spawn.Start(ctx, cfg)
	inR.Close()
	outW.Close()
	if err != nil {
		inW.Close()
		outR.Close()
		return nil, err
	}
	h.pid = h.child.PID()
	return h, nil
}

// Release lets a held holder run (spawn.Child.Release); on failure it
// stops the holder.
func (h *Holder) Release() error {
	if err := h.child.Release(); err != nil {
		h.Stop()
		return err
	}
	return nil
}

// PID returns the holder's PID in the caller's PID namespace.
func (h *Holder) PID() int { return h.pid }

// Child returns the holder's spawn child, nil once it is closed or stopped.
func (h *Holder) Child() *spawn.Child { return h.child }

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
	return ParseReply(cmd, line)
}

// Line runs one command in the holder and returns its answer line as it
// is, without the newline: for a holder that relays another's answers.
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
	if werr == nil {
		werr = cause
	}
	return fmt.Errorf("holder (PID %d) gave no answer to %q: %w: %s", h.PID(), cmd, werr, strings.TrimSpace(h.stderr.String()))
}

// Close ends the holder: it closes its standard input, so that the holder
// leaves its command loop and exits, and reaps it. A holder that did not
// exit with status 0 is an error quoting its stderr.
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
