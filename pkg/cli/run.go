package cli

import (
	"flag"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/nslab/nslab/pkg/ns"
	"github.com/nslab/nslab/pkg/spawn"
)

const runUsage = `usage: nslab run [NAMESPACE FLAGS] [--hostname NAME] [--domainname NAME]
                 [--map-root] [--mount-proc] [--] [CMD [ARGS...]]

Runs CMD in new namespaces, like unshare(1) --fork: nslab stays the parent,
waits for CMD with its standard input and output attached, forwards SIGINT,
SIGTERM and SIGHUP to it, and exits with its status. With --pid, CMD runs
under a small init, PID 1 of the new namespace, that reaps orphans, passes
signals on and ends with CMD; when nslab is killed, so is everything it
started. Without CMD, runs $SHELL
(or /bin/sh). A new mount namespace is made private (mount --make-rprivate /)
before anything runs in it, so no mount leaks to the host.

Namespace flags:
  --uts --ipc --mount --pid --net --user --cgroup --time
  --all               every kind the running kernel has
  --hostname NAME     set the host name in the new UTS namespace (implies --uts)
  --domainname NAME   set the NIS domain name (implies --uts)
  --map-root          map your UID and GID to root in a new user namespace (implies
                      --user, and is implied by --all); with --user alone the
                      command runs unmapped, as UID 65534 without capabilities
  --mount-proc        mount a fresh /proc, which shows the new PID namespace with
                      --pid (implies --mount)
  --init=false        with --pid, run CMD itself as PID 1 (as unshare --fork
                      does) rather than under nslab's init, which reaps
                      orphans and passes signals on to CMD, as docker run --init
  --stop-timeout D    after passing SIGTERM, SIGINT or SIGHUP on, wait D (a Go
                      duration; default 2s) for CMD to end, then kill it and,
                      with --pid, everything in its namespace; 0 waits for ever
  --user=false        never add a user namespace: without root, creating the
                      others then fails. By default, when you are not root,
                      nslab adds a user namespace mapping you to root.
  -h, --help          print this help

Exit status: CMD's status (128+N when killed by signal N); 125 when nslab
could not create the namespaces or set them up, 126 when CMD cannot be
executed, 127 when CMD is not found; 2 for a bad command line.
`

// Exit statuses of run, as unshare(1) and env(1) use them.
const (
	exitNotStarted = 125
	exitCannotExec = 126
	exitNotFound   = 127
)

// kindFlags are run's namespace flags, in the order of ns.Kinds().
var kindFlags = []struct {
	name string
	kind ns.Kind
}{
	{"cgroup", ns.Cgroup}, {"ipc", ns.IPC}, {"mount", ns.Mnt}, {"net", ns.Net},
	{"pid", ns.PID}, {"time", ns.Time}, {"user", ns.User}, {"uts", ns.UTS},
}

// runFlags are the parsed flags of nslab run.
type runFlags struct {
	kinds      map[ns.Kind]*bool
	all        bool
	hostname   string
	domainname string
	mapRoot    bool
	mountProc  bool
	noInit     bool
	stop       time.Duration
	set        map[string]bool // flags given explicitly
}

func newRunFlagSet(f *runFlags) *flag.FlagSet {
	fs := newFlagSet("run")
	f.kinds = map[ns.Kind]*bool{}
	for _, kf := range kindFlags {
		f.kinds[kf.kind] = fs.Bool(kf.name, false, "")
	}
	fs.BoolVar(&f.all, "all", false, "")
	fs.StringVar(&f.hostname, "hostname", "", "")
	fs.StringVar(&f.domainname, "domainname", "", "")
	fs.BoolVar(&f.mapRoot, "map-root", false, "")
	fs.BoolVar(&f.mountProc, "mount-proc", false, "")
	fs.BoolFunc("init", "", func(v string) error {
		on, err := strconv.ParseBool(v)
		f.noInit = !on
		return err
	})
	fs.DurationVar(&f.stop, "stop-timeout", DefaultStopTimeout, "")
	return fs
}

// DefaultStopTimeout is how long nslab run waits, after passing on a
// signal that asks to stop, before it kills the namespace.
const DefaultStopTimeout = 2 * time.Second

