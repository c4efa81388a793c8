//go:build linux

// The scenarios in this directory are testscript files (see
// github.com/rogpeppe/go-internal/testscript): one behaviour per
// category-first file: uts_*.txtar for UTS namespaces, ipc_*.txtar for IPC
// ones, network_*.txtar for network ones, pid_*.txtar for PID ones, cli_*.txtar for the nslab
// command's own behaviour. The subtest of each is TestScripts/FILE, so
// `go test ./testscripts -run TestScripts/uts_` runs the UTS ones.
//
// Programs on the scripts' PATH, besides the system's:
//
//	nslab                        this test binary acting as the nslab command (pkg/cli)
//
// Script commands, added to testscript's own:
//
//	nsexec PID|@NAME KIND... -- CMD [ARG...]
//	    run CMD through nsenter(1) in the namespaces of KIND of the process,
//	    adding --user --preserve-credentials when its user namespace is not
//	    the runner's (so that an unprivileged runner may enter what it
//	    created); stdout and stderr are
//	    kept for `stdout`/`stderr`; `! nsexec` expects CMD (or nsenter) to fail.
//	nsid [-inode] VAR PID|self|@NAME KIND
//	    set $VAR to the process's namespace of KIND, as the kernel's link
//	    text: uts:[4026531838]; with -inode, the number alone (4026531838),
//	    to use in a regular expression.
//	nsnet pair B C
//	    start the network lab's bastion and container (labs/network.Pair):
//	    two network namespaces under one new user namespace, joined by a veth
//	    pair that the lab's own code configures (not the learner's); set $B
//	    and $C to their PIDs, $B_LINK and $C_LINK to the names of the two
//	    ends, $B_ADDR and $C_ADDR to their addresses. Stopped when the script ends.
//	nsnet tcp FROM TO
//	    connect over TCP from one side of a pair to the other; stdout is the
//	    server's answer: its network namespace and the client's address.
//	nsnet stop B C
//	    end container C of the pair with bastion B, and wait until the kernel
//	    has destroyed the veth pair with C's network namespace.
//	nsshare PID1 PID2 KIND...
//	    assert that both processes are in the same namespace of each KIND
//	    (same device and inode); `! nsshare` asserts a different one of each.
//	nsstart NAME [--uts --ipc --mount --pid --net --user --cgroup --time --all]
//	        [--hostname H] [--map-root] [--mount-proc] [-- CMD [ARG...]]
//	    start a process in new namespaces (the flags of `nslab run`), held
//	    until its namespaces are set up, and set $NAME to its PID; @NAME then
//	    names it. Without CMD it runs a built-in idler that waits for nsstop.
//	    It is stopped and reaped when the script ends.
//	nsstop NAME
//	    stop and reap the process started as NAME.
//
// PID arguments: a number, self (the test binary running the script, which
// stands for the host), or @NAME (the PID in $NAME).
//
// Conditions, added to testscript's own (exec:PROG, short, linux, ...); an
// unknown one is an error, not false:
//
//	kind:KIND    the running kernel has namespaces of KIND (kind:time, kind:cgroup)
//	root         the tests run as root
//	userns       user namespaces can be created here: as root, or unprivileged ones are allowed
//
// Variables set for every script: HOST_HOSTNAME, the host's hostname when
// the script started; HOST_UID and HOST_GID, the runner's effective UID and GID.
//
// The scripts never name the host, nor create IPC objects, mounts or links in
// the host's namespaces: TestMain snapshots the host before and after the run
// and fails it when anything differs. Every script runs as root and as an
// unprivileged user, where it skips with the reason what needs root.

package testscripts

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/nslab/nslab/labs/network"
	"github.com/nslab/nslab/pkg/cli"
	"github.com/nslab/nslab/pkg/host"
	"github.com/nslab/nslab/pkg/spawn"
	"github.com/rogpeppe/go-internal/testscript"
)

func TestMain(m *testing.M) {
	spawn.Init()
	testscript.Main(hostGuard{m}, map[string]func(){
		"nslab": func() { os.Exit(cli.Main(os.Args[1:], os.Stdin, os.Stdout, os.Stderr)) },
	})
}

func TestScripts(t *testing.T) {
	testscript.Run(t, testscript.Params{
		Dir:                 ".",
		Cmds:                scriptCmds(),
		Condition:           condition,
		Setup:               setup,
		RequireExplicitExec: true,
		RequireUniqueNames:  true,
	})
}

// setup gives each script its variables and the table of processes it starts.
func setup(env *testscript.Env) error {
	name, err := os.Hostname()
	if err != nil {
		return fmt.Errorf("read the host's hostname: %w", err)
	}
	env.Setenv("HOST_HOSTNAME", name)
	env.Setenv("HOST_UID", strconv.Itoa(os.Geteuid()))
	env.Setenv("HOST_GID", strconv.Itoa(os.Getegid()))
	env.Values[startedKey{}] = &started{procs: map[string]*proc{}}
	env.Values[pairsKey{}] = &pairs{m: map[string]*network.Pair{}}
	return nil
}

// hostGuard runs the tests between two snapshots of the host and fails the
// run when the scripts left anything behind (docs/safety.md#machine-changed).
type hostGuard struct{ m *testing.M }

func (g hostGuard) Run() int {
	before, err := host.Take()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	code := g.m.Run()
	after, err := host.Take()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	if diff := host.Diff(before, after); len(diff) > 0 {
		fmt.Fprintf(os.Stderr, "FAIL: the machine changed while the scenarios ran; a bug of the scenarios (see docs/safety.md#machine-changed):\n  %s\n", strings.Join(diff, "\n  "))
		return 1
	}
	return code
}
