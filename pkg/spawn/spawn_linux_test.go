package spawn_test

import (
	"bytes"
	"context"
	"errors"
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
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"
)

func init() {
	spawn.Register("spawntest.hostname", func([]string) int {
		var u unix.Utsname
		if err := unix.Uname(&u); err != nil {
			return 1
		}
		fmt.Printf("%s %s\n", unix.ByteSliceToString(u.Nodename[:]), unix.ByteSliceToString(u.Domainname[:]))
		return 0
	})
	spawn.Register("spawntest.touch", func(args []string) int {
		if err := os.WriteFile(args[0], nil, 0o644); err != nil {
			return 1
		}
		return 0
	})
	spawn.Register("spawntest.exit", func(args []string) int {
		n, _ := strconv.Atoi(args[0])
		return n
	})
	spawn.Register("spawntest.ids", func([]string) int {
		fmt.Printf("%d %d %d\n", os.Getpid(), os.Getuid(), os.Getppid())
		return 0
	})
}

func TestMain(m *testing.M) {
	spawn.Init()
	os.Exit(m.Run())
}

// need skips the test, with the reason, when these namespaces cannot be made here.
func need(t *testing.T, kinds ...ns.Kind) {
	t.Helper()
	if err := spawn.Check(kinds...); err != nil {
		t.Skipf("skip: %v", err)
	}
}

func TestNewNamespacesDifferOnlyWhereAsked(t *testing.T) {
	need(t, ns.UTS, ns.IPC)
	self, child := startTrue(t, spawn.Config{New: []ns.Kind{ns.UTS, ns.IPC}})
	want := []ns.Kind{ns.IPC, ns.UTS}
	if os.Geteuid() != 0 {
		want = []ns.Kind{ns.IPC, ns.User, ns.UTS} // the user namespace added for an unprivileged caller
	}
	assert.Equal(t, want, ns.Diff(self, child), "kinds that differ between caller and child")
}

// startTrue starts true with cfg, reads the namespaces of the test and of
// the child while it is held, then releases it and waits for it.
func startTrue(t *testing.T, cfg spawn.Config) (self, child ns.Set) {
	t.Helper()
	cfg.Args = []string{"true"}
	c, err := spawn.Start(t.Context(), cfg)
	require.NoError(t, err)
	defer c.Stop()
	child, err = c.Namespaces()
	require.NoError(t, err)
	self, err = ns.Of(ns.Self)
	require.NoError(t, err)
	require.NoError(t, c.Release())
	require.NoError(t, c.Wait())
	return self, child
}

func TestHeldChildRunsNothingUntilReleased(t *testing.T) {
	marker := filepath.Join(t.TempDir(), "ran")
	c, err := spawn.Start(t.Context(), spawn.Config{Entrypoint: "spawntest.touch", Args: []string{marker}})
	require.NoError(t, err)
	_, err = os.Stat(marker)
	assert.True(t, errors.Is(err, os.ErrNotExist), "the held child ran before Release: %v", err)
	require.NoError(t, c.Release())
	require.NoError(t, c.Wait())
	assert.FileExists(t, marker)
}

func TestAbandonedChildRunsNothing(t *testing.T) {
	marker := filepath.Join(t.TempDir(), "ran")
	c, err := spawn.Start(t.Context(), spawn.Config{Entrypoint: "spawntest.touch", Args: []string{marker}})
	require.NoError(t, err)
	var ee *spawn.ExitError
	require.ErrorAs(t, c.Wait(), &ee)
	assert.Equal(t, 125, ee.Code)
	assert.NoFileExists(t, marker)
}

func TestHostnameAndDomainname(t *testing.T) {
	need(t, ns.UTS)
	before, _ := os.Hostname()
	var out bytes.Buffer
	err := spawn.Run(t.Context(), spawn.Config{
		New: []ns.Kind{ns.UTS}, Hostname: "spawn-test", Domainname: "lab.example",
		Entrypoint: "spawntest.hostname", Stdout: &out,
	})
	require.NoError(t, err)
	assert.Equal(t, "spawn-test lab.example\n", out.String())
	after, _ := os.Hostname()
	assert.Equal(t, before, after, "the host's hostname changed")
}

func TestHostnameWithoutUTSNamespaceIsRefused(t *testing.T) {
	_, err := spawn.Start(t.Context(), spawn.Config{Hostname: "x", Args: []string{"true"}})
	require.ErrorContains(t, err, "needs a new UTS namespace")
}

