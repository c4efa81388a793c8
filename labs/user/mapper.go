//go:build linux

package user

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"syscall"

	"github.com/nslab/nslab/pkg/holder"
	"github.com/nslab/nslab/pkg/host"
	"github.com/nslab/nslab/pkg/lab"
	"github.com/nslab/nslab/pkg/ns"
	"github.com/nslab/nslab/pkg/spawn"
	"golang.org/x/sys/unix"
)

// Step 02 has MapToRoot called by two writers. The runner is root in its
// user namespace (the lab host's), with CAP_SETUID and CAP_SETGID there:
// the kernel lets it write any map of IDs it has, setgroups untouched. The
// other writer has no capability at all: a process that is UID writerUID,
// GID writerGID in a user namespace of its own (mapped to the runner's IDs),
// executed there without ambient capabilities, so execve(2) left it none.
// The kernel lets it map only its own UID and GID, and gid_map only after
// "deny" in setgroups (user_namespaces(7)). Its user namespace leaves
// setgroups "allow" where the runner's does, so a gid_map written before
// "deny" is refused. (Under a lab host made by an unprivileged user, every
// user namespace inherits "deny" from the lab host's, and that mistake
// cannot be seen.)
const writerUID, writerGID = 1000, 2000

// mapping is what one writer of step 02 did: MapToRoot for a held child of
// its own, which then reported its IDs and stayed alive for the harness.
type mapping struct {
	Writer          string        // who wrote, for the narration
	Privileged      bool          // the writer is UID 0, with every capability in its user namespace
	PID             int           // the child (a PID of the lab host)
	UID, GID        int           // what MapToRoot was given: the writer's own IDs
	Before          []spawn.IDMap // the child's uid_map before MapToRoot
	SetgroupsBefore string        // its setgroups before MapToRoot (inherited from the writer's namespace)
	UIDMap, GIDMap  []spawn.IDMap // after MapToRoot, as the writer reads them
	Setgroups       string        // and setgroups
	Again           string        // the error of writing uid_map a second time; empty if it succeeded
	AgainEPERM      bool          // that error was EPERM
	Inside          statusReport  // what the child reported once released
	Missing         refusal       // MapToRoot for a PID that no process has
	Preset          refusal       // MapToRoot for a child whose gid_map is already written
}

// refusal is the error a call returned where the kernel refuses it.
type refusal struct {
	Errno, Err string // errnoName and text of the error: "ok" and "" for none
}

func refused(err error) refusal { return refusal{Errno: lab.ErrnoName(err), Err: lab.ErrText(err)} }

// mapHeld starts a held child in a new user namespace without maps, maps
// the caller's IDs to root in it with MapToRoot (step 02), writes uid_map a
// second time, and lets the child report. The child stays alive until the
// caller stops it.
func mapHeld(ctx context.Context, writer string) (m mapping, t *holder.Holder, err error) {
	m = mapping{Writer: writer, Privileged: os.Geteuid() == 0, UID: os.Geteuid(), GID: os.Getegid()}
	t, err = holder.Start(ctx, spawn.Config{New: []ns.Kind{ns.User}, Entrypoint: entryStatus})
	if err != nil {
		return m, nil, err
	}
	defer func() {
		if err != nil {
			t.Stop()
			t = nil
		}
	}()
	m.PID = t.PID()
	if m.Before, err = readIDMap(m.PID, "uid_map"); err != nil {
		return m, t, err
	}
	if m.SetgroupsBefore, err = readSetgroups(m.PID); err != nil {
		return m, t, err
	}
	if err := MapToRoot(m.PID, m.UID, m.GID); err != nil {
		return m, t, fmt.Errorf("MapToRoot(%d, %d, %d), called by %s: %w", m.PID, m.UID, m.GID, writer, err)
	}
	if m.UIDMap, err = readIDMap(m.PID, "uid_map"); err != nil {
		return m, t, err
	}
	if m.GIDMap, err = readIDMap(m.PID, "gid_map"); err != nil {
		return m, t, err
	}
	if m.Setgroups, err = readSetgroups(m.PID); err != nil {
		return m, t, err
	}
	again := os.WriteFile(fmt.Sprintf("/proc/%d/uid_map", m.PID), fmt.Appendf(nil, "0 %d 1\n", m.UID), 0)
	if again != nil {
		m.Again, m.AgainEPERM = again.Error(), errors.Is(again, unix.EPERM)
	}
	if err := m.refusals(ctx); err != nil {
		return m, t, err
	}
	return m, t, t.Report(&m.Inside)
}

