// Command nslab-grade grades nslab learners from outside their
// repositories: only the solution regions of a learner's labs are graded,
// transplanted into a pristine copy of the course, and every other file that
// differs is listed as tampered. See docs/instructors.md.
//
//	nslab-grade [-pristine DIR|REF|module] [-labs uts,ipc] [-results FILE] [REPO]
//	nslab-grade regrade -pristine DIR|REF|module [-j N] [-timeout 15m] [-out grades] REPO...
//	nslab-grade mistakes [LAB...]
//
// In the Classroom workflow it runs as
// go run github.com/nslab/nslab/cmd/nslab-grade@VERSION -pristine module,
// so that neither the grader nor the course it grades in comes from the
// learner's repository.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/debug"
	"strings"
	"syscall"
	"time"

	_ "github.com/nslab/nslab/labs/all" // registers every lab with pkg/lab
	"github.com/nslab/nslab/pkg/grade"
	"github.com/nslab/nslab/pkg/lab"
	"github.com/nslab/nslab/pkg/spawn"
)

func main() {
	spawn.Init()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	var err error
	switch {
	case len(args) > 0 && args[0] == "regrade":
		err = regrade(ctx, args[1:], stdout)
	case len(args) > 0 && args[0] == "mistakes":
		err = mistakes(ctx, args[1:], stdout)
	default:
		err = gradeOne(ctx, args, stdout)
	}
	if errors.Is(err, errFailed) {
		return 1
	}
	if err != nil {
		fmt.Fprintf(stderr, "nslab-grade: %v\n", err)
		return 2
	}
	return 0
}

var errFailed = errors.New("not every step passes")

func gradeOne(ctx context.Context, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("nslab-grade", flag.ContinueOnError)
	pristine := fs.String("pristine", "", "what to grade the solution regions in: a directory, a commit of REPO, or \"module\" (this grader's own version from the Go module cache); empty grades REPO as it is")
	labs := fs.String("labs", "", "the labs to grade, comma-separated; empty is every lab")
	results := fs.String("results", "", "where to write results.json; default REPO/results.json")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 1 {
		return fmt.Errorf("grade one repository at a time (got %d); for many, use nslab-grade regrade", fs.NArg())
	}
	repo := "."
	if fs.NArg() == 1 {
		repo = fs.Arg(0)
	}
	c, err := config(*labs)
	if err != nil {
		return err
	}
	r, err := gradeRepo(ctx, c, repo, *pristine)
	if err != nil {
		return err
	}
	if *results == "" {
		*results = repo + "/results.json"
	}
	if err := grade.Publish(stdout, r, grade.EnvFromOS(*results)); err != nil {
		return err
	}
	if r.Count(grade.Pass) < len(r.Steps) {
		return errFailed
	}
	return nil
}

func gradeRepo(ctx context.Context, c grade.Config, repo, spec string) (*grade.Report, error) {
	if spec == "" {
		c.Dir = repo
		return grade.Run(ctx, c)
	}
	dir, label, err := pristineDir(spec)
	if err != nil {
		return nil, err
	}
	t, err := grade.Pristine(dir, repo)
	if err != nil {
		return nil, err
	}
	if label == "" {
		label = spec
	}
	return grade.Transplanted(ctx, c, repo, t, label)
}

// pristineDir resolves "module" to this grader's own version in the module
// cache; any other spec is returned as it is.
func pristineDir(spec string) (dir, label string, err error) {
	if spec != "module" {
		return spec, "", nil
	}
	v := version()
	if v == "" || v == "(devel)" {
		return "", "", fmt.Errorf("-pristine module: this nslab-grade was built from a checkout, not a module version (go run %s/cmd/nslab-grade@VERSION); pass -pristine DIR", grade.ModulePath)
	}
	dir, err = grade.ModuleDir(v)
	return dir, grade.ModulePath + "@" + v, err
}

func version() string {
	if bi, ok := debug.ReadBuildInfo(); ok {
		return bi.Main.Version
	}
	return ""
}

func config(labs string) (grade.Config, error) {
	c := grade.Config{Labs: lab.All(), Exec: grade.SudoExec()}
	if labs == "" {
		return c, nil
	}
	c.Labs = nil
	for _, name := range strings.Split(labs, ",") {
		l, err := lab.Get(strings.TrimSpace(name))
		if err != nil {
			return c, err
		}
		c.Labs = append(c.Labs, l)
	}
	return c, nil
}

func regrade(ctx context.Context, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("nslab-grade regrade", flag.ContinueOnError)
	pristine := fs.String("pristine", "", "a directory, a commit of every repository, or \"module\" (required)")
	labs := fs.String("labs", "", "the labs to grade, comma-separated; empty is every lab")
	jobs := fs.Int("j", 0, "repositories graded at once; 0 is the number of CPUs")
	timeout := fs.Duration("timeout", 15*time.Minute, "the most one repository may take")
	out := fs.String("out", "grades", "the tables are written to OUT.csv and OUT.json")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *pristine == "" || fs.NArg() == 0 {
		return fmt.Errorf("usage: nslab-grade regrade -pristine DIR|REF|module [-j N] [-timeout 15m] [-out grades] REPO...")
	}
	c, err := config(*labs)
	if err != nil {
		return err
	}
	dir, _, err := pristineDir(*pristine)
	if err != nil {
		return err
	}
	rg := &grade.Regrading{Config: c, Pristine: dir, Jobs: *jobs, RepoTimeout: *timeout, Progress: stdout}
	start := time.Now()
	gs := grade.Regrade(ctx, rg, fs.Args())
	if err := grade.WriteTables(*out, grade.Rows(gs, c.Labs)); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%d repositories graded in %.1fs: %s.csv, %s.json\n", len(gs), time.Since(start).Seconds(), *out, *out)
	return nil
}

func mistakes(ctx context.Context, args []string, stdout io.Writer) error {
	c, err := config(strings.Join(args, ","))
	if err != nil {
		return err
	}
	escaped, err := grade.RunMistakes(ctx, c, ".", stdout)
	if err != nil {
		return err
	}
	if escaped > 0 {
		return errFailed
	}
	return nil
}