func TestExitStatus(t *testing.T) {
	err := spawn.Run(t.Context(), spawn.Config{Entrypoint: "spawntest.exit", Args: []string{"7"}})
	var ee *spawn.ExitError
	require.ErrorAs(t, err, &ee)
	assert.Equal(t, 7, ee.Code)
	assert.Equal(t, 7, ee.ShellCode())
}

func TestCommandNotFound(t *testing.T) {
	_, err := spawn.Start(t.Context(), spawn.Config{Args: []string{"nslab-no-such-command"}})
	require.EqualError(t, err, "start nslab-no-such-command: command not found in $PATH")
}

func TestUnknownEntrypoint(t *testing.T) {
	_, err := spawn.Start(t.Context(), spawn.Config{Entrypoint: "nope"})
	require.ErrorContains(t, err, `no entrypoint "nope" registered`)
}

func TestSetupErrorIsReported(t *testing.T) {
	need(t, ns.UTS)
	// Joining the UTS namespace of a PID that does not exist fails inside the child, after clone.
	c, err := spawn.Start(t.Context(), spawn.Config{Join: map[ns.Kind]int{ns.UTS: 1 << 30}, Args: []string{"true"}})
	require.NoError(t, err)
	err = c.Release()
	var se *spawn.SetupError
	require.ErrorAs(t, err, &se)
	assert.Contains(t, se.Msg, "does not exist")
	c.Wait()
}

func TestPIDNamespaceWithFreshProc(t *testing.T) {
	need(t, ns.PID, ns.Mnt)
	var out bytes.Buffer
	err := spawn.Run(t.Context(), spawn.Config{
		New: []ns.Kind{ns.PID}, MountProc: true, Stdout: &out,
		Args: []string{"sh", "-c", "echo $$; ls -d /proc/[0-9]* | wc -l"},
	})
	require.NoError(t, err)
	fields := strings.Fields(out.String())
	require.Len(t, fields, 2, "output %q", out.String())
	assert.Equal(t, "1", fields[0], "PID of the first process of a new PID namespace")
	n, _ := strconv.Atoi(fields[1])
	assert.LessOrEqual(t, n, 3, "the fresh /proc lists %d processes; want only the namespace's own", n)
}

func TestMapRootInUserNamespace(t *testing.T) {
	need(t, ns.User)
	var out bytes.Buffer
	err := spawn.Run(t.Context(), spawn.Config{New: []ns.Kind{ns.User}, MapRoot: true, Entrypoint: "spawntest.ids", Stdout: &out})
	require.NoError(t, err)
	assert.Equal(t, "0", strings.Fields(out.String())[1], "UID inside with MapRoot")
}

func TestUnmappedUserNamespaceShowsOverflowUID(t *testing.T) {
	need(t, ns.User)
	var out bytes.Buffer
	err := spawn.Run(t.Context(), spawn.Config{New: []ns.Kind{ns.User}, Entrypoint: "spawntest.ids", Stdout: &out})
	require.NoError(t, err)
	assert.Equal(t, "65534", strings.Fields(out.String())[1], "UID inside an unmapped user namespace")
}

func TestJoinUTSNamespace(t *testing.T) {
	need(t, ns.UTS)
	holder, err := spawn.Start(t.Context(), spawn.Config{New: []ns.Kind{ns.UTS}, Hostname: "joined-uts", Args: []string{"sleep", "60"}})
	require.NoError(t, err)
	defer holder.Stop()
	require.NoError(t, holder.Release())
	var out bytes.Buffer
	cfg := spawn.Config{Join: map[ns.Kind]int{ns.UTS: holder.PID()}, Entrypoint: "spawntest.hostname", Stdout: &out}
	if os.Geteuid() != 0 {
		t.Skip("skip: joining a namespace owned by another user namespace needs CAP_SYS_ADMIN over it")
	}
	require.NoError(t, spawn.Run(t.Context(), cfg))
	assert.Equal(t, "joined-uts", strings.Fields(out.String())[0])
}

