package holder

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"sync"
	"time"

	"github.com/nslab/nslab/pkg/spawn"
)

// pipes are a starting holder's stdin and stdout.
type pipes struct {
	inR, inW   *os.File // the child's stdin: it reads inR, the Holder writes inW
	outR, outW *os.File // the child's stdout: it writes outW, the Holder reads outR
}

// prepare makes the pipes of a holder about to start (what, for errors)
// and a Holder on the parent's ends of them.
func prepare(what string) (*Holder, *pipes, error) {
	var p pipes
	var err error
	if p.inR, p.inW, err = os.Pipe(); err != nil {
		return nil, nil, fmt.Errorf("start %s: make pipe: %w", what, err)
	}
	if p.outR, p.outW, err = os.Pipe(); err != nil {
		p.inR.Close()
		p.inW.Close()
		return nil, nil, fmt.Errorf("start %s: make pipe: %w", what, err)
	}
	return &Holder{in: p.inW, outR: p.outR, out: bufio.NewReader(p.outR)}, &p, nil
}

// done closes the child's ends once it started (it has its own copies),
// and the parent's too when it did not start.
func (p *pipes) done(started bool) {
	p.inR.Close()
	p.outW.Close()
	if !started {
		p.inW.Close()
		p.outR.Close()
	}
}

// ErrNotStarted is the error of StartCommand when start returned nil
// without starting the command: the mistake of a start function.
var ErrNotStarted = errors.New("the command was not started, and no error was returned; want it started (exec.Cmd.Start)")

// StartCommand makes a holder of cmd, a command not started yet that runs
// a holder's entrypoint (spawn.EntrypointCommand): it sets cmd's Stdin and
// Stdout to pipes to the caller and its Stderr to the holder's buffer, and
// calls start, which starts cmd (exec.Cmd.Start on a thread of the
// caller's choice, or a learner's function that does) and must keep those
// files. A command runs at once: Release has nothing to do. A nil error
// from start with cmd not started is ErrNotStarted; a command started by a
// start that returned an error is killed and reaped.
func StartCommand(cmd *exec.Cmd, start func(*exec.Cmd) error) (*Holder, error) {
	what := cmd.Path
	if len(cmd.Args) > 0 {
		what = cmd.Args[0] // "entrypoint NAME" for spawn.EntrypointCommand
	}
	h, p, err := prepare(what)
	if err != nil {
		return nil, err
	}
	started := false
	defer func() { p.done(started) }()
	cmd.Stdin, cmd.Stdout, cmd.Stderr = p.inR, p.outW, &h.stderr
	err = start(cmd)
	if err == nil && cmd.Process == nil {
		err = ErrNotStarted
	}
	c := &command{cmd: cmd, what: what, done: make(chan struct{})}
	if err != nil {
		if cmd.Process != nil {
			cmd.Process.Kill()
			c.Wait()
		}
		return nil, err
	}
	h.proc, h.pid, started = c, cmd.Process.Pid, true
	return h, nil
}

// stopDelay is how long Stop gives a command to exit at the end of its
// input before it kills it.
const stopDelay = time.Second

// command is a started exec.Cmd as a holder's process.
type command struct {
	cmd  *exec.Cmd
	what string        // for its *spawn.ExitError
	once sync.Once     // Wait's
	done chan struct{} // closed once it is reaped
	err  error         // Wait's
}

func (c *command) PID() int { return c.cmd.Process.Pid }

// Release does nothing: a command runs once started.
func (c *command) Release() error { return nil }

// Wait reaps the command once; its status is a *spawn.ExitError when not 0.
func (c *command) Wait() error {
	c.once.Do(func() {
		c.err = c.exitError(c.cmd.Wait())
		close(c.done)
	})
	return c.err
}

// Stop waits stopDelay for the command to exit (its input is closed), then
// kills it, and reaps it. A command that ends because of Stop is not an error.
func (c *command) Stop() error {
	go c.Wait()
	select {
	case <-c.done:
	case <-time.After(stopDelay):
		c.cmd.Process.Kill()
		<-c.done
	}
	var ee *spawn.ExitError
	if errors.As(c.err, &ee) {
		return nil
	}
	return c.err
}

// exitError is the *spawn.ExitError of a status other than 0, as a spawn
// child's Wait would say it; err otherwise.
func (c *command) exitError(err error) error {
	if ee := spawn.ExitErrorOf(c.what, c.PID(), c.cmd.ProcessState); ee != nil {
		return ee
	}
	return err
}
