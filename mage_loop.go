//go:build mage

package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"

	"github.com/nslab/nslab/pkg/lab"
	"github.com/nslab/nslab/pkg/loop"
	"github.com/nslab/nslab/pkg/starter"
)

// The -h of every target keeps its doc comment's lines (the examples):
// mage:multiline

// topTargets are the top-level targets, in lower case: where the arguments
// of one target end on a command line of several.
var topTargets = []string{"check", "starter", "grade", "honesty", "regrade", "forgeries", "mistakes", "mutants",
	"hint", "watch", "progress", "status", "reset"}

// Aliases: status is progress.
var Aliases = map[string]any{"status": Progress}

// The forms the docs show (grade uts, hint -step=2 uts) become the ones
// mage parses (grade -lab=uts, hint uts -step=2) before mage reads them.
func init() {
	if len(os.Args) > 1 {
		os.Args = append(os.Args[:1:1], loop.Args(os.Args[1:], topTargets)...)
	}
	if runtime.GOOS != "linux" && len(os.Args) > 1 && os.Getenv("MAGEFILE_HELP") == "" && os.Getenv("MAGEFILE_LIST") == "" {
		fmt.Fprintln(os.Stderr, NeedLinux)
		os.Exit(1)
	}
}

// NeedLinux is what every target says on another system: only -l and -h
// work there.
const NeedLinux = `the labs need Linux: namespaces are Linux's, and on this system no lab is even
registered. Open the repository in its dev container (GitHub Codespaces, or VS Code
"Reopen in Container"), or in a Linux VM (Lima on macOS, WSL2 on Windows): docs/setup.md`

// Watch re-runs the step you are working on each time you save a file of
// its lab: the first step that does not pass, in course order (of LAB
// alone with `go tool mage watch LAB`). It is quiet on a pass (one line,
// then the next step's title, the file and function to edit and its docs)
// and prints the failure in full otherwise. Ctrl-C stops it.
//
//	go tool mage watch        # the first lab not finished
//	go tool mage watch uts    # that lab only (or -lab=uts)
func Watch(ctx context.Context,
	lab *string, // the lab to work on (uts); every lab in course order by default
) error {
	labs, err := labsNamed(lab)
	if err != nil {
		return err
	}
	w := &loop.Watcher{Labs: labs, Dir: ".", Tester: loop.GoTester{Dir: ".", Exec: sudoExec()}, Out: os.Stdout}
	return w.Run(ctx)
}

// Progress shows how far you are: per lab a bar, the points, a mark per
// step (✓ passes, ✗ fails, · not written yet), the next step to do with the
// file and function to edit, and the total. It runs the labs' graded tests
// (go test -json, the labs in parallel), the same ones grade runs, and
// reuses go test's cached result of a lab whose code did not change since
// it last ran, so it takes seconds (grade always runs every test). Alias:
// status.
//
//	go tool mage progress       # every lab
//	go tool mage progress uts   # one lab (or -lab=uts)
func Progress(ctx context.Context,
	lab *string, // one lab only (uts); every lab by default
) error {
	labs, err := labsNamed(lab)
	if err != nil {
		return err
	}
	r, err := loop.GoTester{Dir: ".", Exec: sudoExec()}.Test(ctx, labs, nil)
	if err != nil {
		return err
	}
	loop.WriteProgress(os.Stdout, r)
	return nil
}

// Reset puts the stub of one step back, as the starter edition has it
// (panic(lab.TODO(...)) between BEGIN SOLUTION and END SOLUTION): your code
// of that step is removed, every other step is left exactly as it is. It
// shows the code it will remove and asks first (y/N); -yes does not ask,
// for scripts. If your work is committed, git diff and git checkout -p
// bring it back.
//
//	go tool mage reset uts 02
//	go tool mage reset uts 02 -yes
func Reset(labName, step string,
	yes *bool, // do not ask
) error {
	if labName == "" || step == "" {
		return fmt.Errorf("which step? go tool mage reset LAB STEP [-yes] (labs: %s)", strings.Join(labNames(), " "))
	}
	l, err := lab.Get(labName)
	if err != nil {
		return err
	}
	s, err := l.Step(step)
	if err != nil {
		return err
	}
	changes, found, err := resetChanges(l, s)
	if err != nil {
		return err
	}
	if !found {
		return fmt.Errorf("lab %s step %s has no solution region in labs/%s", l.Name, s.ID, l.Name)
	}
	if len(changes) == 0 {
		fmt.Printf("%s step %s is already its stub: nothing to reset\n", l.Name, s.ID)
		return nil
	}
	showReset(l, s, changes)
	if yes == nil || !*yes {
		if ok, err := confirmReset(l, s); !ok || err != nil {
			return err
		}
	}
	for _, c := range changes {
		if err := c.write(); err != nil {
			return err
		}
		fmt.Printf("reset: %s\n", filepath.ToSlash(c.file))
	}
	fmt.Printf("step %s is a stub again: %s\n", s.ID, l.Anchor(s))
	return nil
}

// resetChange is what resetting a step does to one file of its lab: the
// file's new text, and the regions and lines of code it removes.
type resetChange struct {
	file    string
	out     []byte
	regions []starter.Region
	old     []string
}

// resetChanges is what resetting step s does to the files of lab l (its
// tests aside), and whether any of them has a solution region of s at all.
func resetChanges(l *lab.Lab, s *lab.Step) (changes []resetChange, found bool, err error) {
	files, _ := filepath.Glob(filepath.Join("labs", l.Name, "*.go"))
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		src, err := os.ReadFile(f)
		if err != nil {
			return nil, false, err
		}
		abs, _ := filepath.Abs(f)
		out, regions, changed, err := starter.Reset(abs, src, l.Name, s.ID)
		if err != nil {
			return nil, false, err
		}
		found = found || len(regions) > 0
		if !changed {
			continue
		}
		lines := strings.Split(string(src), "\n")
		var old []string
		for _, r := range regions {
			old = append(old, lines[r.Begin:r.End-1]...)
		}
		changes = append(changes, resetChange{file: f, out: out, regions: regions, old: old})
	}
	return changes, found, nil
}

// showReset prints the code a reset of step s removes, region by region.
func showReset(l *lab.Lab, s *lab.Step, changes []resetChange) {
	fmt.Printf("reset %s step %s (%s): this code goes, the stub %s comes back:\n", l.Name, s.ID, s.Title, starter.Stub(l.Name, s.ID))
	for _, c := range changes {
		for _, r := range c.regions {
			fmt.Printf("  %s:%d, %s\n", filepath.ToSlash(c.file), r.Begin, r.Func)
		}
		for _, line := range c.old {
			fmt.Printf("  - %s\n", line)
		}
	}
}

// confirmReset asks on standard input whether to reset step s: true on y
// or yes; false otherwise, with an error when there was no answer at all
// (standard input ended, as in a script).
func confirmReset(l *lab.Lab, s *lab.Step) (bool, error) {
	fmt.Printf("reset %s step %s? [y/N] ", l.Name, s.ID)
	answer, err := bufio.NewReader(os.Stdin).ReadString('\n')
	if a := strings.ToLower(strings.TrimSpace(answer)); a != "y" && a != "yes" {
		if err != nil {
			fmt.Println()
			return false, errors.New("not reset: no answer (in a script, pass -yes)")
		}
		fmt.Println("not reset")
		return false, nil
	}
	return true, nil
}

// write puts the file's new text in place, keeping its permissions.
func (c resetChange) write() error {
	info, err := os.Stat(c.file)
	if err != nil {
		return err
	}
	return os.WriteFile(c.file, c.out, info.Mode().Perm())
}
