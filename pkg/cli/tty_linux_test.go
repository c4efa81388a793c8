package cli

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/nslab/nslab/pkg/holder"
	"github.com/nslab/nslab/pkg/ns"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"
)

// openPTY opens a pseudo-terminal pair: the master, and the terminal (slave).
func openPTY(t *testing.T) (master, tty *os.File) {
	t.Helper()
	m, err := os.OpenFile("/dev/ptmx", os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		t.Skipf("skip: no pseudo-terminals here: %v", err)
	}
	t.Cleanup(func() { m.Close() })
	require.NoError(t, unix.IoctlSetPointerInt(int(m.Fd()), unix.TIOCSPTLCK, 0), "unlockpt")
	n, err := unix.IoctlGetInt(int(m.Fd()), unix.TIOCGPTN)
	require.NoError(t, err, "ptsname")
	s, err := os.OpenFile(fmt.Sprintf("/dev/pts/%d", n), os.O_RDWR|unix.O_NOCTTY, 0)
	require.NoError(t, err)
	t.Cleanup(func() { s.Close() })
	return m, s
}

// processState is the state letter of /proc/PID/stat (R, S, T, Z…).
func processState(pid int) string {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return "gone"
	}
	s := string(b)
	if i := strings.LastIndexByte(s, ')'); i >= 0 && i+2 < len(s) {
		return s[i+2 : i+3]
	}
	return "?"
}

// A foreground nslab run in a terminal is a job like any other, in an
// interactive shell with job control: Ctrl-Z stops the command, fg lets it
// go on, and Ctrl-C ends it, nslab exiting 130 as a shell reports a death
// by SIGINT.
func TestRunInTerminal(t *testing.T) {
	needNamespaces(t, ns.PID)
	master, tty := openPTY(t)
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	shell := exec.CommandContext(ctx, "sh", "-i")
	shell.Env = append(os.Environ(), "PS1=$ ")
	shell.Stdin, shell.Stdout, shell.Stderr = tty, tty, tty
	shell.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true, Ctty: 0}
	require.NoError(t, shell.Start())
	defer func() { shell.Process.Kill(); shell.Wait() }()
	out := &holder.SyncBuffer{} // what the terminal shows
	go io.Copy(out, master)
	fmt.Fprintf(master, "%s=1 %s run --pid -- sleep 300\n", envAsNslab, os.Args[0])
	var sleep []int
	require.Eventually(t, func() bool { sleep = sleepsUnder(shell.Process.Pid); return len(sleep) == 1 }, 10*time.Second, 10*time.Millisecond, "the sleep under nslab's init:\n%s", out)

	master.Write([]byte{0x1a}) // Ctrl-Z
	assert.Eventually(t, func() bool { return processState(sleep[0]) == "T" }, 10*time.Second, 10*time.Millisecond, "Ctrl-Z stops the command:\n%s", out)
	fmt.Fprintf(master, "fg\n")
	assert.Eventually(t, func() bool { return processState(sleep[0]) == "S" }, 10*time.Second, 10*time.Millisecond, "fg lets it go on:\n%s", out)

	master.Write([]byte{0x03}) // Ctrl-C
	fmt.Fprintf(master, "echo code=$?\n")
	assert.Eventually(t, func() bool { return strings.Contains(out.String(), "code=130") }, 10*time.Second, 10*time.Millisecond, "Ctrl-C ends nslab run with 130:\n%s", out)
	assert.True(t, gone(sleep[0]), "the command is gone")
}

// sleepsUnder lists the sleep processes among the descendants of pid.
func sleepsUnder(pid int) []int {
	var out []int
	for _, c := range childrenOf(pid) {
		if b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/comm", c)); strings.TrimSpace(string(b)) == "sleep" {
			out = append(out, c)
		}
		out = append(out, sleepsUnder(c)...)
	}
	return out
}
