//go:build linux

package testscripts

import (
	"context"
	"fmt"
	"io"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"

	"github.com/nslab/nslab/pkg/ns"
	"github.com/nslab/nslab/pkg/spawn"
	"github.com/rogpeppe/go-internal/testscript"
)

// idler is the entrypoint nsstart runs without a command: it waits until its
// standard input is closed, which is how nsstop ends it.
const idler = "testscripts.idle"

func init() {
	spawn.Register(idler, func([]string) int {
		io.Copy(io.Discard, os.Stdin)
		return 0
	})
}

// startedKey is the key of a script's *started in testscript.Env.Values.
type startedKey struct{}

// started holds the processes one script started, by name.
type started struct {
	mu    sync.Mutex
	procs map[string]*proc
}

// proc is one process started by nsstart.
type proc struct {
	child *spawn.Child
	stdin *os.File // the idler's standard input; closing it ends the idler
	idle  bool     // the process is the idler, not a command
}

// stop ends the process and reaps it: the idler by closing its input (it
// then exits 0), a command by Stop (SIGKILL).
func (p *proc) stop() error {
	p.stdin.Close()
	if p.idle {
		return p.child.Wait()
	}
	return p.child.Stop()
}

var envName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// cmdNsstart: nsstart NAME [RUN FLAGS] [-- CMD [ARG...]]
func cmdNsstart(ts *testscript.TestScript, args []string) {
	if len(args) < 1 || !envName.MatchString(args[0]) {
		ts.Fatalf("usage: nsstart NAME [--uts --ipc --mount --pid --net --user --cgroup --time --all] [--hostname H] [--map-root] [--mount-proc] [-- CMD [ARG...]]")
	}
	name := args[0]
	cfg, err := parseRunFlags(args[1:])
	ts.Check(err)
	st := ts.Value(startedKey{}).(*started)
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.procs[name] != nil {
		ts.Fatalf("nsstart %s: already started as PID %s; nsstop it first", name, ts.Getenv(name))
	}
	p, err := start(cfg)
	ts.Check(err)
	st.procs[name] = p
	ts.Defer(func() { p.stop() })
	ts.Setenv(name, strconv.Itoa(p.child.PID()))
	ts.Logf("started %s as PID %d; new: %s", name, p.child.PID(), newKinds(ts, p.child))
}

// newKinds lists the kinds in which the child differs from the runner.
func newKinds(ts *testscript.TestScript, c *spawn.Child) string {
	self, err := ns.Of(ns.Self)
	ts.Check(err)
	theirs, err := c.Namespaces()
	ts.Check(err)
	return fmt.Sprint(ns.Diff(self, theirs))
}

// start starts cfg held, lets it set itself up, and returns once its command
// runs in its namespaces.
func start(cfg spawn.Config) (*proc, error) {
	r, w, err := os.Pipe()
	if err != nil {
		return nil, fmt.Errorf("make the idler's stdin pipe: %w", err)
	}
	defer r.Close()
	cfg.Stdin = r
	cfg.StopSignal = syscall.SIGKILL // a PID namespace's init ignores SIGTERM without a handler
	child, err := spawn.Start(context.Background(), cfg)
	if err != nil {
		w.Close()
		return nil, err
	}
	p := &proc{child: child, stdin: w, idle: cfg.Entrypoint == idler}
	if err := child.Release(); err != nil {
		p.stop()
		return nil, err
	}
	return p, nil
}

// cmdNsstop: nsstop NAME
func cmdNsstop(ts *testscript.TestScript, args []string) {
	if len(args) != 1 {
		ts.Fatalf("usage: nsstop NAME")
	}
	st := ts.Value(startedKey{}).(*started)
	st.mu.Lock()
	p := st.procs[args[0]]
	delete(st.procs, args[0])
	st.mu.Unlock()
	if p == nil {
		ts.Fatalf("nsstop %s: nothing started under that name", args[0])
	}
	if err := p.stop(); err != nil {
		ts.Fatalf("nsstop %s: %v", args[0], err)
	}
}

// runKinds are the namespace flags of nslab run, by flag.
var runKinds = map[string]ns.Kind{
	"--cgroup": ns.Cgroup, "--ipc": ns.IPC, "--mount": ns.Mnt, "--net": ns.Net,
	"--pid": ns.PID, "--time": ns.Time, "--user": ns.User, "--uts": ns.UTS,
}

// parseRunFlags reads the flags of nslab run and the command after "--";
// without a command the process is the idler.
func parseRunFlags(args []string) (spawn.Config, error) {
	cfg := spawn.Config{Entrypoint: idler}
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "--":
			if i+1 == len(args) {
				return cfg, fmt.Errorf("nsstart: no command after --")
			}
			cfg.Entrypoint, cfg.Args = "", args[i+1:]
			return cfg, nil
		case runKinds[a] != "":
			cfg.New = append(cfg.New, runKinds[a])
		case a == "--all":
			cfg.New = append(cfg.New, supportedKinds()...)
		case a == "--map-root":
			cfg.MapRoot = true
		case a == "--mount-proc":
			cfg.MountProc = true
		case a == "--hostname":
			if i++; i == len(args) {
				return cfg, fmt.Errorf("nsstart: --hostname needs a NAME")
			}
			cfg.Hostname = args[i]
		case strings.HasPrefix(a, "--hostname="):
			cfg.Hostname = strings.TrimPrefix(a, "--hostname=")
		default:
			return cfg, fmt.Errorf("nsstart: unknown flag %q (want nslab run's flags, then -- CMD)", a)
		}
	}
	return cfg, nil
}

// supportedKinds are the kinds --all creates: every one the kernel has.
func supportedKinds() []ns.Kind {
	var out []ns.Kind
	for _, k := range ns.ListKinds() {
		if ns.Supported(k) && !slices.Contains(out, k) {
			out = append(out, k)
		}
	}
	return out
}
