package loop

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/nslab/nslab/pkg/grade"
	"github.com/nslab/nslab/pkg/lab"
)

// Tester grades labs: every step of each (in one go test, the labs in
// parallel) when step is nil; else that step only, of the one lab given.
type Tester interface {
	Test(ctx context.Context, labs []*lab.Lab, step *lab.Step) (*grade.Report, error)
}

// GoTester grades through pkg/grade: the lab's graded test under go test
// -json, in the module at Dir, with go test -exec Exec ("sudo -n" or "").
// A lab whose code did not change since its last run is not run again: go
// test's cache answers (grade.Config.Cache).
type GoTester struct{ Dir, Exec string }

// Test runs the labs' graded tests, or one step's subtest.
func (g GoTester) Test(ctx context.Context, labs []*lab.Lab, step *lab.Step) (*grade.Report, error) {
	c := grade.Config{Dir: g.Dir, Labs: labs, Exec: g.Exec, Cache: true}
	if step != nil {
		c.Step = step.TestName()
	}
	return grade.Run(ctx, c)
}

// Changes starts reporting the files changed under dirs (recursively), one
// path per change, until ctx is done; then it closes the channel.
type Changes func(ctx context.Context, dirs []string) (<-chan string, error)

// Watcher is go tool mage watch: it finds the step at hand (the first that
// does not pass, in course order), then re-runs that step's test each time
// a file of its lab changes. It prints little on a pass (one line, then the
// next step's title, place and docs) and the failure in full otherwise.
type Watcher struct {
	Labs    []*lab.Lab // the labs to work through, in order
	Dir     string     // the module root, where labs/<name> are
	Tester  Tester
	Out     io.Writer
	Changes Changes       // nil: inotify (Linux)
	Quiet   time.Duration // how long the files must stay unchanged before a run; 0 is 150 ms
	Now     func() time.Time

	lab  int       // index in Labs of the lab at hand
	step *lab.Step // the step at hand
}

// Run watches until ctx is done (Ctrl-C), which is not an error, or until
// every step of the labs passes.
func (w *Watcher) Run(ctx context.Context) error {
	if len(w.Labs) == 0 {
		return fmt.Errorf("watch: no labs")
	}
	changes := w.Changes
	if changes == nil {
		changes = Inotify
	}
	dirs := make([]string, len(w.Labs))
	for i, l := range w.Labs {
		dirs[i] = filepath.Join(w.Dir, "labs", l.Name)
	}
	// Watch before the first run, so that a save during it is not missed.
	ch, err := changes(ctx, dirs)
	if err != nil {
		return fmt.Errorf("watch: %w", err)
	}
	done, err := w.advance(ctx, 0, true)
	if err != nil || done {
		return w.quit(ctx, err)
	}
	for {
		fmt.Fprintf(w.Out, "watching %s for changes (Ctrl-C to stop)\n", filepath.Join("labs", w.Labs[w.lab].Name))
		if !w.waitChange(ctx, ch, dirs[w.lab]) {
			return w.quit(ctx, errors.New("watch: the watch of the files ended"))
		}
		done, err := w.rerun(ctx)
		if err != nil || done {
			return w.quit(ctx, err)
		}
	}
}

// quit is what Run returns: nothing when ctx was cancelled (Ctrl-C), which
// it says.
func (w *Watcher) quit(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		fmt.Fprintln(w.Out, "watch: stopped")
		return nil
	}
	return err
}

// rerun runs the step at hand and, when it passes, moves on.
func (w *Watcher) rerun(ctx context.Context) (done bool, err error) {
	l := w.Labs[w.lab]
	w.stamp(fmt.Sprintf("%s step %s: %s", l.Name, w.step.ID, w.step.Title))
	r, err := w.Tester.Test(ctx, []*lab.Lab{l}, w.step)
	if err != nil {
		if ctx.Err() != nil {
			return true, nil
		}
		fmt.Fprintf(w.Out, "could not run the test: %v\n", err)
		return false, nil
	}
	s := stepOf(r, w.step)
	if s == nil {
		fmt.Fprintf(w.Out, "the test said nothing about step %s\n", w.step.ID)
		return false, nil
	}
	WriteVerdict(w.Out, s)
	if s.Outcome != grade.Pass {
		if s.Outcome != grade.Fail {
			for _, p := range r.Problems {
				fmt.Fprintf(w.Out, "problem: %s\n", p)
			}
		}
		return false, nil
	}
	return w.advance(ctx, w.lab, false)
}

// advance finds the first step that does not pass from lab index from on
// and shows it; done when there is none. It runs the whole test of the lab
// at from first, or with all of every lab from there at once.
func (w *Watcher) advance(ctx context.Context, from int, all bool) (done bool, err error) {
	labs := w.Labs[from:]
	if !all {
		labs = labs[:1]
	}
	r, err := w.Tester.Test(ctx, labs, nil)
	if err != nil {
		return true, err
	}
	next := r.Next()
	for i, l := range labs {
		if next != nil && next.Lab == l {
			w.lab, w.step = from+i, next.Step
			WriteNext(w.Out, next)
			return false, nil
		}
		got, total := labPoints(r, l)
		fmt.Fprintf(w.Out, "lab %s: every step passes (%d/%d points)\n", l.Name, got, total)
	}
	if !all && from+1 < len(w.Labs) {
		return w.advance(ctx, from+1, true)
	}
	fmt.Fprintln(w.Out, "every step passes: nothing left to watch")
	return true, nil
}

