//go:build linux

package lab

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"sync"
	"time"

	"github.com/nslab/nslab/pkg/host"
	"github.com/nslab/nslab/pkg/labhost"
)

// Hosts lends lab hosts to the steps of one run (a lab's graded test, a
// narrated run of a lab). A step gets a lab host that is either new or one
// that an earlier step gave back exactly as it was made, and gives it back
// only in that state: its step passed (or was not written), its runner
// ended on its own, nothing else lives in it, its writable directories are
// empty, and a snapshot of its namespaces (host.TakeOf: names, mounts with
// their IDs and propagation, links, addresses, routes, sysctls, IPC) is the
// one taken when it was made. Any other lab host is stopped, so a step never
// sees what another step left. Lending needs root (the snapshot does), and
// is off for steps with a cgroup of their own and with NSLAB_BARE=1: those
// get a new lab host every time, as Exec gives.
//
// A nil *Hosts lends nothing: every step gets a new lab host.
type Hosts struct {
	mu           sync.Mutex
	idle         []*resident
	closed       bool
	made, reused int
	start        chan func() // run on the thread that starts lab hosts
}

// resident is a lab host that starts one runner at a time, and its state
// when it was made.
type resident struct {
	h    *labhost.Host
	base host.Snapshot
}

// NewHosts returns an empty set of lab hosts; Close stops what is left in it.
func NewHosts() *Hosts {
	p := &Hosts{start: make(chan func())}
	go p.starter()
	return p
}

// starter starts the lab hosts on a thread of its own that lives until
// Close: a child's Pdeathsig fires when the thread that started it ends, and
// a lab host outlives the step that asked for it.
func (p *Hosts) starter() {
	runtime.LockOSThread() // never unlocked: the thread ends with Close
	for fn := range p.start {
		fn()
	}
}

// Counts says how many lab hosts were made and how many times one was lent again.
func (p *Hosts) Counts() (made, reused int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.made, p.reused
}

// Close stops every lab host not lent at the moment.
func (p *Hosts) Close() error {
	if p == nil {
		return nil
	}
	p.mu.Lock()
	idle := p.idle
	p.idle, p.closed = nil, true
	p.mu.Unlock()
	var errs []error
	for _, r := range idle {
		errs = append(errs, r.h.Stop())
	}
	close(p.start)
	return errors.Join(errs...)
}

// lends says whether step s may run in a lent lab host.
func (p *Hosts) lends(s *Step) bool {
	return p != nil && !s.Cgroup && !labhost.Bare() && os.Geteuid() == 0
}

// take lends an idle lab host, or makes one.
func (p *Hosts) take() (*resident, error) {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return nil, errors.New("lab hosts: closed")
	}
	if n := len(p.idle); n > 0 {
		r := p.idle[n-1]
		p.idle = p.idle[:n-1]
		p.reused++
		p.mu.Unlock()
		return r, nil
	}
	p.made++
	p.mu.Unlock()
	var h *labhost.Host
	var err error
	done := make(chan struct{})
	p.start <- func() {
		defer close(done)
		h, err = labhost.Start(context.Background(), labhost.Options{Resident: true})
	}
	<-done
	if err != nil {
		return nil, err
	}
	base, err := host.TakeOf(h.ProcDir(1))
	if err != nil {
		h.Stop()
		return nil, err
	}
	return &resident{h: h, base: base}, nil
}

// giveBack keeps r for another step when reusable and r is as it was made;
// otherwise it stops r.
func (p *Hosts) giveBack(r *resident, reusable bool) {
	if reusable && r.unchanged() == nil {
		p.mu.Lock()
		if !p.closed {
			p.idle = append(p.idle, r)
			p.mu.Unlock()
			return
		}
		p.mu.Unlock()
	}
	r.h.Stop()
}

// writable are the lab host's own tmpfs directories (see labhost's furnish).
var writable = []string{"/tmp", "/var/tmp", "/dev/shm", "/run/lock"}