func TestStopKillsTheWholePIDNamespace(t *testing.T) {
	need(t, ns.PID)
	var out bytes.Buffer
	c, err := spawn.Start(t.Context(), spawn.Config{
		New: []ns.Kind{ns.PID}, Stdout: &out, StopDelay: 200 * time.Millisecond,
		// init ignores SIGTERM (no handler); its children live on in the background.
		Args: []string{"sh", "-c", "sleep 60 & sleep 60 & echo started; wait"},
	})
	require.NoError(t, err)
	require.NoError(t, c.Release())
	pidns, err := ns.Get(c.PID(), ns.PID)
	require.NoError(t, err)
	require.Eventually(t, func() bool { return len(members(t, pidns)) == 3 }, 5*time.Second, 10*time.Millisecond)
	require.NoError(t, c.Stop())
	assert.Empty(t, members(t, pidns), "processes left in the PID namespace after Stop")
}

func TestContextCancelStopsChild(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	c, err := spawn.Start(ctx, spawn.Config{Args: []string{"sleep", "60"}, StopDelay: 100 * time.Millisecond})
	require.NoError(t, err)
	require.NoError(t, c.Release())
	cancel()
	var ee *spawn.ExitError
	require.ErrorAs(t, c.Wait(), &ee)
	assert.NotZero(t, ee.Signal, "the child should end by a signal")
}

// members lists the host PIDs of processes in the PID namespace id.
func members(t *testing.T, id ns.ID) []int {
	entries, err := os.ReadDir("/proc")
	require.NoError(t, err)
	var pids []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if got, err := ns.Get(pid, ns.PID); err == nil && got.Equal(id) {
			pids = append(pids, pid)
		}
	}
	return pids
}

func TestEveryKindAtOnce(t *testing.T) {
	kinds := []ns.Kind{ns.Cgroup, ns.IPC, ns.Mnt, ns.Net, ns.PID, ns.Time, ns.User, ns.UTS}
	need(t, kinds...)
	self, child := startTrue(t, spawn.Config{New: kinds, MapRoot: true})
	assert.Empty(t, ns.Same(self, child), "kinds the child still shares with its parent")
}

func TestNoHoldRunsDirectlyWithPrivateMounts(t *testing.T) {
	need(t, ns.Mnt, ns.PID)
	var out bytes.Buffer
	// Run sets NoHold: a command that needs no setup is executed without the shim.
	err := spawn.Run(t.Context(), spawn.Config{
		New: []ns.Kind{ns.Mnt, ns.PID}, Stdout: &out,
		Args: []string{"sh", "-c", "echo $$; grep -c shared: /proc/self/mountinfo || true"},
	})
	require.NoError(t, err)
	assert.Equal(t, "1\n0\n", out.String(), "PID 1, and no shared mount left in the new mount namespace")
}

func TestNoHoldSetupErrorIsReturnedByStart(t *testing.T) {
	need(t, ns.UTS)
	_, err := spawn.Start(t.Context(), spawn.Config{NoHold: true, Join: map[ns.Kind]int{ns.UTS: 1 << 30}, Args: []string{"true"}})
	var se *spawn.SetupError
	require.ErrorAs(t, err, &se)
}

func TestUnmappedUserNamespaceCanStillSetUp(t *testing.T) {
	need(t, ns.User, ns.Mnt, ns.UTS)
	var out bytes.Buffer
	// No maps: the shim keeps its capabilities to make / private and set the
	// hostname; the command, executed unmapped, has none, as under unshare --user.
	err := spawn.Run(t.Context(), spawn.Config{
		New: []ns.Kind{ns.User, ns.Mnt, ns.UTS}, Hostname: "unmapped", Stdout: &out,
		Args: []string{"sh", "-c", "hostname; id -u; grep CapEff /proc/self/status"},
	})
	require.NoError(t, err)
	assert.Equal(t, "unmapped\n65534\nCapEff:\t0000000000000000\n", out.String())
}

func init() {
	spawn.Register("spawntest.nest", func(args []string) int {
		var out bytes.Buffer
		err := spawn.Run(context.Background(), spawn.Config{New: []ns.Kind{ns.User}, MapRoot: true, Args: []string{"cat", "/proc/self/uid_map", "/proc/self/setgroups"}, Stdout: &out, Stderr: os.Stderr})
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		fmt.Print(out.String())
		return 0
	})
}