// refusals calls MapToRoot where the kernel refuses it: for a PID that no
// process has (ENOENT), and for a held child whose gid_map the lab wrote
// when it started it (EPERM: from setgroups for a writer without
// capabilities, from gid_map for root).
func (m *mapping) refusals(ctx context.Context) error {
	pidMax, err := host.ReadInt("/proc/sys/kernel/pid_max") // PIDs are below it
	if err != nil {
		return err
	}
	m.Missing = refused(MapToRoot(pidMax, m.UID, m.GID))
	t, err := holder.Start(ctx, spawn.Config{New: []ns.Kind{ns.User}, GIDMap: []spawn.IDMap{{ContainerID: 0, HostID: m.GID, Size: 1}}, Entrypoint: entryStatus})
	if err != nil {
		return fmt.Errorf("start a child with a gid_map only: %w", err)
	}
	defer t.Stop()
	m.Preset = refused(MapToRoot(t.PID(), m.UID, m.GID))
	return nil
}

func readSetgroups(pid int) (string, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/setgroups", pid))
	return strings.TrimSpace(string(b)), err
}

// mapperMain is the unprivileged writer: it maps its own IDs to root for a
// child of its own, prints the mapping, and waits for the end of its input.
func mapperMain(args []string) int {
	if len(args) != 0 {
		return spawn.Fail(errors.New("usage: user-mapper (no arguments)"))
	}
	st, err := readStatus("self")
	if err != nil {
		return spawn.Fail(err)
	}
	if st.CapEff != 0 || os.Geteuid() != writerUID || os.Getegid() != writerGID {
		return spawn.Fail(fmt.Errorf("user-mapper: want UID %d, GID %d and no capability; have UID %d, GID %d, CapEff %016x", writerUID, writerGID, os.Geteuid(), os.Getegid(), st.CapEff))
	}
	m, t, err := mapHeld(context.Background(), fmt.Sprintf("a writer without capabilities (UID %d, GID %d in a user namespace of its own)", writerUID, writerGID))
	if err != nil {
		return spawn.Fail(err)
	}
	defer t.Stop() // its child ends with the writer's input
	return holder.ReportAndHold(m)
}

// startMapper runs the unprivileged writer (mapperMain) in a new user
// namespace where it is writerUID and writerGID, mapped to the caller's
// IDs, and reads its mapping. It is executed directly, not through
// spawn's shim, which would hand it every capability as ambient ones.
// stop ends it and its child.
func startMapper() (m mapping, stop func(), err error) {
	cmd, err := spawn.EntrypointCommand(entryMapper, nil)
	if err != nil {
		return m, nil, err
	}
	cmd.Dir = "/"
	cmd.SysProcAttr.Cloneflags = syscall.CLONE_NEWUSER
	cmd.SysProcAttr.UidMappings = []syscall.SysProcIDMap{{ContainerID: writerUID, HostID: os.Geteuid(), Size: 1}}
	cmd.SysProcAttr.GidMappings = []syscall.SysProcIDMap{{ContainerID: writerGID, HostID: os.Getegid(), Size: 1}}
	// As the kernel allows it: "allow" only for a privileged writer whose
	// own namespace allows it (a child of a "deny" namespace inherits it).
	own, _ := readSetgroups(os.Getpid())
	cmd.SysProcAttr.GidMappingsEnableSetgroups = os.Geteuid() == 0 && own != "deny"
	w, err := holder.StartCommand(cmd, (*exec.Cmd).Start)
	if err != nil {
		return m, nil, fmt.Errorf("start a writer without capabilities in a user namespace of its own: %w", err)
	}
	if err := w.Report(&m); err != nil {
		var ee *spawn.ExitError
		if said := w.Stderr(); errors.As(err, &ee) && said != "" {
			err = errors.New(firstLines(said, 8)) // MapToRoot's error, or the start of a panic
		} else {
			err = fmt.Errorf("the writer without capabilities: %w", err)
		}
		w.Stop()
		return m, nil, err
	}
	return m, w.Stop, nil
}

// firstLines keeps the first n lines of s: the start of a panic's trace.
func firstLines(s string, n int) string {
	lines := strings.SplitN(s, "\n", n+1)
	if len(lines) > n {
		lines[n] = "…"
	}
	return strings.Join(lines, "\n")
}
