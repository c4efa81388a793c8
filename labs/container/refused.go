//go:build linux

package container

import (
	"strings"

	"github.com/nslab/nslab/pkg/lab"
)

// refusal is one call of the learner's code that the run half made so that
// the kernel refuses it: the error must come back, wrap the kernel's errno
// (fmt.Errorf with %w) and name what it was about.
type refusal struct {
	What  string // the call, as the check names it
	Want  string // the errno the kernel gives ("EEXIST")
	Name  string // what the error's message must name (a path, a PID, a link)
	Errno string // lab.ErrnoName of what the call returned ("ok": no error)
	Err   string
}

// anyError is a Want of a refusal whose error need not wrap an errno (the
// library that meets the kernel's does not wrap it).
const anyError = "an error"

func refused(what, want, name string, err error) refusal {
	return refusal{What: what, Want: want, Name: name, Errno: lab.ErrnoName(err), Err: lab.ErrText(err)}
}

// check narrates the refusal and returns the failure, if any.
func (r refusal) check(c *lab.Check) error {
	switch {
	case r.Errno == "ok":
		return c.Failf("%s returned no error; want the kernel's %s, returned", r.What, r.Want)
	case r.Want == anyError:
	case r.Errno != r.Want:
		return c.Failf("%s returned %q (%s); want an error that wraps the kernel's %s (fmt.Errorf with %%w), so that errors.Is finds it", r.What, r.Err, r.Errno, r.Want)
	case !strings.Contains(r.Err, r.Name):
		return c.Failf("%s returned %q; want its message to name %s", r.What, r.Err, r.Name)
	}
	c.Check(true, "%s: %s", r.What, r.Err)
	return nil
}

// checkEach checks each of xs in turn (refusals, Stop's probes) and stops
// at the first failure.
func checkEach[T interface{ check(*lab.Check) error }](c *lab.Check, xs []T) error {
	for _, x := range xs {
		if err := x.check(c); err != nil {
			return err
		}
	}
	return nil
}
