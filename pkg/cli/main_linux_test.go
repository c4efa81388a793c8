package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/nslab/nslab/pkg/cli/labcmd"
	"github.com/nslab/nslab/pkg/lab"
	"github.com/nslab/nslab/pkg/ns"
	"github.com/nslab/nslab/pkg/spawn"
)

// The test binary is re-executed as the shim of every child that run starts.
// The lab is registered in init, before spawn.Init: a step's runner is this
// binary re-executed, and finds the lab in the registry.
func init() {
	lab.Register(testLab)
	SetLab(labcmd.Usage, labcmd.Run)
}

func TestMain(m *testing.M) {
	spawn.Init()
	if os.Getenv(envAsNslab) == "1" { // this binary, run as the nslab command by a test
		os.Unsetenv(envAsNslab)
		os.Exit(Main(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
	}
	os.Exit(m.Run())
}

// envAsNslab makes the test binary run as the nslab command: for tests that
// signal it, kill it or give it a terminal.
const envAsNslab = "NSLAB_CLI_TEST_AS_NSLAB"

// nslabCommand is the nslab command with args, as a process of its own.
func nslabCommand(ctx context.Context, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, os.Args[0], args...)
	cmd.Env = append(os.Environ(), envAsNslab+"=1")
	return cmd
}

// testLab has a step that passes and one that fails, to test nslab lab.
var testLab = &lab.Lab{
	Name: "clitest", Title: "a lab for the tests of pkg/cli",
	Steps: []*lab.Step{
		{ID: "01", Slug: "passes", Title: "A step that passes", Points: 5,
			Run: func(context.Context, *lab.Narrator) error { return nil }},
		{ID: "02", Slug: "fails", Title: "A step that fails", Points: 7,
			Run: func(context.Context, *lab.Narrator) error { return errors.New("the kernel said no") }},
	},
}

// result is what one call of Main produced.
type result struct {
	code           int
	stdout, stderr string
}

func call(t *testing.T, stdin string, args ...string) result {
	t.Helper()
	var out, errb bytes.Buffer
	code := Main(args, strings.NewReader(stdin), &out, &errb)
	return result{code: code, stdout: out.String(), stderr: errb.String()}
}

// callJSON calls nslab with args, which must succeed, and decodes what it
// printed into v.
func callJSON(t *testing.T, v any, args ...string) result {
	t.Helper()
	r := call(t, "", args...)
	if r.code != 0 {
		t.Fatalf("nslab %s = %d, stderr %q", strings.Join(args, " "), r.code, r.stderr)
	}
	if err := json.Unmarshal([]byte(r.stdout), v); err != nil {
		t.Fatalf("nslab %s: decode %q: %v", strings.Join(args, " "), r.stdout, err)
	}
	return r
}

// needNamespaces skips t when namespaces of kinds cannot be made here.
func needNamespaces(t *testing.T, kinds ...ns.Kind) {
	t.Helper()
	if err := spawn.Check(kinds...); err != nil {
		t.Skipf("skip: %v", err)
	}
}

// checkOneLineError fails t unless r is a failure with exactly one clean line on stderr.
func checkOneLineError(t *testing.T, args []string, r result, wantCode int) {
	t.Helper()
	lines := strings.Split(strings.TrimSuffix(r.stderr, "\n"), "\n")
	switch {
	case r.code != wantCode:
		t.Errorf("nslab %q exited %d, want %d (stderr %q)", args, r.code, wantCode, r.stderr)
	case len(lines) != 1 || !strings.HasSuffix(r.stderr, "\n"):
		t.Errorf("nslab %q wrote %d lines on stderr, want exactly one: %q", args, len(lines), r.stderr)
	case !strings.HasPrefix(lines[0], "nslab: "):
		t.Errorf("nslab %q stderr = %q, want it to start with \"nslab: \"", args, r.stderr)
	case strings.Contains(r.stderr, "goroutine") || strings.Contains(r.stderr, "panic"):
		t.Errorf("nslab %q printed a stack trace: %q", args, r.stderr)
	}
}

func TestBadInput(t *testing.T) {
	dir := t.TempDir()
	notExec := filepath.Join(dir, "script")
	if err := os.WriteFile(notExec, []byte("#!/bin/sh\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		args []string
		code int
		want string // in the message
	}{
		{"no command", nil, 2, "no command"},
		{"unknown command", []string{"bogus"}, 2, `unknown command "bogus"`},
		{"unknown top-level flag", []string{"--bogus"}, 2, "unknown flag"},
		{"unknown ns flag", []string{"ns", "--bogus"}, 2, "-bogus"},
		{"unknown kind", []string{"ns", "--kind", "uts,bogus"}, 2, `unknown namespace kind "bogus"`},
		{"PID not a number", []string{"ns", "abc"}, 2, `PID "abc"`},
		{"PID zero", []string{"ns", "0"}, 2, "PID 0"},
		{"PID negative", []string{"ns", "-5"}, 2, "PID -5"},
		{"PID that does not exist", []string{"ns", strconv.Itoa(absentPID(t))}, 1, "does not exist"},
		{"PIDs with --all", []string{"ns", "--all", "1"}, 2, "--all"},
		{"unknown run flag", []string{"run", "--bogus", "true"}, 2, "-bogus"},
		{"run flag without value", []string{"run", "--hostname"}, 2, "-hostname"},
		{"command not found", []string{"run", "--", "nslab-no-such-command"}, 127, "not found"},
		{"command not executable", []string{"run", "--", notExec}, 126, notExec},
		{"unknown lab", []string{"lab", "bogus"}, 2, `no lab "bogus"`},
		{"unknown step", []string{"lab", "clitest", "--step", "9"}, 2, "no step"},
		{"step without lab", []string{"lab", "--step", "1"}, 2, "needs a lab NAME"},
		{"two labs", []string{"lab", "clitest", "uts"}, 2, "one lab at a time"},
		{"unknown lab flag", []string{"lab", "--bogus"}, 2, "-bogus"},
		{"help of unknown command", []string{"help", "bogus"}, 2, "bogus"},
		{"version with argument", []string{"version", "x"}, 2, `"x"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := call(t, "", tt.args...)
			checkOneLineError(t, tt.args, r, tt.code)
			if !strings.Contains(r.stderr, tt.want) {
				t.Errorf("nslab %q stderr = %q, want it to mention %q", tt.args, r.stderr, tt.want)
			}
		})
	}
}

// absentPID returns a PID above pid_max: no process can have it.
func absentPID(t *testing.T) int {
	b, err := os.ReadFile("/proc/sys/kernel/pid_max")
	if err != nil {
		t.Fatalf("read pid_max: %v", err)
	}
	max, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		t.Fatalf("parse pid_max %q: %v", b, err)
	}
	return max + 1
}

func TestNoPrivilege(t *testing.T) {
	if os.Geteuid() == 0 {
		t.Skip("skip: root may create namespaces; run this test as an unprivileged user")
	}
	args := []string{"run", "--net", "--user=false", "--", "true"}
	r := call(t, "", args...)
	checkOneLineError(t, args, r, exitNotStarted)
	if !strings.Contains(r.stderr, "--user=false") {
		t.Errorf("stderr = %q, want it to say what to do about --user=false", r.stderr)
	}
}

func TestHelp(t *testing.T) {
	for _, args := range [][]string{
		{"--help"}, {"-h"}, {"help"}, {"help", "run"}, {"ns", "--help"}, {"ns", "-h"},
		{"run", "--help"}, {"run", "-h"}, {"lab", "--help"}, {"lab", "-h"}, {"version", "--help"},
	} {
		r := call(t, "", args...)
		if r.code != 0 || r.stderr != "" || !strings.HasPrefix(r.stdout, "usage: nslab") {
			t.Errorf("nslab %q = %d, stdout %.40q, stderr %q; want 0 and the usage on stdout", args, r.code, r.stdout, r.stderr)
		}
	}
}

func TestVersion(t *testing.T) {
	r := call(t, "", "version")
	if r.code != 0 || !strings.HasPrefix(r.stdout, "nslab ") {
		t.Errorf("nslab version = %d, %q, want 0 and \"nslab ...\"", r.code, r.stdout)
	}
}
