package cli

import (
	"bufio"
	"context"
	"errors"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/nslab/nslab/pkg/ns"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// exitCode is the status a finished command gave the shell (128+N for signal N).
func exitCode(t *testing.T, err error) int {
	t.Helper()
	var ee *exec.ExitError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &ee) && ee.ProcessState.Sys().(syscall.WaitStatus).Signaled():
		return 128 + int(ee.ProcessState.Sys().(syscall.WaitStatus).Signal())
	case errors.As(err, &ee):
		return ee.ExitCode()
	}
	t.Fatalf("wait: %v", err)
	return -1
}

// startNslab starts nslab with args and returns it once its command printed
// its first line (a PID), which it returns.
func startNslab(t *testing.T, ctx context.Context, args ...string) (*exec.Cmd, int) {
	t.Helper()
	cmd := nslabCommand(ctx, args...)
	out, err := cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	line, err := bufio.NewReader(out).ReadString('\n')
	require.NoError(t, err, "nslab %q printed no first line", args)
	pid, err := strconv.Atoi(strings.TrimSpace(line))
	require.NoError(t, err)
	return cmd, pid
}

// SIGTERM to nslab run --pid ends it with 143 (128+15) by itself, well
// before the test's deadline, whether or not the command obeys.
func TestRunSIGTERM(t *testing.T) {
	needNamespaces(t, ns.PID)
	for _, tt := range []struct {
		name string
		args []string
	}{
		// A shell that starts a background sleep and waits: SIGTERM reaches
		// the shell through the init (the shell is not PID 1, so it dies of
		// it), and nslab ends at once. The host PID of the sleep is printed first.
		{"init forwards", []string{"--stop-timeout", "0", "--", "sh", "-c", "sleep 300 & echo $!; wait"}},
		// The command ignores SIGTERM (as sh does when it is PID 1): after
		// --stop-timeout nslab kills the namespace.
		{"stop timeout", []string{"--init=false", "--stop-timeout", "200ms", "--", "sh", "-c", "echo $$; sleep 300 & wait"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
			defer cancel()
			cmd, _ := startNslab(t, ctx, append([]string{"run", "--pid"}, tt.args...)...)
			require.NoError(t, cmd.Process.Signal(syscall.SIGTERM))
			assert.Equal(t, 143, exitCode(t, cmd.Wait()), "nslab ends with the command's death by SIGTERM")
			assert.NoError(t, ctx.Err(), "nslab ended by itself, well before the test's deadline")
		})
	}
}

// nslab killed with SIGKILL: the init dies with it (Pdeathsig), and with
// the init every process of its namespace.
func TestRunKilledLeavesNothing(t *testing.T) {
	needNamespaces(t, ns.PID)
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	cmd, _ := startNslab(t, ctx, "run", "--pid", "--", "sh", "-c", "echo 0; exec sleep 300")
	sleep := grandchildren(t, cmd.Process.Pid)
	require.NotEmpty(t, sleep, "the init's child")
	require.NoError(t, cmd.Process.Kill())
	cmd.Wait()
	for _, pid := range sleep {
		assert.Eventually(t, func() bool { return gone(pid) }, 10*time.Second, 20*time.Millisecond, "PID %d outlived nslab", pid)
	}
}

// grandchildren lists the children of the children of pid (the init's children).
func grandchildren(t *testing.T, pid int) []int {
	t.Helper()
	var out []int
	for _, c := range childrenOf(pid) {
		out = append(out, childrenOf(c)...)
	}
	return out
}

func childrenOf(pid int) []int {
	var out []int
	tasks, _ := os.ReadDir("/proc/" + strconv.Itoa(pid) + "/task")
	for _, task := range tasks {
		b, _ := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/task/" + task.Name() + "/children")
		for _, f := range strings.Fields(string(b)) {
			if n, err := strconv.Atoi(f); err == nil {
				out = append(out, n)
			}
		}
	}
	return out
}

// gone reports whether pid has ended and been reaped (a zombie counts as gone
// from its namespace: its init is dead and it waits for the machine's).
func gone(pid int) bool {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	return err != nil || strings.Contains(string(b), ") Z ")
}

// An orphan is re-parented to the init, which reaps it: no zombie is left.
func TestRunInitReaps(t *testing.T) {
	needNamespaces(t, ns.PID, ns.Mnt)
	r := call(t, "", "run", "--pid", "--mount-proc", "--", "sh", "-c",
		`(sh -c 'exit 0' &); sleep 0.5; grep -l '^State:.Z' /proc/[0-9]*/status; echo done`)
	assert.Equal(t, 0, r.code, r.stderr)
	assert.Equal(t, "done\n", r.stdout, "no zombie left in the namespace")
}
