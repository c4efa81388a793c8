package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/nslab/nslab/pkg/ns"
	"github.com/nslab/nslab/pkg/spawn"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"
)

// TestNSJSONSelf checks nslab ns --json self against readlink(2) and stat(2)
// of /proc/self/ns/*, as readlink and stat -L -c '%d %i' show them.
func TestNSJSONSelf(t *testing.T) {
	var got []processJSON
	callJSON(t, &got, "ns", "--json", "self")
	if len(got) != 1 || got[0].PID != os.Getpid() {
		t.Fatalf("nslab ns --json self = %+v, want one process with pid %d", got, os.Getpid())
	}
	links, err := filepath.Glob("/proc/self/ns/*")
	if err != nil || len(links) == 0 {
		t.Fatalf("glob /proc/self/ns/*: %v, %d files", err, len(links))
	}
	if len(got[0].Namespaces) != len(links) {
		t.Errorf("JSON has %d namespaces, /proc/self/ns has %d", len(got[0].Namespaces), len(links))
	}
	for _, path := range links {
		checkAgainstKernel(t, path, got[0].Namespaces[filepath.Base(path)])
	}
}

func checkAgainstKernel(t *testing.T, path string, got nsIDJSON) {
	t.Helper()
	link, err := os.Readlink(path)
	if err != nil {
		t.Fatalf("readlink %s: %v", path, err)
	}
	var st unix.Stat_t
	if err := unix.Stat(path, &st); err != nil {
		t.Fatalf("stat %s: %v", path, err)
	}
	want := nsIDJSON{ID: link, Dev: uint64(st.Dev), Inode: st.Ino}
	if got != want {
		t.Errorf("%s: JSON has %+v, kernel says %+v", path, got, want)
	}
}

func TestNSTableSelf(t *testing.T) {
	r := call(t, "", "ns")
	link, err := os.Readlink("/proc/self/ns/uts")
	if err != nil {
		t.Fatal(err)
	}
	want := regexpLine("uts", link)
	if r.code != 0 || !strings.HasPrefix(r.stdout, "KIND") || !strings.Contains(r.stdout, want) {
		t.Errorf("nslab ns = %d, stdout %q; want a KIND table with the row %q", r.code, r.stdout, want)
	}
}

// regexpLine is the start of a table row: the kind, padding, the link text.
func regexpLine(kind, link string) string {
	return kind + strings.Repeat(" ", len("time_for_children")+2-len(kind)) + link
}

// TestNSSideBySide compares the test process with a child in a new UTS
// namespace: only uts differs.
func TestNSSideBySide(t *testing.T) {
	needNamespaces(t, ns.UTS)
	// Without root, spawn adds a user namespace too; the rows compared leave user out.
	cfg := spawn.Config{New: []ns.Kind{ns.UTS}, Args: []string{"true"}}
	child, err := spawn.Start(context.Background(), cfg)
	if err != nil {
		t.Fatalf("start a child in a new uts namespace: %v", err)
	}
	defer child.Stop()
	r := call(t, "", "ns", "self", strconv.Itoa(child.PID()), "--kind", "uts,ipc,net")
	if r.code != 0 {
		t.Fatalf("nslab ns self %d = %d, stderr %q", child.PID(), r.code, r.stderr)
	}
	for _, line := range strings.Split(strings.TrimSpace(r.stdout), "\n")[1:] {
		differs := strings.HasSuffix(strings.TrimSpace(line), "<- differs")
		if isUTS := strings.HasPrefix(line, "uts "); differs != isUTS {
			t.Errorf("row %q: marked differing %v, want %v (only uts is new)\n%s", line, differs, isUTS, r.stdout)
		}
	}
	if n := strings.Count(r.stdout, "\n"); n != 4 {
		t.Errorf("nslab ns --kind uts,ipc,net printed %d lines, want a header and 3 rows:\n%s", n, r.stdout)
	}
}

// TestNSAll checks that nslab ns --all --json lists the test's own namespaces.
func TestNSAll(t *testing.T) {
	var rows []infoJSON
	callJSON(t, &rows, "ns", "--all", "--json")
	self, err := ns.Of(ns.Self)
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range ns.ListKinds() {
		id, ok := self.Get(k)
		if ok && !hasRow(rows, id) {
			t.Errorf("nslab ns --all has no row for the test's own %s namespace %s", k, id)
		}
	}
}

func hasRow(rows []infoJSON, id ns.ID) bool {
	for _, r := range rows {
		if r.Type == string(id.Kind) && r.NS == id.Inode && r.ID == id.String() && r.NProcs >= 1 && r.PID > 0 && r.User != "" {
			return true
		}
	}
	return false
}

