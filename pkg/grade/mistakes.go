package grade

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"golang.org/x/tools/imports"
	"golang.org/x/tools/txtar"

	"github.com/nslab/nslab/pkg/lab"
)

// Mistake is a wrong solution of one step that the lab's test must catch
// (labs/LAB/testdata/mistakes/*.txtar):
//
//	One or two lines of description.
//	-- meta --
//	step: 02
//	func: SetNames
//	want: a part of the failure message
//	-- body.go --
//		(Go statements replacing the region of func SetNames)
type Mistake struct {
	File, Desc      string
	Lab, Step, Func string
	Want            string
	Body            string
}

// ParseMistake reads one mistake of lab from file.
func ParseMistake(file, labName string, data []byte) (Mistake, error) {
	a := txtar.Parse(data)
	m := Mistake{File: file, Lab: labName, Desc: strings.TrimSpace(string(a.Comment))}
	for _, f := range a.Files {
		switch f.Name {
		case "meta":
			for _, line := range strings.Split(string(f.Data), "\n") {
				k, v, _ := strings.Cut(line, ":")
				switch strings.TrimSpace(k) {
				case "step":
					m.Step = strings.TrimSpace(v)
				case "func":
					m.Func = strings.TrimSpace(v)
				case "want":
					m.Want = strings.TrimSpace(v)
				}
			}
		case "body.go":
			m.Body = string(f.Data)
		}
	}
	if m.Step == "" || m.Func == "" || m.Want == "" || m.Body == "" {
		return m, fmt.Errorf("%s: want a meta section with step, func and want, and a body.go section", file)
	}
	return m, nil
}

// ReadMistakes reads the mistakes of the named labs in the module at root.
func ReadMistakes(root string, labs []*lab.Lab) ([]Mistake, error) {
	var out []Mistake
	for _, l := range labs {
		files, _ := filepath.Glob(filepath.Join(root, "labs", l.Name, "testdata", "mistakes", "*.txtar"))
		for _, f := range files {
			data, err := os.ReadFile(f)
			if err != nil {
				return nil, err
			}
			rel, _ := filepath.Rel(root, f)
			m, err := ParseMistake(filepath.ToSlash(rel), l.Name, data)
			if err != nil {
				return nil, err
			}
			if _, err := l.Step(m.Step); err != nil {
				return nil, fmt.Errorf("%s: %w", rel, err)
			}
			out = append(out, m)
		}
	}
	return out, nil
}

// Caught says whether a lab's graded test caught the mistake: its step
// failed with Want in its message, detail or output, every other step
// passed, and the machine was left as it was.
func (m Mistake) Caught(r *Report) error {
	var bad []string
	for _, s := range r.Steps {
		if s.Lab.Name != m.Lab {
			continue
		}
		text := s.Message + "\n" + s.Detail + "\n" + s.Output
		switch {
		case s.Step.ID == m.Step && s.Outcome != Fail:
			bad = append(bad, fmt.Sprintf("step %s: %s; want a failure with %q", s.Step.ID, s.Outcome, m.Want))
		case s.Step.ID == m.Step && !strings.Contains(text, m.Want):
			bad = append(bad, fmt.Sprintf("step %s failed with %q; want %q in it", s.Step.ID, clip(s.Message, 200), m.Want))
		case s.Step.ID != m.Step && s.Outcome != Pass:
			bad = append(bad, fmt.Sprintf("step %s: %s: %s; want it to pass", s.Step.ID, s.Outcome, clip(s.Message, 200)))
		}
	}
	for _, p := range r.Problems {
		bad = append(bad, p)
	}
	if strings.Contains(r.Output, "the machine changed") && len(r.Problems) == 0 {
		bad = append(bad, "the machine changed")
	}
	if len(bad) > 0 {
		return fmt.Errorf("%s", strings.Join(bad, "; "))
	}
	return nil
}

// MistakeResult is one mistake checked.
type MistakeResult struct {
	Mistake
	Err error // why it escaped; nil when caught
}

