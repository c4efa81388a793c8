//go:build unix

package grade

import (
	"os/exec"
	"syscall"
	"time"
)

// killGroup makes cancelling cmd end its whole process group (go and the
// test binaries it runs), not go alone.
func killGroup(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 10 * time.Second
}