func TestNSAllTable(t *testing.T) {
	r := call(t, "", "ns", "--all", "--kind", "uts")
	lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
	if r.code != 0 || len(lines) < 2 || !strings.HasPrefix(lines[0], "NS ") {
		t.Fatalf("nslab ns --all --kind uts = %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
	for _, l := range lines[1:] {
		if f := strings.Fields(l); len(f) < 7 || f[1] != "uts" {
			t.Errorf("row %q: want 7 columns of type uts", l)
		}
	}
}

// TestNSTimeOffsets: a process that unshare(1) left with a new time
// namespace for its children (offsets written, no process inside yet) shows
// them, in the table and in the JSON, as /proc/PID/timens_offsets does.
func TestNSTimeOffsets(t *testing.T) {
	if !ns.Supported(ns.Time) || os.Geteuid() != 0 {
		t.Skip("skip: needs time namespaces and root (unshare --time --boottime)")
	}
	if _, err := exec.LookPath("unshare"); err != nil {
		t.Skip("skip: unshare(1) from util-linux is the witness here")
	}
	// The shell's own time_for_children is the new namespace; sleep, its
	// child, is inside, so the shell's offsets are those of that namespace.
	cmd := exec.CommandContext(t.Context(), "unshare", "--time", "--boottime", "31536000", "--", "sh", "-c", "sleep 30 & echo $$; wait")
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { cmd.Process.Kill(); cmd.Wait() }()
	var pid int
	if _, err := fmt.Fscan(out, &pid); err != nil {
		t.Fatalf("read the shell's PID: %v", err)
	}
	want, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/timens_offsets")
	if err != nil || !strings.Contains(string(want), "31536000") {
		t.Fatalf("witness: /proc/%d/timens_offsets = %q, %v; want a boottime of 31536000", pid, want, err)
	}
	r := call(t, "", "ns", strconv.Itoa(pid))
	if r.code != 0 || !strings.Contains(r.stdout, "time_for_children offsets: monotonic 0s, boottime 8760h0m0s") {
		t.Errorf("nslab ns %d = %d, %q; want the offsets line", pid, r.code, r.stdout)
	}
	r = call(t, "", "ns", "--json", strconv.Itoa(pid))
	var got []processJSON
	if err := json.Unmarshal([]byte(r.stdout), &got); err != nil || len(got) != 1 || got[0].TimeOffsets == nil || got[0].TimeOffsets.Boottime != 31536000*time.Second {
		t.Errorf("nslab ns --json %d = %q (%v); want time_offsets with boottime_ns 31536000000000000", pid, r.stdout, err)
	}
}

// TestNSAllEscapes: a command line with terminal escapes, chosen by whoever
// started the process, is printed escaped, as lsns(8) prints it.
func TestNSAllEscapes(t *testing.T) {
	if _, err := exec.LookPath("bash"); err != nil {
		t.Skip("skip: bash's exec -a sets the argv[0] of the witness process")
	}
	needNamespaces(t, ns.UTS)
	// In a UTS namespace of its own, it is the lowest PID of one row.
	child, err := spawn.Start(t.Context(), spawn.Config{New: []ns.Kind{ns.UTS}, NoHold: true,
		Args: []string{"bash", "-c", "exec -a $'evil\\e[2J\\a' sleep 30"}})
	require.NoError(t, err)
	defer child.Stop()
	require.Eventually(t, func() bool {
		b, _ := os.ReadFile("/proc/" + strconv.Itoa(child.PID()) + "/cmdline")
		return strings.HasPrefix(string(b), "evil")
	}, 5*time.Second, 10*time.Millisecond, "bash never became the evil sleep")
	r := call(t, "", "ns", "--all")
	if strings.ContainsAny(r.stdout, "\x1b\a") {
		t.Errorf("nslab ns --all printed a raw escape:\n%q", r.stdout)
	}
	if !strings.Contains(r.stdout, `evil\x1b[2J\x07`) {
		t.Errorf("nslab ns --all lacks the escaped command evil\\x1b[2J\\x07:\n%s", r.stdout)
	}
}

// TestNSTree: a child in new user, UTS and PID namespaces shows in nslab ns
// --tree --json under our user namespace, owning its UTS and PID namespaces,
// whose parent is our PID namespace; the table draws the same tree.
func TestNSTree(t *testing.T) {
	needNamespaces(t, ns.User, ns.UTS, ns.PID)
	child, err := spawn.Start(t.Context(), spawn.Config{New: []ns.Kind{ns.User, ns.UTS, ns.PID}, MapRoot: true, NoHold: true, StopSignal: syscall.SIGKILL, Args: []string{"sleep", "30"}})
	require.NoError(t, err)
	defer child.Stop()
	theirs, err := child.Namespaces()
	require.NoError(t, err)
	ours, err := ns.Of(ns.Self)
	require.NoError(t, err)
	inode := func(s ns.Set, k ns.Kind) uint64 { id, _ := s.Get(k); return id.Inode }

	var roots []*treeJSON
	r := callJSON(t, &roots, "ns", "--tree", "--json")
	ourUser := findNode(roots, inode(ours, ns.User))
	require.NotNil(t, ourUser, "our user namespace in\n%s", r.stdout)
	theirUser := findNode(ourUser.Children, inode(theirs, ns.User))
	require.NotNil(t, theirUser, "the child's user namespace under ours in\n%s", r.stdout)
	require.Equal(t, inode(ours, ns.User), theirUser.Parent, "parent_ns of the child's user namespace")
	uts := findNode(theirUser.Children, inode(theirs, ns.UTS))
	pid := findNode(theirUser.Children, inode(theirs, ns.PID))
	require.NotNil(t, uts, "the child's UTS namespace under its user namespace")
	require.NotNil(t, pid, "the child's PID namespace under its user namespace")
	require.Equal(t, inode(ours, ns.PID), pid.Parent, "parent_ns of the child's PID namespace")
	require.Equal(t, inode(theirs, ns.User), uts.Owner, "owner_ns of the child's UTS namespace")

	r = call(t, "", "ns", "--tree")
	require.Equal(t, 0, r.code, r.stderr)
	want := fmt.Sprintf("─%d ", inode(theirs, ns.UTS))
	require.Contains(t, r.stdout, want, "the table draws the child's UTS namespace as a branch")
	r = call(t, "", "ns", "--tree", "1")
	checkOneLineError(t, []string{"ns", "--tree", "1"}, r, 2)
}

func findNode(nodes []*treeJSON, inode uint64) *treeJSON {
	for _, n := range nodes {
		if n.NS == inode {
			return n
		}
		if found := findNode(n.Children, inode); found != nil {
			return found
		}
	}
	return nil
}
