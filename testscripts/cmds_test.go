//go:build linux

package testscripts

import (
	"errors"
	"fmt"
	"os/exec"
	"slices"
	"strconv"
	"strings"

	"github.com/nslab/nslab/pkg/ns"
	"github.com/rogpeppe/go-internal/testscript"
)

// scriptCmds are nslab's script commands, in one sorted map; script_test.go
// documents each.
func scriptCmds() map[string]scriptCmd {
	return map[string]scriptCmd{
		"nsexec":  cmdNsexec,
		"nsid":    positive("nsid", cmdNsid),
		"nsnet":   positive("nsnet", cmdNsnet),
		"nsshare": cmdNsshare,
		"nsstart": positive("nsstart", cmdNsstart),
		"nsstop":  positive("nsstop", cmdNsstop),
	}
}

type scriptCmd = func(ts *testscript.TestScript, neg bool, args []string)

// positive is a command that cannot be negated: "! name" fails the script.
func positive(name string, fn func(ts *testscript.TestScript, args []string)) scriptCmd {
	return func(ts *testscript.TestScript, neg bool, args []string) {
		if neg {
			ts.Fatalf("unsupported: ! %s", name)
		}
		fn(ts, args)
	}
}

// cmdNsid: nsid [-inode] VAR PID|self|@NAME KIND
func cmdNsid(ts *testscript.TestScript, args []string) {
	inode := len(args) > 0 && args[0] == "-inode"
	if inode {
		args = args[1:]
	}
	if len(args) != 3 {
		ts.Fatalf("usage: nsid [-inode] VAR PID|self|@NAME KIND")
	}
	pid := resolvePID(ts, args[1])
	id, err := ns.Get(pid, parseKind(ts, args[2]))
	ts.Check(err)
	if inode {
		ts.Setenv(args[0], strconv.FormatUint(id.Inode, 10))
		return
	}
	ts.Setenv(args[0], id.String())
}

// cmdNsshare: nsshare PID1 PID2 KIND...; negated, every KIND must differ.
func cmdNsshare(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) < 3 {
		ts.Fatalf("usage: nsshare PID1 PID2 KIND...")
	}
	a, b := resolvePID(ts, args[0]), resolvePID(ts, args[1])
	var bad []string
	for _, arg := range args[2:] {
		k := parseKind(ts, arg)
		x, err := ns.Get(a, k)
		ts.Check(err)
		y, err := ns.Get(b, k)
		ts.Check(err)
		if x.Equal(y) == neg {
			bad = append(bad, shareMismatch(args[0], args[1], x, y, neg))
		}
	}
	if len(bad) > 0 {
		ts.Fatalf("%s", strings.Join(bad, "\n"))
	}
}

func shareMismatch(a, b string, x, y ns.ID, neg bool) string {
	if neg {
		return fmt.Sprintf("%s and %s share %s; want different %s namespaces", a, b, x, x.Kind)
	}
	return fmt.Sprintf("%s is in %s, %s in %s; want the same %s namespace", a, x, b, y, x.Kind)
}

// cmdNsexec: nsexec PID|@NAME KIND... -- CMD [ARG...], through nsenter(1).
func cmdNsexec(ts *testscript.TestScript, neg bool, args []string) {
	sep := slices.Index(args, "--")
	if sep < 2 || sep == len(args)-1 {
		ts.Fatalf("usage: nsexec PID|@NAME KIND... -- CMD [ARG...]")
	}
	pid := resolvePID(ts, args[0])
	if pid == ns.Self {
		ts.Fatalf("nsexec self: the runner's namespaces are the host's; use exec")
	}
	kinds := make([]ns.Kind, 0, sep-1)
	for _, arg := range args[1:sep] {
		kinds = append(kinds, parseKind(ts, arg))
	}
	enter := nsenterArgs(ts, pid, kinds)
	err := ts.Exec("nsenter", append(append(enter, "--"), args[sep+1:]...)...)
	checkExec(ts, neg, "nsenter", err)
}

// nsenterArgs builds nsenter's options, entering the process's user
// namespace first when it is not the runner's: without it an unprivileged
// runner has no right to the namespaces that user namespace owns.
func nsenterArgs(ts *testscript.TestScript, pid int, kinds []ns.Kind) []string {
	out := []string{"--target", strconv.Itoa(pid)}
	self, err := ns.Get(ns.Self, ns.User)
	ts.Check(err)
	theirs, err := ns.Get(pid, ns.User)
	ts.Check(err)
	if !self.Equal(theirs) && !slices.Contains(kinds, ns.User) {
		// Keep the runner's IDs: an unprivileged user namespace denies
		// setgroups(2), which nsenter calls when it switches to root.
		out = append(out, "--user", "--preserve-credentials")
	}
	for _, k := range kinds {
		out = append(out, nsenterFlag(ts, k))
	}
	return out
}

func nsenterFlag(ts *testscript.TestScript, k ns.Kind) string {
	switch k.Base() {
	case ns.Mnt:
		return "--mount"
	case ns.PID, ns.Time, ns.User, ns.UTS, ns.IPC, ns.Net, ns.Cgroup:
		return "--" + string(k.Base())
	}
	ts.Fatalf("nsenter cannot enter a %s namespace", k)
	return ""
}

// checkExec judges a command's result the way testscript's exec does.
func checkExec(ts *testscript.TestScript, neg bool, what string, err error) {
	var ee *exec.ExitError
	switch {
	case err != nil && !errors.As(err, &ee):
		ts.Fatalf("run %s: %v", what, err)
	case err != nil && !neg:
		ts.Fatalf("unexpected %s failure: %v", what, err)
	case err == nil && neg:
		ts.Fatalf("unexpected %s success", what)
	}
}

// resolvePID reads a PID argument: a number, self, or @NAME for $NAME.
func resolvePID(ts *testscript.TestScript, arg string) int {
	s := arg
	if name, ok := strings.CutPrefix(arg, "@"); ok {
		if s = ts.Getenv(name); s == "" {
			ts.Fatalf("%s: $%s is not set (start it with nsstart %s ...)", arg, name, name)
		}
	}
	if s == "self" {
		return ns.Self
	}
	pid, err := strconv.Atoi(s)
	if err != nil || pid <= 0 {
		ts.Fatalf("%s: not a PID, self or @NAME (got %q)", arg, s)
	}
	return pid
}

func parseKind(ts *testscript.TestScript, arg string) ns.Kind {
	k, err := ns.ParseKind(arg)
	ts.Check(err)
	return k
}