// A user namespace made inside one whose setgroups is "deny" (as for an
// unprivileged caller) inherits "deny": mapping root there must not try to
// write "allow", which the kernel refuses.
func TestNestedUserNamespaceMapsRoot(t *testing.T) {
	need(t, ns.User)
	var out, errs bytes.Buffer
	err := spawn.Run(t.Context(), spawn.Config{New: []ns.Kind{ns.User}, MapRoot: true, Entrypoint: "spawntest.nest", Stdout: &out, Stderr: &errs})
	require.NoError(t, err, errs.String())
	fields := strings.Fields(out.String())
	require.Len(t, fields, 4, "uid_map line and setgroups: %q", out.String())
	assert.Equal(t, []string{"0", "0", "1"}, fields[:3], "the inner map: root of the middle namespace")
	want := "allow"
	if os.Geteuid() != 0 {
		want = "deny"
	}
	assert.Equal(t, want, fields[3], "setgroups inherited")
}

// TestBytesThroughTheShim: arguments and names that are not UTF-8 reach the
// command as the bytes they were (every byte value but NUL, which argv cannot hold).
func TestBytesThroughTheShim(t *testing.T) {
	need(t, ns.UTS)
	var all []byte
	for b := 1; b < 256; b++ {
		all = append(all, byte(b))
	}
	var out bytes.Buffer
	err := spawn.Run(t.Context(), spawn.Config{
		New: []ns.Kind{ns.UTS}, Hostname: "h\xffx", Stdout: &out,
		Args: []string{"sh", "-c", `printf %s "$1"; printf '|'; cat /proc/sys/kernel/hostname`, "sh", string(all)},
	})
	require.NoError(t, err)
	want := append(append(all, '|'), "h\xffx\n"...)
	assert.Equal(t, want, out.Bytes())
}

// TestHeld: Held accepts a held child only, and names the function.
func TestHeld(t *testing.T) {
	need(t, ns.UTS)
	c, err := spawn.Start(t.Context(), spawn.Config{New: []ns.Kind{ns.UTS}, Args: []string{"true"}})
	require.NoError(t, err)
	defer c.Stop()
	assert.NoError(t, spawn.Held("StartX", c, nil))
	assert.ErrorContains(t, spawn.Held("StartX", nil, nil), "StartX returned no child and no error")
	assert.ErrorContains(t, spawn.Held("StartX", nil, os.ErrPermission), "StartX: permission denied")
	require.NoError(t, c.Release())
	assert.ErrorContains(t, spawn.Held("StartX", c, nil), "already released")
	require.NoError(t, c.Wait())
}

// TestHeldPID: HeldPID keeps any child it is given for stopping, even one
// returned beside an error, and answers the PID of a held one only.
func TestHeldPID(t *testing.T) {
	need(t, ns.UTS)
	var kept []func()
	keep := func(fn func()) { kept = append(kept, fn) }
	c, err := spawn.Start(t.Context(), spawn.Config{New: []ns.Kind{ns.UTS}, Args: []string{"true"}})
	require.NoError(t, err)
	pid, err := spawn.HeldPID("StartX", c, nil, keep)
	assert.NoError(t, err)
	assert.Equal(t, c.PID(), pid)
	_, err = spawn.HeldPID("StartX", c, os.ErrPermission, keep)
	assert.ErrorContains(t, err, "StartX: permission denied")
	_, err = spawn.HeldPID("StartX", nil, nil, keep)
	assert.ErrorContains(t, err, "StartX returned no child and no error")
	require.Len(t, kept, 2, "one keep per child given")
	for _, stop := range kept {
		stop()
	}
	assert.True(t, c.Released(), "the kept Stop ended the child")
}

// TestReapUntil: the child's status as a shell reports it, once it ends;
// another child that ends first is reaped on the way.
func TestReapUntil(t *testing.T) {
	for _, tt := range []struct {
		script string
		want   int
	}{{"exit 3", 3}, {"kill -TERM $$", 128 + 15}} {
		first := exec.Command("true")
		require.NoError(t, first.Start())
		cmd := exec.Command("sh", "-c", "read x; "+tt.script)
		in, err := cmd.StdinPipe()
		require.NoError(t, err)
		require.NoError(t, cmd.Start())
		in.Close()
		got, err := spawn.ReapUntil(cmd.Process.Pid)
		assert.NoError(t, err)
		assert.Equal(t, tt.want, got, "sh -c %q", tt.script)
	}
	_, err := spawn.ReapUntil(os.Getpid())
	assert.ErrorIs(t, err, syscall.ECHILD, "no child left to wait for")
}
