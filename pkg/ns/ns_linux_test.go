package ns_test

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"syscall"
	"testing"

	"github.com/nslab/nslab/pkg/ns"
	"github.com/nslab/nslab/pkg/spawn"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"
)

func TestMain(m *testing.M) {
	spawn.Init()
	if os.Getenv("NS_TEST_READ_PID") != "" {
		readPIDHelper(os.Getenv("NS_TEST_READ_PID"))
	}
	os.Exit(m.Run())
}

// readPIDHelper runs in a copy of the test binary started as another user:
// it prints which error reading the namespaces of a PID gave.
func readPIDHelper(arg string) {
	pid, _ := strconv.Atoi(arg)
	_, err := ns.Of(pid)
	switch {
	case errors.Is(err, ns.ErrPermission):
		fmt.Println("permission")
	default:
		fmt.Println("other:", err)
	}
	os.Exit(0)
}

func TestOfSelfAgreesWithReadlinkAndStat(t *testing.T) {
	s, err := ns.Of(ns.Self)
	require.NoError(t, err)
	for _, k := range ns.Kinds() {
		id, ok := s.Get(k)
		if !ok {
			assert.Contains(t, s.Absent, k)
			continue
		}
		link, err := os.Readlink("/proc/self/ns/" + string(k))
		require.NoError(t, err)
		assert.Equal(t, link, id.String(), "link text of %s", k)
		var st unix.Stat_t
		require.NoError(t, unix.Stat("/proc/self/ns/"+string(k), &st))
		assert.Equal(t, uint64(st.Dev), id.Dev, "device of %s", k)
		assert.Equal(t, st.Ino, id.Inode, "inode of %s", k)
	}
}

func TestMissingPID(t *testing.T) {
	_, err := ns.Of(1 << 30)
	require.ErrorIs(t, err, ns.ErrNoProcess)
	assert.Contains(t, err.Error(), fmt.Sprintf("PID %d does not exist", 1<<30))
	_, err = ns.Get(-3, ns.UTS)
	require.ErrorIs(t, err, ns.ErrNoProcess)
}

func TestZombieCountsAsExited(t *testing.T) {
	cmd := exec.Command("true")
	require.NoError(t, cmd.Start())
	defer cmd.Wait()
	waitExit(t, cmd.Process.Pid) // exited, not reaped: a zombie, /proc/PID still there
	_, err := ns.Of(cmd.Process.Pid)
	require.ErrorIs(t, err, ns.ErrExited)
	assert.Contains(t, err.Error(), fmt.Sprintf("/proc/%d/ns/", cmd.Process.Pid))
}

// waitExit blocks until pid has exited, without reaping it: a pidfd becomes readable then.
func waitExit(t *testing.T, pid int) {
	fd, err := unix.PidfdOpen(pid, 0)
	require.NoError(t, err)
	defer unix.Close(fd)
	fds := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
	for {
		_, err := unix.Poll(fds, -1)
		if err != unix.EINTR {
			require.NoError(t, err)
			return
		}
	}
}

func TestPermissionRefused(t *testing.T) {
	if os.Geteuid() != 0 {
		_, err := ns.Of(1)
		require.ErrorIs(t, err, ns.ErrPermission, "reading PID 1 as UID %d", os.Geteuid())
		return
	}
	// As root: read our own namespaces from a copy of this binary running as nobody.
	cmd := exec.Command("/proc/self/exe", "-test.run=^$")
	cmd.Env = append(os.Environ(), "NS_TEST_READ_PID="+strconv.Itoa(os.Getpid()))
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	out, err := cmd.Output()
	require.NoError(t, err)
	assert.Equal(t, "permission\n", string(out))
}

func TestHandleIoctls(t *testing.T) {
	uts, err := ns.Open(ns.Self, ns.UTS)
	require.NoError(t, err)
	defer uts.Close()
	kind, err := uts.Type()
	require.NoError(t, err)
	assert.Equal(t, ns.UTS, kind, "NS_GET_NSTYPE of a uts namespace")

	_, err = uts.Parent()
	require.ErrorIs(t, err, ns.ErrNotHierarchical, "NS_GET_PARENT of a uts namespace")
	_, err = uts.OwnerUID()
	require.ErrorIs(t, err, ns.ErrNotUserNS, "NS_GET_OWNER_UID of a uts namespace")

	owner, err := uts.UserNS()
	require.NoError(t, err)
	defer owner.Close()
	own, err := ns.Get(ns.Self, ns.User)
	require.NoError(t, err)
	assert.True(t, owner.ID().Equal(own), "owner of our uts namespace is our user namespace")
}

