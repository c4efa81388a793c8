//go:build mage

// Course entry points, listed by "go tool mage -l". lab:* runs labs narrated as
// the caller; test:* runs their graded tests, through "sudo -n" when not root.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/magefile/mage/mg"
	"github.com/magefile/mage/sh"

	_ "github.com/nslab/nslab/labs/all" // registers every lab with pkg/lab
	"github.com/nslab/nslab/pkg/grade"
	"github.com/nslab/nslab/pkg/host"
	"github.com/nslab/nslab/pkg/lab"
	"github.com/nslab/nslab/pkg/spawn"
	"github.com/nslab/nslab/pkg/starter"
)

// The labs start their children by re-executing this binary (/proc/self/exe):
// in such a child, Init runs the spawn shim and never returns.
func init() { spawn.Init() }

type Lab mg.Namespace

// Uts runs the UTS lab narrated, step by step.
func (Lab) Uts(ctx context.Context) error { return runLabs(ctx, "uts") }

// Ipc runs the IPC lab narrated, step by step.
func (Lab) Ipc(ctx context.Context) error { return runLabs(ctx, "ipc") }

// Mount runs the mount lab narrated, step by step.
func (Lab) Mount(ctx context.Context) error { return runLabs(ctx, "mount") }

// Pid runs the PID lab narrated, step by step.
func (Lab) Pid(ctx context.Context) error { return runLabs(ctx, "pid") }

// Network runs the network lab narrated, step by step.
func (Lab) Network(ctx context.Context) error { return runLabs(ctx, "network") }

// User runs the user lab narrated, step by step.
func (Lab) User(ctx context.Context) error { return runLabs(ctx, "user") }

// Cgroup runs the cgroup lab narrated, step by step.
func (Lab) Cgroup(ctx context.Context) error { return runLabs(ctx, "cgroup") }

// Container runs the capstone lab narrated, step by step.
func (Lab) Container(ctx context.Context) error { return runLabs(ctx, "container") }

// Time runs the time lab narrated, step by step.
func (Lab) Time(ctx context.Context) error { return runLabs(ctx, "time") }

// All runs every lab of the course that exists, in course order.
func (Lab) All(ctx context.Context) error { return runLabs(ctx, labNames()...) }

type Test mg.Namespace

// Uts runs the UTS lab's graded tests and scenarios.
func (Test) Uts() error { return testLabs("uts") }

// Ipc runs the IPC lab's graded tests and scenarios.
func (Test) Ipc() error { return testLabs("ipc") }

// Mount runs the mount lab's graded tests and scenarios.
func (Test) Mount() error { return testLabs("mount") }

// Pid runs the PID lab's graded tests and scenarios.
func (Test) Pid() error { return testLabs("pid") }

// Network runs the network lab's graded tests and scenarios.
func (Test) Network() error { return testLabs("network") }

// User runs the user lab's graded tests and scenarios.
func (Test) User() error { return testLabs("user") }

// Cgroup runs the cgroup lab's graded tests and scenarios.
func (Test) Cgroup() error { return testLabs("cgroup") }

// Container runs the capstone lab's graded tests and scenarios.
func (Test) Container() error { return testLabs("container") }

// Time runs the time lab's graded tests and scenarios.
func (Test) Time() error { return testLabs("time") }

// All runs the graded tests and scenarios of every lab.
func (Test) All() error { return testLabs(labNames()...) }

// Check vets, checks formatting and runs every test of the module.
func Check() error {
	if err := sh.RunV("go", "vet", "./..."); err != nil {
		return err
	}
	out, err := sh.Output("gofmt", "-l", ".")
	if err != nil {
		return err
	}
	if out != "" {
		return fmt.Errorf("files not formatted (run gofmt -w):\n%s", out)
	}
	return sh.RunV("go", "test", "./...")
}

