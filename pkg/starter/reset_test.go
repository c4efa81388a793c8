package starter

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"go/format"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// solved is a learner's file: both steps written, step 02 with an import of
// its own (strconv) and one it shares with code outside (fmt).
const solved = `package demo

import (
	"fmt"
	"strconv"

	"github.com/nslab/nslab/pkg/lab"
)

var _ = lab.TODO

// Hostname is step 01: read the host name.
func Hostname() (string, error) {
	// BEGIN SOLUTION
	return   "my own   formatting", nil
	// END SOLUTION
}

// Count is step 2: count to n.
func Count(n int) (string, error) {
	// BEGIN SOLUTION
	return fmt.Sprint(strconv.Itoa(n)), nil
	// END SOLUTION
}

func Greet() string { return fmt.Sprint("hello") }
`

func TestReset(t *testing.T) {
	tests := []struct {
		name, src, step string
		changed         bool
		want            string // the file after the reset; "" for src
	}{
		{name: "one step, its own import removed", src: solved, step: "02", changed: true,
			want: strings.Replace(strings.Replace(solved, "\t\"strconv\"\n", "", 1),
				"return fmt.Sprint(strconv.Itoa(n)), nil", `panic(lab.TODO("demo", "02"))`, 1)},
		{name: "the other step, its formatting kept elsewhere", src: solved, step: "01", changed: true,
			want: strings.Replace(solved, `return   "my own   formatting", nil`, `panic(lab.TODO("demo", "01"))`, 1)},
		{name: "a step with no region here", src: solved, step: "03"},
		{name: "pkg/lab imported in order, in the module's group", step: "02", changed: true,
			src:  "package demo\n\nimport (\n\t\"os\"\n\t\"strconv\"\n\n\t\"github.com/nslab/nslab/pkg/ns\"\n\t\"github.com/nslab/nslab/pkg/spawn\"\n\t\"golang.org/x/sys/unix\"\n)\n\nvar _ = os.Args\nvar _ = ns.UTS\nvar _ = spawn.Start\nvar _ = unix.Getpid\n\n// Count is step 02.\nfunc Count(n int) string {\n\t// BEGIN SOLUTION\n\treturn strconv.Itoa(n)\n\t// END SOLUTION\n}\n",
			want: "package demo\n\nimport (\n\t\"os\"\n\n\t\"github.com/nslab/nslab/pkg/lab\"\n\t\"github.com/nslab/nslab/pkg/ns\"\n\t\"github.com/nslab/nslab/pkg/spawn\"\n\t\"golang.org/x/sys/unix\"\n)\n\nvar _ = os.Args\nvar _ = ns.UTS\nvar _ = spawn.Start\nvar _ = unix.Getpid\n\n// Count is step 02.\nfunc Count(n int) string {\n\t// BEGIN SOLUTION\n\tpanic(lab.TODO(\"demo\", \"02\"))\n\t// END SOLUTION\n}\n"},
		{name: "pkg/lab imported when missing", step: "02", changed: true,
			src:  "package demo\n\nimport \"strconv\"\n\n// Count is step 02.\nfunc Count(n int) string {\n\t// BEGIN SOLUTION\n\treturn strconv.Itoa(n)\n\t// END SOLUTION\n}\n",
			want: "package demo\n\nimport \"github.com/nslab/nslab/pkg/lab\"\n\n// Count is step 02.\nfunc Count(n int) string {\n\t// BEGIN SOLUTION\n\tpanic(lab.TODO(\"demo\", \"02\"))\n\t// END SOLUTION\n}\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, regions, changed, err := Reset("demo.go", []byte(tt.src), "demo", tt.step)
			if err != nil {
				t.Fatal(err)
			}
			want := tt.want
			if want == "" {
				want = tt.src
			}
			if string(got) != want || changed != tt.changed {
				t.Errorf("Reset(step %s) changed=%v:\n%s\nwant changed=%v:\n%s", tt.step, changed, got, tt.changed, want)
			}
			if tt.changed && (len(regions) != 1 || regions[0].Step != tt.step) {
				t.Errorf("Reset() regions = %+v; want the one of step %s", regions, tt.step)
			}
			again, _, changed, err := Reset("demo.go", got, "demo", tt.step)
			if err != nil || changed || string(again) != string(got) {
				t.Errorf("resetting again changed the file (%v, %v)", changed, err)
			}
		})
	}
}

// TestStarterFilled builds the starter edition of every lab with all its
// stubs replaced by code of the learner's (here a panic of their own): the
// imports the starter leaves must all still be used, so no "imported and
// not used" for an import the learner never wrote.
func TestStarterFilled(t *testing.T) {
	n, out, err := buildLabsWith(t, func(file, lab string, src []byte) ([]byte, bool) {
		got, regions, err := Strip(file, src, lab)
		if err != nil || len(regions) == 0 {
			return nil, false
		}
		for _, r := range regions {
			got = []byte(strings.Replace(string(got), Stub(r.Lab, r.Step), `panic("mine")`, 1))
		}
		return got, true
	})
	if n == 0 {
		t.Fatal("no lab file has a solution region")
	}
	if err != nil {
		t.Errorf("the starter with every stub filled in does not build (%d files): %v\n%s", n, err, out)
	}
}

