package mutate

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// Outcome is what became of a mutant.
type Outcome int

const (
	Killed          Outcome = iota // its step failed
	Survived                       // its step passed: the tests miss the change
	NotCompiling                   // the package did not type-check or build with it
	KnownEquivalent                // it survived, and is listed as unable to change behaviour
	NotJudged                      // its run said nothing about it: the step was skipped, or go test did not start
)

func (o Outcome) String() string {
	return [...]string{"killed", "survived", "not compiling", "equivalent", "not judged"}[o]
}

// Result is a mutant and what became of it.
type Result struct {
	Mutant
	Outcome  Outcome
	Detail   string        // why it was killed or did not compile, or the reason it is equivalent
	Duration time.Duration // of its go test run
}

// Target is a lab's graded test, run with go test.
type Target struct {
	Root string   // the module's root directory, absolute
	Pkg  string   // the lab's package, relative to Root: ./labs/uts
	Test string   // its graded test: TestUTS
	Env  []string // added to the environment of go test (NSLAB_STEP_TIMEOUT=20s)
	Exec string   // a go test -exec program, such as "sudo -n"; "" runs the tests as the caller
}

// Args are the arguments of go test that run step's subtest alone, with
// the files of overlay (a go build -overlay file, or "") in place.
func (t Target) Args(step, overlay string) []string {
	// -ldflags=-w: no DWARF, a fifth less linking for every mutant.
	args := []string{"test", "-count=1", "-v", "-ldflags=-w", "-timeout=5m"}
	if overlay != "" {
		args = append(args, "-overlay", overlay)
	}
	if t.Exec != "" {
		args = append(args, "-exec", t.Exec)
	}
	run := "^" + t.Test + "$"
	if step != "" {
		run += "/^" + step + "_"
	}
	return append(args, "-run", run, t.Pkg)
}

// Run builds and runs the subtest of m's step with m in place of its file,
// writing the mutated file and the overlay into a temporary directory.
func (t Target) Run(ctx context.Context, m Mutant) Result {
	start := time.Now()
	res := Result{Mutant: m}
	dir, err := os.MkdirTemp("", "nslab-mutant-")
	if err != nil {
		res.Outcome, res.Detail = NotJudged, fmt.Sprintf("make a directory for mutant %s: %v", m, err)
		return res
	}
	defer os.RemoveAll(dir)
	overlay, err := writeOverlay(dir, filepath.Join(t.Root, m.File), m.Src)
	if err == nil {
		var out []byte
		out, err = t.goTest(ctx, m.Step, overlay, dir)
		res.Outcome, err = Classify(string(out), err, t.Test, m.Step)
		res.Detail = failure(string(out))
		if err == nil && res.Outcome == NotCompiling && !strings.Contains(string(out), filepath.Base(m.File)+":") {
			err = fmt.Errorf("the package does not build, for a reason outside the mutant (another file changed?): %s", res.Detail)
		}
	}
	if err != nil { // the run said nothing about the mutant: never count it as killed
		res.Outcome, res.Detail = NotJudged, err.Error()
	}
	res.Duration = time.Since(start)
	return res
}

// writeOverlay writes src and an overlay putting it in place of file.
func writeOverlay(dir, file string, src []byte) (string, error) {
	mutated := filepath.Join(dir, filepath.Base(file))
	if err := os.WriteFile(mutated, src, 0o644); err != nil {
		return "", fmt.Errorf("write the mutant of %s: %w", file, err)
	}
	b, _ := json.Marshal(map[string]map[string]string{"Replace": {file: mutated}}) // strings always marshal
	path := filepath.Join(dir, "overlay.json")
	if err := os.WriteFile(path, b, 0o644); err != nil {
		return "", fmt.Errorf("write the overlay of %s: %w", file, err)
	}
	return path, nil
}

// goTest runs go test in Root and returns its output and exit error. Its
// work directories go into tmp (GOTMPDIR), which goes with the mutant even
// when a timeout kills go test before it can remove them.
func (t Target) goTest(ctx context.Context, step, overlay, tmp string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, "go", t.Args(step, overlay)...)
	cmd.Dir, cmd.Env = t.Root, append(os.Environ(), t.Env...)
	if _, set := os.LookupEnv("CGO_ENABLED"); !set {
		cmd.Env = append(cmd.Env, "CGO_ENABLED=0") // as grade.BuildEnv: no lab needs cgo, and the build is faster without
	}
	if tmp != "" {
		cmd.Env = append(cmd.Env, "GOTMPDIR="+tmp)
	}
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	return out.Bytes(), err
}

// Classify judges a go test -v run of subtest test/step from its output
// and exit error: a build that failed is NotCompiling, a step that failed
// (or a test binary that did) is Killed, a step that passed is Survived.
// A run that says nothing about the step (skipped, not run, go not
// started) is an error, with the outcome NotJudged.
func Classify(out string, runErr error, test, step string) (Outcome, error) {
	sub := test + "/" + step + "_"
	var exit *exec.ExitError
	switch {
	case runErr != nil && !errors.As(runErr, &exit):
		return NotJudged, fmt.Errorf("run go test: %w", runErr)
	case strings.Contains(out, "[build failed]") || strings.Contains(out, "[setup failed]"):
		return NotCompiling, nil
	case strings.Contains(out, "--- SKIP: "+sub):
		return NotJudged, fmt.Errorf("step %s was skipped: %s", step, firstLine(after(out, "--- SKIP: "+sub)))
	case runErr != nil:
		return Killed, nil
	case strings.Contains(out, "--- PASS: "+sub):
		return Survived, nil
	}
	return NotJudged, fmt.Errorf("go test ran no subtest %s*: %s", sub, firstLine(out))
}

// failure is the first lines of what go test said about a failure.
func failure(out string) string {
	for _, marker := range []string{"--- FAIL: ", "# ", "panic: ", "FAIL"} {
		if i := strings.Index(out, marker); i >= 0 {
			lines := strings.SplitN(out[i:], "\n", 4)
			return strings.Join(lines[:min(len(lines), 3)], " | ")
		}
	}
	return ""
}

func after(s, marker string) string {
	_, rest, _ := strings.Cut(s, marker)
	return rest
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(strings.TrimSpace(s), "\n")
	return line
}
