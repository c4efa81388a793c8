package cli

import (
	"bytes"
	"os"
	"strings"
	"testing"

	"github.com/nslab/nslab/pkg/ns"
)

func TestRunHostname(t *testing.T) {
	needNamespaces(t, ns.UTS)
	before, err := os.Hostname()
	if err != nil {
		t.Fatal(err)
	}
	r := call(t, "", "run", "--hostname", "nslab-cli-test", "--", "uname", "-n")
	if r.code != 0 || r.stdout != "nslab-cli-test\n" {
		t.Errorf("nslab run --hostname nslab-cli-test -- uname -n = %d, %q, stderr %q; want 0 and the new name", r.code, r.stdout, r.stderr)
	}
	if after, _ := os.Hostname(); after != before {
		t.Errorf("the host's name changed from %q to %q", before, after)
	}
}

func TestRunExitStatus(t *testing.T) {
	needNamespaces(t, ns.UTS)
	tests := []struct {
		name string
		args []string
		want int
	}{
		{"success", []string{"true"}, 0},
		{"status 3", []string{"sh", "-c", "exit 3"}, 3},
		{"killed by SIGKILL", []string{"sh", "-c", "kill -9 $$"}, 128 + 9},
		{"killed by SIGTERM", []string{"sh", "-c", "kill -TERM $$"}, 128 + 15},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := append([]string{"run", "--uts", "--"}, tt.args...)
			r := call(t, "", args...)
			if r.code != tt.want {
				t.Errorf("nslab %q = %d, want %d (stderr %q)", args, r.code, tt.want, r.stderr)
			}
		})
	}
}

func TestRunWithoutNamespaces(t *testing.T) {
	r := call(t, "", "run", "--", "sh", "-c", "exit 4")
	if r.code != 4 {
		t.Errorf("nslab run -- sh -c 'exit 4' = %d, want 4 (stderr %q)", r.code, r.stderr)
	}
}

func TestRunDefaultShellReadsStdin(t *testing.T) {
	needNamespaces(t, ns.UTS)
	t.Setenv("SHELL", "/bin/sh")
	r := call(t, "uname -n\nexit 5\n", "run", "--hostname", "from-stdin")
	if r.code != 5 || r.stdout != "from-stdin\n" {
		t.Errorf("nslab run --hostname from-stdin with a script on stdin = %d, %q, stderr %q; want 5, \"from-stdin\\n\"", r.code, r.stdout, r.stderr)
	}
}

func TestRunPIDNamespace(t *testing.T) {
	needNamespaces(t, ns.PID, ns.Mnt)
	// Under nslab's init (PID 1), the shell is the init's child; exec'd, ls
	// keeps its PID, and the fresh /proc shows the two of them alone.
	r := call(t, "", "run", "--pid", "--mount-proc", "--", "sh", "-c", "echo $$; exec ls -1 /proc")
	pids := numbers(r.stdout)
	if r.code != 0 || len(pids) != 3 || pids[0] == "1" || pids[1] != "1" || pids[2] != pids[0] {
		t.Errorf("nslab run --pid --mount-proc: $$ and the PIDs in /proc = %q (code %d, stderr %q), want $$ and \"1 $$\"", pids, r.code, r.stderr)
	}
	// Without the init, the shell is PID 1 itself, as with unshare --fork.
	r = call(t, "", "run", "--pid", "--init=false", "--mount-proc", "--", "sh", "-c", "echo $$; exec ls -1 /proc")
	if pids := numbers(r.stdout); r.code != 0 || strings.Join(pids, " ") != "1 1" {
		t.Errorf("nslab run --pid --init=false --mount-proc: $$ and the PIDs in /proc = %q (code %d, stderr %q), want \"1 1\"", pids, r.code, r.stderr)
	}
}

// numbers returns the words of out that start with a digit.
func numbers(out string) []string {
	var n []string
	for _, f := range strings.Fields(out) {
		if f[0] >= '0' && f[0] <= '9' {
			n = append(n, f)
		}
	}
	return n
}