// buildLabsWith builds ./labs/... with each lab source file that edit
// changes (it returns false to leave a file alone) put in place through go
// build's -overlay, and returns how many files it changed and go build's
// output and error. It skips t where the labs or go build cannot be built.
func buildLabsWith(t *testing.T, edit func(file, lab string, src []byte) ([]byte, bool)) (int, []byte, error) {
	t.Helper()
	if runtime.GOOS != "linux" {
		t.Skip("the labs build on Linux only")
	}
	needGoBuild(t)
	_, self, _, _ := runtime.Caller(0)
	root, _ := filepath.Abs(filepath.Join(filepath.Dir(self), "..", ".."))
	files, _ := filepath.Glob(filepath.Join(root, "labs", "*", "*.go"))
	dir := t.TempDir()
	overlay := map[string]string{}
	for i, file := range files {
		if strings.HasSuffix(file, "_test.go") {
			continue
		}
		src, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		changed, ok := edit(file, filepath.Base(filepath.Dir(file)), src)
		if !ok {
			continue
		}
		name := filepath.Join(dir, fmt.Sprintf("%d-%s", i, filepath.Base(file)))
		if err := os.WriteFile(name, changed, 0o644); err != nil {
			t.Fatal(err)
		}
		overlay[file] = name
	}
	if len(overlay) == 0 {
		return 0, nil, nil
	}
	b, _ := json.Marshal(map[string]any{"Replace": overlay})
	ov := filepath.Join(dir, "overlay.json")
	if err := os.WriteFile(ov, b, 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("go", "build", "-overlay", ov, "./labs/...")
	cmd.Dir = root
	out, err := cmd.CombinedOutput()
	return len(overlay), out, err
}

func TestCommit(t *testing.T) {
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("no git:", err)
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "a.go"), []byte("package a\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := Commit(dir); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("git", "-C", dir, "log", "--format=%s", "--name-only").Output()
	if err != nil || !strings.Contains(string(out), "nslab starter edition") || !strings.Contains(string(out), "a.go") {
		t.Errorf("git log = %q, %v; want one commit of a.go", out, err)
	}
	if st, _ := exec.Command("git", "-C", dir, "status", "--porcelain").Output(); len(st) > 0 {
		t.Errorf("git status after the commit: %s; want clean", st)
	}
}

// TestDevcontainer: the dev container the starter edition ships is
// privileged (namespaces, mounts, cgroups) and has the Go of go.mod.
func TestDevcontainer(t *testing.T) {
	_, self, _, _ := runtime.Caller(0)
	root := filepath.Join(filepath.Dir(self), "..", "..")
	raw, err := os.ReadFile(filepath.Join(root, ".devcontainer", "devcontainer.json"))
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	for _, l := range strings.Split(string(raw), "\n") {
		if !strings.HasPrefix(strings.TrimSpace(l), "//") {
			lines = append(lines, l)
		}
	}
	var dc struct {
		Image      string
		Privileged bool
	}
	if err := json.Unmarshal([]byte(strings.Join(lines, "\n")), &dc); err != nil {
		t.Fatalf("devcontainer.json: %v", err)
	}
	mod, err := os.ReadFile(filepath.Join(root, "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	var goVersion string
	for _, l := range strings.Split(string(mod), "\n") {
		if v, ok := strings.CutPrefix(l, "go "); ok {
			goVersion = strings.Join(strings.SplitN(v, ".", 3)[:2], ".")
		}
	}
	if !dc.Privileged || dc.Image != "golang:"+goVersion {
		t.Errorf("devcontainer.json: image %q, privileged %v; want golang:%s (go.mod's Go) and privileged", dc.Image, dc.Privileged, goVersion)
	}
	for _, d := range Dropped() {
		if strings.HasPrefix(".devcontainer/", d) {
			t.Errorf("the starter edition drops %s, and with it the dev container", d)
		}
	}
}

// TestResetLabs resets, one after the other, every step of every lab's
// reference file: each reset leaves the file gofmt-clean, and the labs with
// every step reset this way still build (no import left unused, pkg/lab
// imported).
func TestResetLabs(t *testing.T) {
	_, out, err := buildLabsWith(t, func(file, lab string, src []byte) ([]byte, bool) {
		regions, err := Regions(file, src, lab)
		if err != nil || len(regions) == 0 {
			return nil, false
		}
		for _, r := range regions {
			reset, _, _, err := Reset(file, src, lab, r.Step)
			if err != nil {
				t.Fatalf("%s: reset step %s: %v", file, r.Step, err)
			}
			if formatted, err := format.Source(reset); err != nil || !bytes.Equal(formatted, reset) {
				t.Errorf("%s: after the reset of step %s the file is not gofmt-clean (%v)", file, r.Step, err)
			}
			src = reset
		}
		return src, true
	})
	if err != nil {
		t.Errorf("the labs with every step reset do not build: %v\n%s", err, out)
	}
}

// TestCommitNoGit: without git the edition is left as written, and the
// caller is told so (go tool mage starter says it and goes on).
func TestCommitNoGit(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("PATH", t.TempDir())
	if err := Commit(dir); !errors.Is(err, ErrNoGit) {
		t.Errorf("Commit() without git = %v; want ErrNoGit", err)
	}
	if _, err := os.Stat(filepath.Join(dir, ".git")); err == nil {
		t.Error("Commit() without git made a .git")
	}
}

// needGoBuild skips a test that runs go build where the go command or a
// writable build cache is missing (as nobody, whose home does not exist).
func needGoBuild(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("no go command:", err)
	}
	out, err := exec.Command("go", "env", "GOCACHE", "GOMODCACHE").Output()
	if err != nil {
		t.Skip("go env GOCACHE GOMODCACHE:", err)
	}
	for _, dir := range strings.Fields(string(out)) {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Skipf("go build needs its caches, and this user cannot make %s: %v", dir, err)
		}
	}
}
