package cli

import (
	"flag"
	"fmt"
	"io"
	"runtime/debug"
	"strings"

	"github.com/nslab/nslab/pkg/cli/internal/cmdline"
)

// Exit statuses.
const (
	exitOK    = cmdline.ExitOK
	exitFail  = cmdline.ExitFail  // the command was understood but failed
	exitUsage = cmdline.ExitUsage // bad command line
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

// The lab command, installed by the binary that links the labs (SetLab):
// package cli itself does not, so that nslab run and nslab ns do not pay for
// the labs' start-up (docs/performance.md).
var (
	labUsage   = cmdline.LabUsage
	labCommand func(args []string, stdout, stderr io.Writer) int
)

// SetLab installs the lab command (labcmd.Run) and its usage (labcmd.Usage).
func SetLab(usage string, run func(args []string, stdout, stderr io.Writer) int) {
	labUsage, labCommand = usage, run
}

func runLab(args []string, _ io.Reader, stdout, stderr io.Writer) int {
	if labCommand == nil {
		if code, done := parse(newFlagSet("lab"), args, stdout, stderr, labUsage); done {
			return code
		}
		return fail(stderr, fmt.Errorf("lab: this binary has no labs (build ./cmd/nslab)"))
	}
	return labCommand(args, stdout, stderr)
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

// The shared pieces of the commands live in package cmdline, which the lab
// command (package labcmd) uses too.
type (
	usageError = cmdline.UsageError
	exitError  = cmdline.ExitError
)

var (
	usageErrorf       = cmdline.UsageErrorf
	fail              = cmdline.Fail
	oneLine           = cmdline.OneLine
	newFlagSet        = cmdline.NewFlagSet
	parseResult       = cmdline.ParseResult
	parseInterspersed = cmdline.ParseInterspersed
)

// parse parses args with fs, stopping at the first argument that is not a
// flag. done is true when the caller must return code: after --help (usage on
// stdout, status 0) or a bad flag (one line on stderr, status 2).
func parse(fs *flag.FlagSet, args []string, stdout, stderr io.Writer, usage string) (code int, done bool) {
	return parseResult(fs, fs.Parse(args), stdout, stderr, usage)
}
