package grade

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/nslab/nslab/pkg/lab"
	"github.com/nslab/nslab/pkg/starter"
)

// Config says what to grade and how.
type Config struct {
	Dir     string        // the module root; "" is the current directory
	Labs    []*lab.Lab    // the labs to grade, in order (lab.All())
	Exec    string        // a go test -exec program, such as "sudo -n"; "" runs the tests as the caller
	Timeout time.Duration // the go test -timeout of each lab's test binary; 0 is DefaultTimeout
	Env     []string      // added to the environment of go test and its test binaries (NSLAB_STEP_TIMEOUT=3s; no spaces)
	Overlay string        // a go build -overlay file: files replaced without copying the module; "" for none
	// Step, with a single lab, runs only that step's graded subtest (its
	// TestName, 02_set_names): the other steps of the report do not run.
	Step string
	// Cache lets go test reuse the result of a lab whose code and test did
	// not change since it last ran (go tool mage progress, watch); a grade
	// never does (-count=1).
	Cache bool
}

// DefaultTimeout is how long a lab's test binary may run: the labs take
// seconds, so this only stops a step that hangs.
const DefaultTimeout = 3 * time.Minute

// Args returns the go command's arguments: the labs' graded tests only,
// never cached (unless Cache), as JSON.
func (c Config) Args() []string {
	timeout := c.Timeout
	if timeout == 0 {
		timeout = DefaultTimeout
	}
	funcs := make([]string, len(c.Labs))
	for i, l := range c.Labs {
		funcs[i] = l.TestFunc()
	}
	run := "^(" + strings.Join(funcs, "|") + ")$"
	if c.Step != "" && len(c.Labs) == 1 {
		run += "/^" + regexp.QuoteMeta(c.Step) + "$"
	}
	// -ldflags=-w: no DWARF in the test binaries (a panic's file:line comes
	// from the symbol table, kept): linking them is a fifth faster.
	args := []string{"test", "-json", "-count=1", "-ldflags=-w", "-timeout", timeout.String(), "-run", run}
	if c.Cache {
		args = append(args[:2:2], args[3:]...)
	}
	if c.Exec != "" {
		args = append(args, "-exec", c.execWithEnv())
	}
	if c.Overlay != "" {
		args = append(args, "-overlay", c.Overlay)
	}
	for _, l := range c.Labs {
		args = append(args, "./labs/"+l.Name+"/...")
	}
	return args
}

// execWithEnv is the -exec program, given Env through env(1) when it is
// sudo: sudo resets the environment, so the test binaries would not see it.
func (c Config) execWithEnv() string {
	if len(c.Env) == 0 || !strings.HasPrefix(c.Exec, "sudo") {
		return c.Exec
	}
	return c.Exec + " env " + strings.Join(c.Env, " ")
}

// BuildEnv is the environment of the go commands that build test binaries
// to grade: the caller's, with CGO_ENABLED=0 unless it says otherwise. No
// lab needs cgo, and without it the go command neither asks the C compiler
// who it is nor links through it: go test of every lab takes 0.83 of its
// time (alternating pairs of runs, median ratio).
func BuildEnv() []string {
	env := os.Environ()
	if _, set := os.LookupEnv("CGO_ENABLED"); !set {
		env = append(env, "CGO_ENABLED=0")
	}
	return env
}

// Run runs the graded tests with go test -json and grades them. A test that
// fails, or does not build or run, is part of the report, not an error; the
// error is for a go command that printed nothing to grade.
func Run(ctx context.Context, c Config) (*Report, error) {
	if len(c.Labs) == 0 {
		return nil, fmt.Errorf("grade: no labs are registered")
	}
	cmd := exec.CommandContext(ctx, "go", c.Args()...)
	cmd.Dir = c.Dir
	cmd.Env = append(BuildEnv(), c.Env...)
	killGroup(cmd)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	runErr := cmd.Run()
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}
	events, err := ReadEvents(&stdout)
	if err != nil {
		return nil, fmt.Errorf("read go test -json: %w", err)
	}
	if len(events) == 0 && runErr != nil {
		return nil, fmt.Errorf("go %s in %s: %w: %s", strings.Join(c.Args(), " "), c.Dir, runErr, strings.TrimSpace(stderr.String()))
	}
	if stderr.Len() > 0 {
		events = append(events, Event{Action: "output", Output: stderr.String()})
	}
	r := Score(c.Labs, events)
	r.Locate(c.Dir)
	return r, nil
}

// Locate fills in the file and line of each step's solution region, found
// in the Go files of labs/<name> under dir. A file whose markers are broken
// is passed over: the step is then reported without a place.
func (r *Report) Locate(dir string) {
	for _, l := range r.labs() {
		files, _ := filepath.Glob(filepath.Join(dir, "labs", l.Name, "*.go"))
		where := map[string]starter.Region{}
		for _, f := range files {
			src, err := os.ReadFile(f)
			if err != nil {
				continue
			}
			regions, err := starter.Regions(f, src, l.Name)
			if err != nil {
				r.Problems = append(r.Problems, "cannot place the steps of "+filepath.ToSlash(filepath.Join("labs", l.Name, filepath.Base(f)))+": "+shortErr(err, dir))
				continue
			}
			for _, reg := range regions {
				if _, seen := where[reg.Step]; !seen {
					reg.File = filepath.ToSlash(filepath.Join("labs", l.Name, filepath.Base(f)))
					where[reg.Step] = reg
				}
			}
		}
		for _, s := range r.Steps {
			if reg, ok := where[s.Step.ID]; ok && s.Lab == l {
				s.File, s.Line, s.Func = reg.File, reg.Begin, reg.Func
			}
		}
	}
}

// shortErr is err with dir left out of the paths it names.
func shortErr(err error, dir string) string {
	if dir == "" {
		return err.Error()
	}
	abs, _ := filepath.Abs(dir)
	return strings.ReplaceAll(strings.ReplaceAll(err.Error(), abs+"/", ""), dir+"/", "")
}

// SudoExec returns "sudo -n" for go test -exec when the caller is not root
// and may use sudo without a password, as on GitHub's runners; else "".
func SudoExec() string {
	if os.Geteuid() != 0 && exec.Command("sudo", "-n", "true").Run() == nil {
		return "sudo -n"
	}
	return ""
}
