//go:build linux

package network

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/nslab/nslab/pkg/holder"
	"github.com/nslab/nslab/pkg/lab"
)

// Refusals: every step also calls the learner's functions where the kernel
// refuses them (a link that exists already, a PID that does not exist, a
// caller without the capability), and checks that the error comes back,
// wraps the kernel's errno, and reads well.

// noPID is a PID that no process has: above the kernel's largest (PID_MAX_LIMIT, 2^22).
const noPID = 1 << 30

// refusal is one call of the learner's code that the kernel refuses, and
// what it returned.
type refusal struct {
	What  string   // "MoveLink(nsl3fa2c1b, 1073741824) in the bastion, a PID that does not exist"
	Want  string   // the errno the error must wrap, "ENOENT"; "" when any error will do
	Truth []string // when not nil, a nil error is right too if the answer is this
	Got   []string // the answer, with a nil error
	Err   string   // the error; "" for nil
	Errno string   // the errno the error wraps, "ENOENT"; "-" for none
}

// refusalOf records the answer of a call of the learner's code.
func refusalOf(what, want string, got []string, err error) refusal {
	r := refusal{What: what, Want: want, Got: got}
	if err != nil {
		r.Err, r.Errno = err.Error(), holder.Errno(err)
		var answered *holder.CommandError
		if errors.As(err, &answered) {
			r.Err = answered.Msg // the learner's error, without the holder command
		}
	}
	return r
}

// refuse runs a holder command that calls the learner's code where the
// kernel refuses it. A holder that died (a panic, an unwritten step) is the
// error; the learner's answer is the refusal.
func refuse(what, want string, do func() ([]string, error)) (refusal, error) {
	got, err := do()
	if err != nil {
		if err := died(err); err != nil {
			return refusal{}, fmt.Errorf("%s: %w", what, err)
		}
	}
	return refusalOf(what, want, got, err), nil
}

// checkRefusals checks that each call was refused as the kernel refused
// it: an error, wrapping the kernel's errno where there is one, that fmt
// could format. n is how many the step makes.
func checkRefusals(c *lab.Check, rs []refusal, n int) error {
	if len(rs) != n {
		return c.Failf("the step made %d calls that the kernel must refuse; want %d", len(rs), n)
	}
	for _, r := range rs {
		c.Say("%s: %s", r.What, lab.Or(r.Err, "no error"))
		if err := judgeRefusal(r); err != nil {
			return c.Failf("%v", err)
		}
	}
	c.Check(true, "each refusal of the kernel comes back as an error")
	return nil
}

// judgeRefusal is the verdict on one refusal.
func judgeRefusal(r refusal) error {
	kernel := "the kernel refuses it"
	if r.Want != "" {
		kernel = "the kernel refuses it with " + r.Want
	}
	switch {
	case r.Err == "" && r.Truth != nil && slices.Equal(r.Got, r.Truth):
		return nil
	case r.Err == "":
		return fmt.Errorf("%s returned %q and no error; want an error (%s): return the error of the call that failed, never drop it", r.What, r.Got, kernel)
	case r.Want != "" && r.Errno != r.Want:
		return fmt.Errorf("%s returned %q, which wraps %s; want an error that wraps the kernel's %s (fmt.Errorf with %%w), so that errors.Is finds it", r.What, r.Err, errnoText(r.Errno), r.Want)
	case strings.Contains(r.Err, "%!"):
		return fmt.Errorf("%s returned %q, a text fmt could not format (%%!: a verb without its value, or a value without its verb); want a readable error: check the order of fmt.Errorf's format and arguments", r.What, r.Err)
	}
	return nil
}

func errnoText(errno string) string {
	if errno == "-" || errno == "" {
		return "no errno"
	}
	return errno
}