func labPoints(r *grade.Report, l *lab.Lab) (got, total int) {
	for _, s := range r.Steps {
		if s.Lab == l {
			got, total = got+s.Score, total+s.Step.Points
		}
	}
	return got, total
}

func (w *Watcher) stamp(what string) {
	now := time.Now
	if w.Now != nil {
		now = w.Now
	}
	fmt.Fprintf(w.Out, "\n[%s] %s\n", now().Format("15:04:05"), what)
}

// waitChange waits for a change of a file under dir, then for the files to
// stay unchanged for the quiet period (an editor's save is several events).
func (w *Watcher) waitChange(ctx context.Context, ch <-chan string, dir string) bool {
	quiet := w.Quiet
	if quiet == 0 {
		quiet = 150 * time.Millisecond
	}
	t := time.NewTimer(quiet)
	t.Stop()
	defer t.Stop()
	var settled <-chan time.Time // the quiet period's end, once a file under dir changed
	for {
		select {
		case <-ctx.Done():
			return false
		case p, ok := <-ch:
			if !ok {
				return false
			}
			if settled != nil || Relevant(p, dir) { // once waiting, any change restarts the quiet period
				t.Reset(quiet)
				settled = t.C
			}
		case <-settled:
			return true
		}
	}
}

// Relevant reports whether a change of path is a change of a file of the
// lab in dir: an editor's backup, swap and lock files are not.
func Relevant(path, dir string) bool {
	rel, err := filepath.Rel(dir, path)
	if err != nil || rel == "." || strings.HasPrefix(rel, "..") {
		return false
	}
	base := filepath.Base(path)
	switch {
	case strings.HasPrefix(base, "."), strings.HasPrefix(base, "#"), strings.HasSuffix(base, "~"), base == "4913":
		return false
	}
	for _, ext := range []string{".swp", ".swx", ".swo", ".tmp", ".orig"} {
		if strings.HasSuffix(base, ext) {
			return false
		}
	}
	return true
}

func stepOf(r *grade.Report, step *lab.Step) *grade.StepResult {
	for _, s := range r.Steps {
		if s.Step.ID == step.ID {
			return s
		}
	}
	return nil
}

// WriteVerdict prints the verdict of one step's run: one line on a pass,
// the whole failure (what the step printed, its message) otherwise.
func WriteVerdict(w io.Writer, s *grade.StepResult) {
	name := fmt.Sprintf("%s step %s", s.Lab.Name, s.Step.ID)
	switch {
	case s.Outcome == grade.Pass:
		fmt.Fprintf(w, "✓ %s passes: +%d points\n", name, s.Score)
	case s.NotWritten():
		fmt.Fprintf(w, "· %s is not written yet: %s\n", name, s.Where())
	default:
		verb := "fails"
		if s.Outcome != grade.Fail {
			verb = "did not run"
		}
		fmt.Fprintf(w, "%s %s %s\n", Mark(s), name, verb)
		body := Clean(s.Output)
		for _, more := range []string{s.Detail, s.Message} {
			if more != "" && !strings.Contains(body, more) {
				body = strings.TrimSpace(body + "\n" + more)
			}
		}
		if body != "" {
			fmt.Fprintln(w, indent(body, "  "))
		}
		if s.File != "" {
			fmt.Fprintf(w, "edit %s\n", s.Where())
		} else {
			fmt.Fprintf(w, "see %s\n", s.Lab.Anchor(s.Step))
		}
		if s.Outcome == grade.Fail && len(s.Step.Hints) > 0 {
			fmt.Fprintf(w, "stuck? %s\n", HintCommand(s))
		}
	}
}

// WriteNext shows the step at hand: its title, the file and function to
// edit and its docs; and, when it is written but fails, its failure.
func WriteNext(w io.Writer, s *grade.StepResult) {
	fmt.Fprintf(w, "next: %s step %s, %s\n  edit %s\n", s.Lab.Name, s.Step.ID, s.Step.Title, s.Where())
	if s.Outcome != grade.Pass && !s.NotWritten() {
		WriteVerdict(w, s)
	}
}

var logPrefix = regexp.MustCompile(`^ {4}[^ ]+\.go:\d+: `)

// Clean takes go test's framing out of a step's output: the "file.go:NN: "
// of each t.Log and t.Error, and the indentation of their next lines.
func Clean(output string) string {
	lines := strings.Split(strings.TrimRight(output, "\n"), "\n")
	for i, l := range lines {
		if loc := logPrefix.FindStringIndex(l); loc != nil {
			lines[i] = l[loc[1]:]
		} else {
			lines[i] = strings.TrimPrefix(l, "        ")
		}
	}
	return strings.TrimSpace(strings.Join(lines, "\n"))
}

// HintCommand is the command that shows the step's first hint.
func HintCommand(s *grade.StepResult) string {
	return fmt.Sprintf("go tool mage hint %s -step=%s", s.Lab.Name, s.Step.ID)
}

func indent(s, by string) string {
	return by + strings.ReplaceAll(s, "\n", "\n"+by)
}
