// Package cmdline is what the commands of nslab share: exit statuses, errors
// printed as one line, and flag parsing. It is apart from package cli so
// that the lab command (package labcmd), which links every lab, can use it
// without package cli linking the labs.
package cmdline

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
)

// LabUsage is the help of nslab lab, which nslab help prints in a binary
// without the labs too.
const LabUsage = `usage: nslab lab [NAME] [--step N]
       nslab lab [NAME] --list

Runs a lab of the course, narrating each step: what the learner's code asked
of the kernel and what the kernel did. Without NAME, runs every lab in course
order. With --step, runs only step N of lab NAME. On Ctrl-C, the children the
steps started are stopped.

Flags:
  --list      list the labs and their steps with their points; run nothing
  --step N    run only step N (1 or 01) of lab NAME
  -h, --help  print this help

Exit status: 0 when every step passed, 1 when a step failed (the last lines
name each failed step and the section of the docs to read), 2 for a bad
command line or an unknown lab or step.
`

// Exit statuses.
const (
	ExitOK    = 0
	ExitFail  = 1 // the command was understood but failed
	ExitUsage = 2 // bad command line
)

// UsageError is a mistake on the command line: exit status 2.
type UsageError struct{ Msg string }

func (e *UsageError) Error() string { return e.Msg }

// UsageErrorf returns a *UsageError.
func UsageErrorf(format string, args ...any) error {
	return &UsageError{Msg: fmt.Sprintf(format, args...)}
}

// ExitError carries a chosen exit status with its message.
type ExitError struct {
	Code int
	Err  error
}

func (e *ExitError) Error() string { return e.Err.Error() }
func (e *ExitError) Unwrap() error { return e.Err }

// Fail prints err as one line on stderr and returns its exit status.
func Fail(stderr io.Writer, err error) int {
	fmt.Fprintln(stderr, "nslab: "+OneLine(err.Error()))
	var ue *UsageError
	var ee *ExitError
	switch {
	case errors.As(err, &ue):
		return ExitUsage
	case errors.As(err, &ee):
		return ee.Code
	}
	return ExitFail
}

// OneLine joins the lines of a message, so that every error is one line.
func OneLine(s string) string {
	fields := strings.FieldsFunc(strings.TrimSpace(s), func(r rune) bool { return r == '\n' || r == '\r' })
	for i := range fields {
		fields[i] = strings.TrimSpace(fields[i])
	}
	return strings.Join(fields, "; ")
}

// NewFlagSet returns a silent flag set: ParseResult reports its errors in one line.
func NewFlagSet(name string) *flag.FlagSet {
	fs := flag.NewFlagSet("nslab "+name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	return fs
}

// ParseResult turns the error of parsing fs into what the command does:
// done is true when the caller must return code: after --help (usage on
// stdout, status 0) or a bad flag (one line on stderr, status 2).
func ParseResult(fs *flag.FlagSet, err error, stdout, stderr io.Writer, usage string) (code int, done bool) {
	switch {
	case err == nil:
		return ExitOK, false
	case errors.Is(err, flag.ErrHelp):
		fmt.Fprint(stdout, usage)
		return ExitOK, true
	}
	return Fail(stderr, UsageErrorf("%s: %v (see %s --help)", strings.TrimPrefix(fs.Name(), "nslab "), err, fs.Name())), true
}

// ParseInterspersed parses flags that may come after positional arguments
// ("nslab lab uts --step 1") and returns the positional ones. Everything
// after "--" is positional, and so is a negative number ("-5"), so that it
// is reported as a bad PID rather than an unknown flag.
func ParseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for len(args) > 0 {
		if isNegativeNumber(args[0]) {
			pos, args = append(pos, args[0]), args[1:]
			continue
		}
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		rest := fs.Args()
		if n := len(args) - len(rest); n > 0 && args[n-1] == "--" {
			return append(pos, rest...), nil
		}
		if len(rest) == 0 {
			break
		}
		pos, args = append(pos, rest[0]), rest[1:]
	}
	return pos, nil
}

func isNegativeNumber(s string) bool {
	if len(s) < 2 || s[0] != '-' {
		return false
	}
	for _, r := range s[1:] {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}
