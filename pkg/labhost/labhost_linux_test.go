//go:build linux

package labhost_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/nslab/nslab/pkg/labhost"
	"github.com/nslab/nslab/pkg/ns"
	"github.com/nslab/nslab/pkg/spawn"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"
)

const entryProbe = "labhost.test.probe"

func init() { spawn.Register(entryProbe, probe) }

func TestMain(m *testing.M) {
	spawn.Init()
	os.Exit(m.Run())
}

// seen is what the probe reports from inside a lab host.
type seen struct {
	UID, PID, PPID int
	ProcPIDs       []string
	TmpFS          bool
	LoUp           bool
	TouchErr       string // creating a file in a directory of the machine's root
	Env            []string
	NPROC          uint64 // RLIMIT_NPROC
}

func probe(args []string) int {
	var s seen
	s.UID, s.PID, s.PPID = os.Getuid(), os.Getpid(), os.Getppid()
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		if e.Name()[0] >= '0' && e.Name()[0] <= '9' {
			s.ProcPIDs = append(s.ProcPIDs, e.Name())
		}
	}
	var st unix.Statfs_t
	s.TmpFS = unix.Statfs("/tmp", &st) == nil && st.Type == unix.TMPFS_MAGIC
	if lo, err := net.InterfaceByName("lo"); err == nil {
		s.LoUp = lo.Flags&net.FlagUp != 0
	}
	if err := os.WriteFile(filepath.Join(args[0], "touched"), nil, 0o644); err != nil {
		s.TouchErr = errors.Unwrap(err).Error()
	}
	s.Env = os.Environ()
	var lim unix.Rlimit
	unix.Getrlimit(unix.RLIMIT_NPROC, &lim)
	s.NPROC = lim.Max
	f := os.NewFile(3, "report")
	json.NewEncoder(f).Encode(s)
	f.Close()
	return 0
}

func need(t *testing.T) {
	t.Helper()
	if err := labhost.Check(); err != nil {
		t.Skipf("skip: %v", err)
	}
}

func TestLabHost(t *testing.T) {
	need(t)
	dir := machineDir(t)
	t.Setenv("GITHUB_TOKEN", "secret")
	r, w, err := os.Pipe()
	require.NoError(t, err)
	var out bytes.Buffer
	h, err := labhost.Start(t.Context(), labhost.Options{Entrypoint: entryProbe, Args: []string{dir}, ExtraFiles: []*os.File{w}, Stderr: &out})
	w.Close()
	require.NoError(t, err)
	defer h.Stop()
	var s seen
	require.NoError(t, json.NewDecoder(r).Decode(&s), "stderr: %s", out.String())
	require.NoError(t, h.Wait(), out.String())

	assert.Equal(t, 0, s.UID, "root inside")
	assert.Equal(t, 1, s.PPID, "the entrypoint is the init's child")
	assert.Equal(t, []string{"1", strconv.Itoa(s.PID)}, s.ProcPIDs, "/proc shows the lab host only")
	assert.True(t, s.TmpFS, "/tmp is a tmpfs of the lab host")
	assert.True(t, s.LoUp, "lo is up")
	assert.NotContains(t, strings.Join(s.Env, " "), "GITHUB_TOKEN")
	assert.EqualValues(t, labhost.MaxProcs, s.NPROC, "a fork bomb meets RLIMIT_NPROC")
	if os.Geteuid() == 0 {
		assert.Equal(t, "permission denied", s.TouchErr, "root of the lab host owns nothing on the machine")
	}
	_, err = os.Stat(filepath.Join(dir, "touched"))
	assert.True(t, os.IsNotExist(err), "nothing written to the machine")
}

// machineDir is a directory of the machine outside /tmp (which a lab host
// replaces): under /run as root, the test's own temporary directory otherwise.
func machineDir(t *testing.T) string {
	t.Helper()
	if os.Geteuid() != 0 {
		return t.TempDir()
	}
	dir, err := os.MkdirTemp("/run", "nslab-labhost-test-")
	require.NoError(t, err)
	t.Cleanup(func() { os.RemoveAll(dir) })
	return dir
}

func TestLabHostNamespaces(t *testing.T) {
	need(t)
	r, w, err := os.Pipe()
	require.NoError(t, err)
	hold, release, err := os.Pipe()
	require.NoError(t, err)
	h, err := labhost.Start(t.Context(), labhost.Options{Entrypoint: "labhost.test.hold", ExtraFiles: []*os.File{w, hold}})
	w.Close()
	hold.Close()
	require.NoError(t, err)
	defer h.Stop()
	var pid int
	require.NoError(t, json.NewDecoder(r).Decode(&pid))
	self, err := ns.Of(ns.Self)
	require.NoError(t, err)
	inside, err := ns.OfDir(h.ProcDir(pid))
	require.NoError(t, err)
	for _, k := range labhost.Kinds() {
		a, _ := self.Get(k)
		b, _ := inside.Get(k)
		assert.False(t, a.Equal(b), "the lab host's %s namespace is new", k)
	}
	release.Close()
	require.NoError(t, h.Wait())
}