func TestTopOfScopeIsEPERM(t *testing.T) {
	const initialUserNS = 4026531837 // PROC_USER_INIT_INO: the inode of the initial user namespace
	own, err := ns.Get(ns.Self, ns.User)
	require.NoError(t, err)
	if own.Inode != initialUserNS {
		t.Skip("skip: this test runs inside a nested user namespace; the top is elsewhere")
	}
	h, err := ns.Open(ns.Self, ns.User)
	require.NoError(t, err)
	defer h.Close()
	_, err = h.Parent()
	require.ErrorIs(t, err, ns.ErrOutsideScope, "NS_GET_PARENT of the initial user namespace")
	uid, err := h.OwnerUID()
	require.NoError(t, err)
	assert.Equal(t, 0, uid, "the initial user namespace belongs to UID 0")
}

func TestNestedPIDAndUserParents(t *testing.T) {
	if err := spawn.Check(ns.PID, ns.User); err != nil {
		t.Skipf("skip: %v", err)
	}
	child, err := spawn.Start(t.Context(), spawn.Config{New: []ns.Kind{ns.PID, ns.User}, MapRoot: true, Args: []string{"true"}})
	require.NoError(t, err)
	defer child.Stop()

	pidns, err := ns.Open(child.PID(), ns.PID)
	require.NoError(t, err)
	defer pidns.Close()
	parent, err := pidns.Parent()
	require.NoError(t, err)
	defer parent.Close()
	ours, err := ns.Get(ns.Self, ns.PID)
	require.NoError(t, err)
	assert.True(t, parent.ID().Equal(ours), "parent of the child's pid namespace %s, want ours %s", parent.ID(), ours)

	userns, err := ns.Open(child.PID(), ns.User)
	require.NoError(t, err)
	defer userns.Close()
	uid, err := userns.OwnerUID()
	require.NoError(t, err)
	assert.Equal(t, os.Geteuid(), uid, "owner UID of a user namespace we created")
}

func TestListFindsOurNamespaces(t *testing.T) {
	rows, err := ns.List()
	require.NoError(t, err)
	self, err := ns.Of(ns.Self)
	require.NoError(t, err)
	for _, k := range ns.ListKinds() {
		id, ok := self.Get(k)
		if !ok {
			continue
		}
		found := false
		for _, r := range rows {
			if r.Kind == k && r.Inode == id.Inode {
				found = true
				assert.GreaterOrEqual(t, r.NProcs, 1)
				assert.LessOrEqual(t, r.PID, os.Getpid(), "lowest PID of %s", id)
			}
		}
		assert.True(t, found, "ns.List has no row for our %s", id)
	}
}

func TestDoJoinsUTS(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("skip: joining a UTS namespace owned by another user namespace needs CAP_SYS_ADMIN in it (root)")
	}
	child, err := spawn.Start(t.Context(), spawn.Config{New: []ns.Kind{ns.UTS}, Hostname: "ns-do-test", Args: []string{"sleep", "30"}})
	require.NoError(t, err)
	defer child.Stop()
	require.NoError(t, child.Release())
	var inside string
	err = ns.Do(child.PID(), []ns.Kind{ns.UTS}, func() error {
		var err error
		inside, err = os.Hostname()
		return err
	})
	require.NoError(t, err)
	assert.Equal(t, "ns-do-test", inside)
	host, _ := os.Hostname()
	assert.NotEqual(t, "ns-do-test", host)
}

func TestDoRefusesMountAndUser(t *testing.T) {
	err := ns.Do(ns.Self, []ns.Kind{ns.Mnt}, func() error { return nil })
	require.ErrorContains(t, err, "single-threaded")
}

// The kernel's own answer, which Do refuses in advance: setns(2) of a time
// namespace from a multi-threaded process is EUSERS, locked thread or not.
func TestTimeSetnsNeedsOneThread(t *testing.T) {
	if !ns.Supported(ns.Time) || os.Geteuid() != 0 {
		t.Skip("skip: needs time namespaces and root (setns needs CAP_SYS_ADMIN)")
	}
	require.ErrorContains(t, ns.Do(ns.Self, []ns.Kind{ns.Time}, func() error { return nil }), "single-threaded")
	h, err := ns.Open(ns.Self, ns.Time)
	require.NoError(t, err)
	defer h.Close()
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	assert.ErrorIs(t, unix.Setns(h.Fd(), unix.CLONE_NEWTIME), unix.EUSERS)
}