// CheckMistakes checks each mistake against the module at root, whose
// files tree holds, jobs at a time, printing a line each on w.
func CheckMistakes(ctx context.Context, c Config, root string, tree Tree, ms []Mistake, jobs int, w io.Writer) []MistakeResult {
	out := make([]MistakeResult, len(ms))
	var mu sync.Mutex
	parallel(len(ms), jobs, func(i int) {
		m := ms[i]
		out[i] = MistakeResult{m, checkMistake(ctx, c, root, tree, m)}
		mu.Lock()
		defer mu.Unlock()
		if out[i].Err == nil {
			fmt.Fprintf(w, "caught   %s step %s %-16s %s\n", m.Lab, m.Step, m.Func, m.File)
		} else {
			fmt.Fprintf(w, "ESCAPED  %s step %s %-16s %s: %v\n", m.Lab, m.Step, m.Func, m.File, out[i].Err)
		}
	})
	return out
}

// checkMistake grades the module at root with the mistake's body in place
// of its region. The changed file goes through go build's -overlay: the
// module is not copied, so the build cache serves every package but the lab's.
func checkMistake(ctx context.Context, c Config, root string, tree Tree, m Mistake) error {
	l, err := lab.Get(m.Lab)
	if err != nil {
		for _, x := range c.Labs {
			if x.Name == m.Lab {
				l, err = x, nil
			}
		}
		if err != nil {
			return err
		}
	}
	t := Tree{}
	for p, f := range tree {
		t[p] = f
	}
	if err := SetRegion(t, m.Lab, m.Func, m.Body); err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "nslab-mistake-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	overlay, err := writeOverlay(dir, root, tree, t)
	if err != nil {
		return err
	}
	c.Dir, c.Labs, c.Overlay = root, []*lab.Lab{l}, overlay
	r, err := Run(ctx, c)
	if err != nil {
		return err
	}
	return m.Caught(r)
}

// writeOverlay writes, in dir, each file of changed that differs from
// orig, its imports fixed, and the -overlay file that maps the module's
// path of each to its copy; it returns the overlay file's path.
func writeOverlay(dir, root string, orig, changed Tree) (string, error) {
	abs, err := filepath.Abs(root)
	if err != nil {
		return "", err
	}
	replace := map[string]string{}
	for _, p := range changed.Paths() {
		if bytes.Equal(changed[p].Data, orig[p].Data) {
			continue
		}
		src, err := imports.Process(filepath.Join(abs, p), changed[p].Data, &imports.Options{Comments: true, TabIndent: true, TabWidth: 8})
		if err != nil {
			return "", fmt.Errorf("fix the imports of %s: %w", p, err)
		}
		copyPath := filepath.Join(dir, fmt.Sprintf("%d.go", len(replace)))
		if err := os.WriteFile(copyPath, src, 0o644); err != nil {
			return "", err
		}
		replace[filepath.Join(abs, filepath.FromSlash(p))] = copyPath
	}
	b, err := json.Marshal(map[string]any{"Replace": replace})
	if err != nil {
		return "", err
	}
	overlay := filepath.Join(dir, "overlay.json")
	return overlay, os.WriteFile(overlay, b, 0o644)
}

// RunMistakes checks the mistakes of c.Labs in the module at root, two at
// a time, prints a line each and the totals, and returns how many escaped.
func RunMistakes(ctx context.Context, c Config, root string, w io.Writer) (escaped int, err error) {
	ms, err := ReadMistakes(root, c.Labs)
	if err != nil {
		return 0, err
	}
	tree, err := ReadTree(root)
	if err != nil {
		return 0, err
	}
	results := CheckMistakes(ctx, c, root, tree, ms, 2, w)
	for _, r := range results {
		if r.Err != nil {
			escaped++
		}
	}
	fmt.Fprintf(w, "%d mistakes, %d caught, %d escaped\n", len(results), len(results)-escaped, escaped)
	return escaped, nil
}
