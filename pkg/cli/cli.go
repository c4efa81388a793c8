package cli

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"runtime/debug"
	"strings"
)

// Exit statuses.
const (
	exitOK    = 0
	exitFail  = 1 // the command was understood but failed
	exitUsage = 2 // bad command line
)

// command is one subcommand: its usage text and what it does.
type command struct {
	name  string
	usage string
	run   func(args []string, stdin io.Reader, stdout, stderr io.Writer) int
}

func commands() []command {
	return []command{
		{"ns", nsUsage, runNS},
		{"run", runUsage, runRun},
		{"lab", labUsage, runLab},
		{"version", "usage: nslab version\n\nPrints the version of nslab.\n", runVersion},
		{"help", "usage: nslab help [COMMAND]\n\nPrints the usage of nslab or of one of its commands.\n", runHelp},
	}
}

const mainUsage = `usage: nslab COMMAND [ARGS...]

nslab inspects and creates Linux namespaces, and runs the course's labs.

Commands:
  ns [--json] [--kind KINDS] [PID|self]...   the namespaces of processes, like ls -l /proc/PID/ns
  ns --all [--json] [--kind KINDS]           every namespace on the machine, like lsns(8)
  run [NAMESPACE FLAGS] [--] [CMD [ARGS...]] run CMD in new namespaces, like unshare(1) --fork
  lab [NAME] [--step N] [--list]             run a lab, narrated step by step
  version                                    print the version
  help [COMMAND]                             print the usage of a command

Run "nslab COMMAND --help" for the flags of a command.

Exit status: 0 on success, 2 for a bad command line, 1 when ns or lab fail;
run exits with the command's status (see nslab run --help).
`

// Main runs the nslab command with args (without the program name) and
// returns its exit status. It never panics on user input: errors are one
// line on stderr.
func Main(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if stdout == nil {
		stdout = io.Discard
	}
	if stderr == nil {
		stderr = io.Discard
	}
	if len(args) == 0 {
		return fail(stderr, usageErrorf("no command given (commands: ns run lab version help; see nslab --help)"))
	}
	switch args[0] {
	case "-h", "-help", "--help":
		fmt.Fprint(stdout, mainUsage)
		return exitOK
	}
	for _, c := range commands() {
		if c.name == args[0] {
			return c.run(args[1:], stdin, stdout, stderr)
		}
	}
	if strings.HasPrefix(args[0], "-") {
		return fail(stderr, usageErrorf("unknown flag %s before the command (see nslab --help)", args[0]))
	}
	return fail(stderr, usageErrorf("unknown command %q (commands: ns run lab version help; see nslab --help)", args[0]))
}

func runHelp(args []string, _ io.Reader, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stdout, mainUsage)
		return exitOK
	}
	if len(args) > 1 {
		return fail(stderr, usageErrorf("help: too many arguments %q (usage: nslab help [COMMAND])", args))
	}
	for _, c := range commands() {
		if c.name == args[0] {
			fmt.Fprint(stdout, c.usage)
			return exitOK
		}
	}
	return fail(stderr, usageErrorf("help: unknown command %q (commands: ns run lab version help)", args[0]))
}

func runVersion(args []string, _ io.Reader, stdout, stderr io.Writer) int {
	fs := newFlagSet("version")
	if code, done := parse(fs, args, stdout, stderr, "usage: nslab version\n\nPrints the version of nslab.\n"); done {
		return code
	}
	if fs.NArg() > 0 {
		return fail(stderr, usageErrorf("version: unexpected argument %q", fs.Arg(0)))
	}
	fmt.Fprintf(stdout, "nslab %s\n", version())
	return exitOK
}

// version is the module version, with the VCS revision when the build has one.
func version() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "(unknown)"
	}
	v := bi.Main.Version
	if v == "" {
		v = "(devel)"
	}
	for _, s := range bi.Settings {
		if s.Key == "vcs.revision" && len(s.Value) >= 12 {
			v += " " + s.Value[:12]
		}
	}
	return v
}

// usageError is a mistake on the command line: exit status 2.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usageErrorf(format string, args ...any) error {
	return &usageError{msg: fmt.Sprintf(format, args...)}
}

// exitError carries a chosen exit status with its message.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

// fail prints err as one line on stderr and returns its exit status.
func fail(stderr io.Writer, err error) int {
	fmt.Fprintln(stderr, "nslab: "+oneLine(err.Error()))
	var ue *usageError
	var ee *exitError
	switch {
	case errors.As(err, &ue):
		return exitUsage
	case errors.As(err, &ee):
		return ee.code
	}
	return exitFail
}

// oneLine joins the lines of a message, so that every error is one line.
func oneLine(s string) string {
	fields := strings.FieldsFunc(strings.TrimSpace(s), func(r rune) bool { return r == '\n' || r == '\r' })
	for i := range fields {
		fields[i] = strings.TrimSpace(fields[i])
	}
	return strings.Join(fields, "; ")
}

// newFlagSet returns a silent flag set: parse reports its errors in one line.
func newFlagSet(name string) *flag.FlagSet {
	fs := flag.NewFlagSet("nslab "+name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	return fs
}

// parse parses args with fs, stopping at the first argument that is not a
// flag. done is true when the caller must return code: after --help (usage on
// stdout, status 0) or a bad flag (one line on stderr, status 2).
func parse(fs *flag.FlagSet, args []string, stdout, stderr io.Writer, usage string) (code int, done bool) {
	return parseResult(fs, fs.Parse(args), stdout, stderr, usage)
}

func parseResult(fs *flag.FlagSet, err error, stdout, stderr io.Writer, usage string) (int, bool) {
	switch {
	case err == nil:
		return exitOK, false
	case errors.Is(err, flag.ErrHelp):
		fmt.Fprint(stdout, usage)
		return exitOK, true
	}
	return fail(stderr, usageErrorf("%s: %v (see %s --help)", strings.TrimPrefix(fs.Name(), "nslab "), err, fs.Name())), true
}

// parseInterspersed parses flags that may come after positional arguments
// ("nslab lab uts --step 1") and returns the positional ones. Everything
// after "--" is positional, and so is a negative number ("-5"), so that it
// is reported as a bad PID rather than an unknown flag.
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
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