// unchanged says why r is not as it was made, or nil when it is.
func (r *resident) unchanged() error {
	procs, err := os.ReadDir(r.h.Proc())
	if err != nil {
		return err
	}
	for _, e := range procs {
		if e.Name()[0] >= '1' && e.Name()[0] <= '9' && e.Name() != "1" {
			return fmt.Errorf("process %s still runs in it", e.Name())
		}
	}
	root := r.h.ProcDir(1) + "/root"
	for _, dir := range writable {
		if names, err := os.ReadDir(root + dir); err == nil && len(names) > 0 {
			return fmt.Errorf("%s holds %s", dir, names[0].Name())
		}
	}
	after, err := host.TakeOf(r.h.ProcDir(1))
	if err != nil {
		return err
	}
	if diff := host.Diff(r.base, after); len(diff) > 0 {
		return errors.New(diff[0])
	}
	return nil
}

// stepHost is the lab host one step runs in, and what ends the step there.
type stepHost struct {
	h        *labhost.Host
	wait     func() error   // waits for the runner's end
	base     *host.Snapshot // the lab host as it was made: known for a lent one
	lent     *resident
	pool     *Hosts
	copied   chan struct{} // closed once a lent host's runner's output is all read
	reusable bool          // the step left it as it found it, as far as the step knows
}

// launch starts the runner of step s of lab l, with repW and doneR as its
// fds 3 and 4, and out for what it prints.
func (p *Hosts) launch(ctx context.Context, l *Lab, s *Step, out io.Writer, repW, doneR *os.File) (*stepHost, error) {
	args := []string{l.Name, s.ID}
	if p.lends(s) {
		if r, err := p.take(); err == nil {
			return p.lend(r, args, out, repW, doneR)
		} // a lab host that could not be made to lend: a new one below says why
	}
	h, err := labhost.Start(ctx, labhost.Options{Entrypoint: entryStep, Args: args, Stdout: out, Stderr: out, ExtraFiles: []*os.File{repW, doneR}, Cgroup: s.Cgroup})
	if err != nil {
		return nil, err
	}
	return &stepHost{h: h, wait: h.Wait}, nil
}

// lend starts the runner in the lent lab host r.
func (p *Hosts) lend(r *resident, args []string, out io.Writer, repW, doneR *os.File) (*stepHost, error) {
	outR, outW, err := os.Pipe()
	if err != nil {
		p.giveBack(r, false)
		return nil, fmt.Errorf("make pipe: %w", err)
	}
	proc, err := r.h.Exec(entryStep, args, outW, outW, repW, doneR)
	outW.Close()
	if err != nil {
		outR.Close()
		p.giveBack(r, false)
		return nil, err
	}
	copied := make(chan struct{})
	go func() {
		defer close(copied)
		io.Copy(out, outR)
		outR.Close()
	}()
	return &stepHost{h: r.h, wait: proc.Wait, base: &r.base, lent: r, pool: p, copied: copied}, nil
}

// guard returns the guard of the lab host's own namespaces: a lent lab
// host's baseline is the state it was made in; a new one's is taken now.
func (sh *stepHost) guard() *labHostGuard {
	if sh.base != nil {
		return &labHostGuard{h: sh.h, before: sh.base}
	}
	return watchLabHost(sh.h)
}

// finish gives the runner a moment to clean up after the check, and says
// whether it ended on its own with status 0.
func (sh *stepHost) finish() bool {
	done := make(chan error, 1)
	go func() { done <- sh.wait() }()
	select {
	case err := <-done:
		return err == nil
	case <-time.After(5 * time.Second):
		return false
	}
}

// end gives a lent lab host back (kept only when the step left it as it was
// made) and stops any other; the step's output is then complete.
func (sh *stepHost) end() {
	if sh.lent == nil {
		sh.h.Stop() // every process of the step dies with the lab host's init
		return
	}
	sh.pool.giveBack(sh.lent, sh.reusable)
	select {
	case <-sh.copied:
	case <-time.After(5 * time.Second):
	}
}

// passedOrUnwritten says whether a step's verdict lets its lab host be lent again.
func passedOrUnwritten(err error) bool {
	var ni *NotImplemented
	return err == nil || errors.As(err, &ni)
}