func TestRunMapRoot(t *testing.T) {
	needNamespaces(t, ns.User)
	r := call(t, "", "run", "--map-root", "--", "id", "-u")
	if r.code != 0 || r.stdout != "0\n" {
		t.Errorf("nslab run --map-root -- id -u = %d, %q, stderr %q; want 0, \"0\\n\"", r.code, r.stdout, r.stderr)
	}
}

func TestLab(t *testing.T) {
	r := call(t, "", "lab", "clitest")
	lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
	last := lines[len(lines)-1]
	if r.code != 1 || !strings.Contains(last, "docs/labs/clitest.md#step-02") || strings.Contains(r.stdout, "#step-01\n") {
		t.Errorf("nslab lab clitest = %d, last line %q; want 1 and a last line naming docs/labs/clitest.md#step-02 only\n%s", r.code, last, r.stdout)
	}
	r = call(t, "", "lab", "clitest", "--step", "1")
	if r.code != 0 || !strings.Contains(r.stdout, "1 of 1 steps passed") {
		t.Errorf("nslab lab clitest --step 1 = %d, stdout %q; want 0 and 1 of 1 passed", r.code, r.stdout)
	}
}

func TestLabList(t *testing.T) {
	r := call(t, "", "lab", "clitest", "--list")
	want := []string{"clitest", "12 points", "01 passes", "5 points", "02 fails", "7 points"}
	for _, w := range want {
		if !strings.Contains(r.stdout, w) {
			t.Errorf("nslab lab clitest --list = %q, want it to contain %q", r.stdout, w)
		}
	}
	if r.code != 0 || strings.Contains(r.stdout, "PASS") {
		t.Errorf("nslab lab --list = %d and ran steps? %q", r.code, r.stdout)
	}
}

// The command gets its standard files and nothing else of nslab's: under
// the init and without it, ls sees fds 0, 1, 2 and its own directory (3).
func TestRunOnlyStdio(t *testing.T) {
	needNamespaces(t, ns.PID, ns.UTS)
	for _, init := range []string{"--init=true", "--init=false"} {
		r := call(t, "", "run", "--pid", "--uts", init, "--", "ls", "/proc/self/fd")
		if got := strings.Fields(r.stdout); r.code != 0 || strings.Join(got, " ") != "0 1 2 3" {
			t.Errorf("nslab run --pid %s -- ls /proc/self/fd = %d, %q (stderr %q); want 0 1 2 3", init, r.code, got, r.stderr)
		}
	}
}

// One writer for stdout and stderr gets both, as with os/exec.
func TestRunSameWriter(t *testing.T) {
	needNamespaces(t, ns.UTS)
	var out bytes.Buffer
	code := Main([]string{"run", "--uts", "--", "sh", "-c", "echo out; echo err >&2"}, strings.NewReader(""), &out, &out)
	if code != 0 || out.String() != "out\nerr\n" {
		t.Errorf("nslab run with one writer = %d, %q; want 0, \"out\\nerr\\n\"", code, out.String())
	}
}

// The path through pkg/spawn (its shim and nslab.init as an entrypoint),
// which machines without the fast path use, still runs the command under the init.
func TestRunThroughSpawn(t *testing.T) {
	needNamespaces(t, ns.PID, ns.UTS)
	r, err := ParseRun([]string{"--pid", "--uts", "--hostname", "spawned", "--", "sh", "-c", "echo $$; hostname; exit 3"}, runEnv{Shell: "/bin/sh"})
	if err != nil {
		t.Fatal(err)
	}
	var out, errb bytes.Buffer
	r.Config.Stdout, r.Config.Stderr = &out, &errb
	code := executeSpawn(r.Config, r.StopTimeout, make(chan os.Signal), &errb)
	if lines := strings.Fields(out.String()); code != 3 || len(lines) != 2 || lines[0] == "1" || lines[1] != "spawned" {
		t.Errorf("executeSpawn = %d, %q (stderr %q); want 3, a PID other than 1 (the init's), then spawned", code, out.String(), errb.String())
	}
}