// Starter writes the starter edition to dir: the repository's tracked files
// with every solution region of the labs replaced by a stub that fails with
// its step (see docs/instructors.md), as a git repository with one commit
// (when git is installed), so that git diff and git checkout work for the
// learner from the start.
//
//	go tool mage starter /tmp/nslab-starter
func Starter(dir string) error {
	regions, err := starter.Write(".", dir)
	if err != nil {
		return err
	}
	if err := starter.Check(regions, lab.All()); err != nil {
		return err
	}
	fmt.Printf("starter edition in %s: %d solution regions stubbed in %d labs\n", dir, len(regions), len(lab.All()))
	switch err := starter.Commit(dir); {
	case errors.Is(err, starter.ErrNoGit):
		fmt.Println("git is not installed: the starter edition is not a git repository (git init, add and commit there later)")
	case err != nil:
		return err
	default:
		fmt.Println("a git repository with one commit: the starter edition as it was given")
	}
	return nil
}

// Grade runs every lab's graded tests (as root through sudo -n when it can)
// and scores them: where to work next, a table, results.json beside it, and
// in GitHub Actions the job summary, annotations and the Classroom result.
// It fails unless every step passes. `grade uts` (or -lab=uts) grades one
// lab. With -pristine=DIR|REF only the solution regions of this tree are
// graded, in that pristine copy of the course (a directory, or a commit of
// this repository), and the files changed outside them are listed as
// tampered.
//
//	go tool mage grade
//	go tool mage grade uts
func Grade(ctx context.Context,
	pristine *string, // grade only the solution regions, in this pristine copy (a directory or a commit)
	lab *string, // one lab only (uts); every lab by default
) error {
	labs, err := labsNamed(lab)
	if err != nil {
		return err
	}
	c := grade.Config{Labs: labs, Exec: sudoExec()}
	var r *grade.Report
	if pristine == nil || *pristine == "" {
		r, err = grade.Run(ctx, c)
	} else {
		r, err = transplanted(ctx, c, ".", *pristine)
	}
	if err != nil {
		return err
	}
	if err := grade.Publish(os.Stdout, r, grade.EnvFromOS("results.json")); err != nil {
		return err
	}
	if n := len(r.Steps) - r.Count(grade.Pass); n > 0 {
		return fmt.Errorf("%d of %d steps do not pass yet (details in results.json)", n, len(r.Steps))
	}
	return nil
}