func init() {
	spawn.Register("labhost.test.hold", func([]string) int {
		json.NewEncoder(os.NewFile(3, "ready")).Encode(os.Getpid())
		var b [1]byte
		os.NewFile(4, "hold").Read(b[:])
		return 0
	})
}

func TestLabHostCgroup(t *testing.T) {
	need(t)
	if err := labhost.CheckCgroup(); err != nil {
		t.Skipf("skip: %v", err)
	}
	r, w, err := os.Pipe()
	require.NoError(t, err)
	hold, release, err := os.Pipe()
	require.NoError(t, err)
	h, err := labhost.Start(t.Context(), labhost.Options{Entrypoint: "labhost.test.cgroup", ExtraFiles: []*os.File{w, hold}, Cgroup: true})
	w.Close()
	hold.Close()
	require.NoError(t, err)
	defer h.Stop()
	var inside string
	require.NoError(t, json.NewDecoder(r).Decode(&inside))
	assert.Contains(t, inside, "0::/\n", "the lab host's cgroup namespace is rooted at its own cgroup")
	procs, err := os.ReadFile(filepath.Join(h.Cgroup(), "cgroup.procs"))
	require.NoError(t, err)
	assert.Contains(t, strings.Fields(string(procs)), strconv.Itoa(h.PID()), "the init started in the delegated cgroup")
	var st unix.Stat_t
	require.NoError(t, unix.Stat(h.Cgroup(), &st))
	uid, _ := labhost.Maps()
	assert.EqualValues(t, uid[0].HostID, st.Uid, "the cgroup belongs to the lab host's root")
	if v1 := h.PidsV1(); v1 != "" {
		procs, err := os.ReadFile(filepath.Join(v1, "cgroup.procs"))
		require.NoError(t, err)
		assert.Contains(t, strings.Fields(string(procs)), strconv.Itoa(h.PID()), "the init is in its v1 pids cgroup too")
	}
	release.Close()
	require.NoError(t, h.Wait())
	require.NoError(t, h.Stop())
	for _, dir := range []string{h.Cgroup(), h.PidsV1()} {
		if dir != "" {
			_, err = os.Stat(dir)
			assert.True(t, os.IsNotExist(err), "cgroup %s is removed with the lab host", dir)
		}
	}
}

func init() {
	spawn.Register("labhost.test.cgroup", func([]string) int {
		b, _ := os.ReadFile("/proc/self/cgroup")
		json.NewEncoder(os.NewFile(3, "ready")).Encode(string(b))
		var x [1]byte
		os.NewFile(4, "hold").Read(x[:])
		return 0
	})
}

func init() {
	spawn.Register("labhost.test.exit", func(args []string) int {
		code, _ := strconv.Atoi(args[0])
		f := os.NewFile(3, "report")
		json.NewEncoder(f).Encode([]int{os.Getpid(), os.Getppid()})
		f.Close()
		os.Stdout.WriteString("out " + args[0] + "\n")
		return code
	})
}

// TestResidentLabHost starts processes one after the other in one lab host:
// each with the files it was given, each one's end told with its status.
func TestResidentLabHost(t *testing.T) {
	need(t)
	h, err := labhost.Start(t.Context(), labhost.Options{Resident: true})
	require.NoError(t, err)
	defer h.Stop()
	var pids []int
	for _, code := range []int{0, 3, 0} {
		r, w, err := os.Pipe()
		require.NoError(t, err)
		outR, outW, err := os.Pipe()
		require.NoError(t, err)
		p, err := h.Exec("labhost.test.exit", []string{strconv.Itoa(code)}, outW, outW, w)
		w.Close()
		outW.Close()
		require.NoError(t, err)
		var seen []int
		require.NoError(t, json.NewDecoder(r).Decode(&seen))
		out, _ := io.ReadAll(outR)
		err = p.Wait()
		if code == 0 {
			assert.NoError(t, err)
		} else {
			assert.ErrorContains(t, err, "exited with status 3")
		}
		assert.Equal(t, []int{p.PID(), 1}, seen, "the process is the init's child, its PID the lab host's")
		assert.Equal(t, "out "+strconv.Itoa(code)+"\n", string(out))
		pids = append(pids, p.PID())
		r.Close()
		outR.Close()
	}
	assert.Len(t, pids, 3)
	entries, err := os.ReadDir(h.Proc())
	require.NoError(t, err)
	var left []string
	for _, e := range entries {
		if e.Name()[0] >= '0' && e.Name()[0] <= '9' {
			left = append(left, e.Name())
		}
	}
	assert.Equal(t, []string{"1"}, left, "each ended process was reaped by the init")
	require.NoError(t, h.Stop())
	_, err = h.Exec("labhost.test.exit", []string{"0"}, os.Stdout, os.Stdout)
	assert.Error(t, err, "a stopped lab host starts nothing")
}

func TestResidentLabHostRefusesAnEntrypoint(t *testing.T) {
	_, err := labhost.Start(t.Context(), labhost.Options{Resident: true, Entrypoint: "labhost.test.exit"})
	assert.ErrorContains(t, err, "starts its processes with Exec")
}
