package lab

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/nslab/nslab/pkg/ns"
)

// Check is what a step's check half gets in the harness: the narration, and
// the lab host as the harness sees it from outside. PIDs in a report are the
// lab host's; Check turns them into paths the harness can read.
type Check struct {
	*Narrator
	// Runner is the PID, in the lab host, of the process that ran the
	// step's learner code: the "host" that its children are compared with.
	Runner int
	// Cgroup is the lab host's own cgroup v2 directory as the harness sees
	// it, for a step with Step.Cgroup; "" otherwise.
	Cgroup string
	// PidsV1 is its twin in a v1 pids hierarchy on a hybrid machine (where
	// the v2 hierarchy has no pids controller), or "".
	PidsV1 string
	// proc is the lab host's /proc, as the harness reads it (/proc/PID/root/proc).
	proc string
}

// NewCheck returns a Check of a lab host whose /proc the harness reads at proc.
func NewCheck(n *Narrator, proc string, runner int) *Check {
	return &Check{Narrator: n, Runner: runner, proc: proc}
}

// ProcDir is the /proc directory of process pid of the lab host, as the harness reads it.
func (c *Check) ProcDir(pid int) string {
	if pid == ns.Self {
		pid = c.Runner
	}
	return c.proc + "/" + strconv.Itoa(pid)
}

// NS reads the namespaces of process pid of the lab host (ns.Self: the runner).
func (c *Check) NS(pid int) (ns.Set, error) {
	if pid <= 0 && pid != ns.Self {
		return ns.Set{}, fmt.Errorf("read the namespaces of PID %d: not a process", pid)
	}
	s, err := ns.OfDir(c.ProcDir(pid))
	if pid == ns.Self {
		pid = c.Runner
	}
	s.PID = pid
	return s, err
}

// Host reads the namespaces of the runner: the host of the step.
func (c *Check) Host() (ns.Set, error) { return c.NS(c.Runner) }

// HostAnd reads the namespaces of the runner (Host) and of process pid of
// the lab host, the pair a check compares; what names that process in an
// error ("the child").
func (c *Check) HostAnd(pid int, what string) (host, other ns.Set, err error) {
	if host, err = c.Host(); err != nil {
		return host, other, err
	}
	if other, err = c.NS(pid); err != nil {
		err = fmt.Errorf("read the namespaces of %s, PID %d: %w", what, pid, err)
	}
	return host, other, err
}

// ReadFile reads /proc/PID/name of process pid of the lab host.
func (c *Check) ReadFile(pid int, name string) (string, error) {
	b, err := os.ReadFile(c.ProcDir(pid) + "/" + name)
	return string(b), err
}

// ErrNoVisit is Do's error when the harness is not root: setns(2) needs
// CAP_SYS_ADMIN in the harness's own user namespace too. A check that
// visits only to confirm what a report says skips that part then; the
// graded runs of a classroom are root's.
var ErrNoVisit = errors.New("the harness may enter the lab host's namespaces only as root")

// Do runs fn on a thread of the harness that has joined the namespaces of
// kinds of process pid of the lab host (see ns.Do). Without root it returns
// ErrNoVisit and runs nothing.
func (c *Check) Do(pid int, kinds []ns.Kind, fn func() error) error {
	if os.Geteuid() != 0 {
		return ErrNoVisit
	}
	return ns.DoDir(c.ProcDir(pid), kinds, fn)
}

// NewKindsOnly narrates and checks the first step of every lab: process pid
// of the lab host is in a new namespace of each of kinds and shares every
// other kind with the runner.
func (c *Check) NewKindsOnly(pid int, title string, kinds ...ns.Kind) error {
	host, child, err := c.HostAnd(pid, "the child")
	if err != nil {
		return err
	}
	c.Table(Column{Title: fmt.Sprintf("host (PID %d)", host.PID), Set: host}, Column{Title: fmt.Sprintf("%s (PID %d)", title, pid), Set: child})
	if err := CheckNewKinds(host, child, kinds...); err != nil {
		c.Check(false, "%v", err)
		return err
	}
	c.Check(true, "new: %s; every other kind is shared with the caller", kindNames(kinds))
	return nil
}

func kindNames(kinds []ns.Kind) string {
	s := make([]string, len(kinds))
	for i, k := range kinds {
		s[i] = string(k)
	}
	return strings.Join(s, ", ")
}