// Honesty proves the grading honest: the starter edition, generated into a
// temporary directory, must score 0 with every step failing (not skipped,
// not erroring), and the reference must score full marks; each lab's page
// must show the diagram its reference run draws (see Diagrams).
func Honesty(ctx context.Context) error {
	dir, err := os.MkdirTemp("", "nslab-starter-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	regions, err := starter.Write(".", dir)
	if err != nil {
		return err
	}
	if err := starter.Check(regions, lab.All()); err != nil {
		return err
	}
	st, err := grade.Run(ctx, grade.Config{Dir: dir, Labs: lab.All(), Exec: sudoExec()})
	if err != nil {
		return err
	}
	return errors.Join(honestStarter(st), gradeReference(ctx, false))
}

// Diagrams draws the diagram of the namespaces each lab's steps build from
// a graded run of the reference (as root through sudo -n when it can), and
// puts it at the top of the lab's page, docs/labs/LAB.md. Honesty fails
// when a page's diagram is not the drawing.
func Diagrams(ctx context.Context) error { return gradeReference(ctx, true) }

// gradeReference grades the reference, which must get full marks, with
// each lab drawing its diagram, and compares the drawings with the labs'
// pages (write: puts them into the pages).
func gradeReference(ctx context.Context, write bool) error {
	drawn, err := os.MkdirTemp("", "nslab-diagrams-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(drawn)
	ref, err := grade.Run(ctx, grade.Config{Labs: lab.All(), Exec: sudoExec(), Env: []string{lab.EnvDiagrams + "=" + drawn}})
	if err != nil {
		return err
	}
	if err := honestReference(ref); err != nil {
		return err
	}
	return grade.Diagrams(drawn, ".", lab.All(), write)
}

func transplanted(ctx context.Context, c grade.Config, repo, spec string) (*grade.Report, error) {
	t, err := grade.Pristine(spec, repo)
	if err != nil {
		return nil, err
	}
	return grade.Transplanted(ctx, c, repo, t, spec)
}

// Regrade grades a whole class again, authoritatively: every repository
// directory in repos (as gh classroom clone makes them) by transplant into
// the pristine copy (-pristine=DIR|REF, this checkout by default), in
// parallel, and writes grades.csv and grades.json.
func Regrade(ctx context.Context, repos string, pristine *string) error {
	dirs, err := filepath.Glob(filepath.Join(repos, "*", "go.mod"))
	if err != nil || len(dirs) == 0 {
		return fmt.Errorf("no repositories (DIR/go.mod) in %s", repos)
	}
	for i := range dirs {
		dirs[i] = filepath.Dir(dirs[i])
	}
	spec := "."
	if pristine != nil && *pristine != "" {
		spec = *pristine
	}
	rg := &grade.Regrading{Config: grade.Config{Labs: lab.All(), Exec: sudoExec()}, Pristine: spec, Progress: os.Stdout}
	gs := grade.Regrade(ctx, rg, dirs)
	if err := grade.WriteTables("grades", grade.Rows(gs, lab.All())); err != nil {
		return err
	}
	fmt.Printf("%d repositories graded: grades.csv, grades.json\n", len(gs))
	return nil
}

// Forgeries grades the catalogue of forgeries and the class of
// pkg/grade/testdata (forged output, workflow commands, os.Exit, edited
// tests and points, init functions, daemons, forged results, not compiling
// and hanging regions) by transplant: each must get what the honest
// solution behind it gets, with its tampered files listed.
func Forgeries() error {
	return sh.RunWithV(map[string]string{"NSLAB_CATALOGUE": "1"}, "go", "test", "-count=1", "-timeout=30m", "-run", "^(TestCatalogue|TestCasesParse)$", "-v", "./pkg/grade")
}

// Mistakes checks each lab's catalogue of mistakes
// (labs/LAB/testdata/mistakes/*.txtar; -lab=NAME for one lab): the lab's
// graded test must fail the mistake's step with its message, pass the
// others, and leave the machine unchanged.
func Mistakes(ctx context.Context, lab *string) error {
	labs, err := labsNamed(lab)
	if err != nil {
		return err
	}
	escaped, err := grade.RunMistakes(ctx, grade.Config{Labs: labs, Exec: sudoExec()}, ".", os.Stdout)
	if err != nil {
		return err
	}
	if escaped > 0 {
		return fmt.Errorf("%d mistakes escaped their lab's test", escaped)
	}
	return nil
}

// labsNamed is the lab named, or every lab when name is unset.
func labsNamed(name *string) ([]*lab.Lab, error) {
	if name == nil || *name == "" {
		return lab.All(), nil
	}
	l, err := lab.Get(*name)
	if err != nil {
		return nil, err
	}
	return []*lab.Lab{l}, nil
}

func honestStarter(r *grade.Report) error {
	total, maxScore := r.Points()
	fmt.Printf("starter edition: %d/%d points, %d of %d steps fail\n", total, maxScore, r.Count(grade.Fail), len(r.Steps))
	var bad []string
	for _, s := range r.Steps {
		if s.Outcome != grade.Fail {
			bad = append(bad, fmt.Sprintf("%s: %s, want fail: %s", s.Name(), s.Outcome, s.Message))
		}
	}
	if total != 0 || len(bad) > 0 {
		return fmt.Errorf("the starter edition is not graded 0 with every step failing:\n  %s", strings.Join(bad, "\n  "))
	}
	return nil
}

func honestReference(r *grade.Report) error {
	total, maxScore := r.Points()
	fmt.Printf("reference: %d/%d points, %d of %d steps pass\n", total, maxScore, r.Count(grade.Pass), len(r.Steps))
	if total != maxScore || r.Count(grade.Pass) != len(r.Steps) {
		r.WriteTable(os.Stdout)
		return fmt.Errorf("the reference solutions do not get full marks")
	}
	return nil
}

// Hint shows the hints of a lab: the first hint of every step, or with
// -step=N the hints of step N up to -level (1, the gentlest, by default;
// the last nearly gives the answer away). The flags may come before or
// after the lab.
//
//	go tool mage hint uts
//	go tool mage hint uts -step=2 -level=2
func Hint(name string,
	step *string, // one step (2 or 02)
	level *int, // how many of its hints, from the gentlest
) error {
	if name == "" {
		return fmt.Errorf("which lab? go tool mage hint LAB [-step=N] [-level=N] (labs: %s)", strings.Join(labNames(), " "))
	}
	l, err := lab.Get(name)
	if err != nil {
		return err
	}
	if step == nil {
		for _, s := range l.Steps {
			fmt.Printf("step %s: %s\n  hint: %s\n", s.ID, s.Title, firstHint(s))
		}
		fmt.Printf("\nmore for one step: go tool mage hint %s -step=N -level=2\n", name)
		return nil
	}
	s, err := l.Step(*step)
	if err != nil {
		return err
	}
	if len(s.Hints) == 0 {
		fmt.Printf("step %s has no hints: read %s\n", s.ID, l.Anchor(s))
		return nil
	}
	n := 1
	if level != nil {
		n = min(max(*level, 1), len(s.Hints))
	}
	fmt.Printf("step %s: %s (%s)\n", s.ID, s.Title, l.Anchor(s))
	for i := 0; i < n; i++ {
		fmt.Printf("  hint %d of %d: %s\n", i+1, len(s.Hints), s.Hints[i])
	}
	if n < len(s.Hints) {
		fmt.Printf("\nthe next hint: go tool mage hint %s -step=%s -level=%d\n", name, s.ID, n+1)
	}
	return nil
}

func firstHint(s *lab.Step) string {
	if len(s.Hints) == 0 {
		return "(none: read " + s.AnchorID() + " of the lab's page)"
	}
	return s.Hints[0]
}

// sudoExec returns "sudo -n" for go test -exec when the caller is not root
// and may use sudo without a password, as on GitHub's runners.
func sudoExec() string { return grade.SudoExec() }

func labNames() []string {
	var names []string
	for _, l := range lab.All() {
		names = append(names, l.Name)
	}
	return names
}

// runLabs runs the named labs narrated and fails if a step failed or the host changed.
func runLabs(ctx context.Context, names ...string) error {
	before, err := host.Take()
	if err != nil {
		return err
	}
	failed := 0
	for _, name := range names {
		n, err := runLab(ctx, name)
		if err != nil {
			return err
		}
		failed += n
	}
	after, err := host.Take()
	if err != nil {
		return err
	}
	if diff := host.Diff(before, after); len(diff) > 0 {
		return fmt.Errorf("the machine changed while the labs ran; a bug of the course, not of your code (see docs/safety.md#machine-changed):\n  %s", strings.Join(diff, "\n  "))
	}
	if failed > 0 {
		return fmt.Errorf("%d step(s) failed", failed)
	}
	return nil
}

func runLab(ctx context.Context, name string) (failed int, err error) {
	l, err := lab.Get(name)
	if err != nil {
		return 0, err
	}
	results, err := lab.Run(ctx, l, os.Stdout, "")
	fmt.Println()
	return lab.Failed(results), err
}

// testLabs runs the graded tests and the scenarios of the named labs.
func testLabs(names ...string) error {
	var errs []error
	for _, name := range names {
		errs = append(errs, goTest("-count=1", "./labs/"+name+"/..."))
		if _, err := os.Stat("testscripts"); err != nil {
			fmt.Println("no testscripts/ here: scenarios not run")
			continue
		}
		errs = append(errs, goTest("-count=1", "./testscripts", "-run", "TestScripts/"+name+"_"))
	}
	return errors.Join(errs...)
}

// goTest runs go test, through sudo -n when the caller is not root and may use it.
func goTest(args ...string) error {
	if os.Geteuid() != 0 && exec.Command("sudo", "-n", "true").Run() == nil {
		args = append([]string{"-exec", "sudo -n"}, args...)
	}
	return sh.RunV("go", append([]string{"test"}, args...)...)
}