// Run is the parsed command line of nslab run: what to start, and how to stop it.
type Run struct {
	Config spawn.Config
	// StopTimeout: after SIGTERM, SIGINT or SIGHUP, how long the command
	// may take to end before nslab kills it (and its PID namespace); 0 waits for ever.
	StopTimeout time.Duration
}

// runEnv is what the translation of run's flags reads from outside.
type runEnv struct {
	Shell     string             // $SHELL, run when no command is given
	Supported func(ns.Kind) bool // which kinds the kernel has, for --all
}

// RunConfig translates the command line of nslab run (without "run") into
// the spawn.Config it starts, without touching the kernel. It returns a
// usage error for a bad command line and flag.ErrHelp for --help.
func RunConfig(args []string, env runEnv) (spawn.Config, error) {
	r, err := ParseRun(args, env)
	return r.Config, err
}

// ParseRun is RunConfig with the stop timeout.
func ParseRun(args []string, env runEnv) (Run, error) {
	var f runFlags
	fs := newRunFlagSet(&f)
	if err := fs.Parse(args); err != nil {
		return Run{}, err
	}
	f.set = map[string]bool{}
	fs.Visit(func(fl *flag.Flag) { f.set[fl.Name] = true })
	if f.stop < 0 {
		return Run{}, usageErrorf("run: --stop-timeout %v: want 0 (wait for ever) or more", f.stop)
	}
	cfg, err := f.config(fs.Args(), env)
	return Run{Config: cfg, StopTimeout: f.stop}, err
}

func (f runFlags) config(args []string, env runEnv) (spawn.Config, error) {
	want := f.wanted(env)
	noUser := f.set["user"] && !*f.kinds[ns.User]
	if noUser && f.mapRoot {
		return spawn.Config{}, usageErrorf("run: --map-root needs a user namespace; drop --user=false")
	}
	want[ns.User] = (want[ns.User] || f.mapRoot) && !noUser
	// --user alone leaves the namespace unmapped, as unshare(1) does; --all
	// maps root, so that the shell it starts can use what it was given.
	mapRoot := f.mapRoot || f.all && want[ns.User]
	if len(f.hostname) > 64 || len(f.domainname) > 64 {
		return spawn.Config{}, usageErrorf("run: --hostname and --domainname take at most 64 bytes")
	}
	cfg := spawn.Config{
		Hostname: f.hostname, Domainname: f.domainname, MapRoot: mapRoot,
		MountProc: f.mountProc, NoAutoUser: noUser, Args: args,
	}
	for _, kf := range kindFlags {
		if want[kf.kind] {
			cfg.New = append(cfg.New, kf.kind)
		}
	}
	if len(cfg.Args) == 0 {
		cfg.Args = []string{defaultShell(env.Shell)}
	}
	if want[ns.PID] && !f.noInit {
		// PID 1 of the new namespace is nslab's init, the command its child.
		cfg.Entrypoint = entryInit
	}
	return cfg, nil
}

// wanted returns the kinds asked for, directly or through a flag implying one.
func (f runFlags) wanted(env runEnv) map[ns.Kind]bool {
	want := map[ns.Kind]bool{}
	for k, on := range f.kinds {
		want[k] = *on || (f.all && (env.Supported == nil || env.Supported(k)))
	}
	want[ns.UTS] = want[ns.UTS] || f.hostname != "" || f.domainname != ""
	want[ns.Mnt] = want[ns.Mnt] || f.mountProc
	return want
}

func defaultShell(shell string) string {
	if strings.TrimSpace(shell) == "" {
		return "/bin/sh"
	}
	return shell
}

func runRun(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	r, err := ParseRun(args, runEnv{Shell: getenv("SHELL"), Supported: ns.Supported})
	if code, done := runParseResult(err, stdout, stderr); done {
		return code
	}
	r.Config.Stdin, r.Config.Stdout, r.Config.Stderr = stdin, stdout, stderr
	return execute(r, stderr)
}

func runParseResult(err error, stdout, stderr io.Writer) (int, bool) {
	if _, ok := err.(*usageError); ok {
		return fail(stderr, err), true
	}
	return parseResult(newFlagSet("run"), err, stdout, stderr, runUsage)
}
