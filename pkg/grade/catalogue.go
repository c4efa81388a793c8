package grade

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"golang.org/x/tools/txtar"

	"github.com/nslab/nslab/pkg/starter"
)

// Case is a learner's repository of a catalogue (testdata/forgeries,
// testdata/regrade): a base edition of the course with changes, and the
// grade it must get.
//
//	What the learner did, in a line or two.
//	-- meta --
//	base: starter              (or reference: the honest solution behind it)
//	lab: uts
//	score: 0                   (what the honest solution behind it scores)
//	tampered: labs/uts/evil.go (added)     (every tampered file; absent: none)
//	step 02: does not compile  (a part of that step's message; optional)
//	-- region SetNames --      (the body of that function's region)
//	-- file labs/uts/evil.go --            (a whole file, added or replaced)
//	-- replace labs/uts/steps.go --        (lines "OLD ==> NEW", each OLD present)
type Case struct {
	Name, Desc string
	Base, Lab  string
	Score      int
	Tampered   string
	Steps      map[string]string // step ID -> a part of its message
	Regions    map[string]string // func -> body
	Files      map[string]string // path -> content
	Replace    map[string][][2]string
}

// ReadCases reads the *.txtar cases of dir.
func ReadCases(dir string) ([]Case, error) {
	files, err := filepath.Glob(filepath.Join(dir, "*.txtar"))
	if err != nil {
		return nil, err
	}
	var cases []Case
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		c, err := ParseCase(strings.TrimSuffix(filepath.Base(f), ".txtar"), data)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", f, err)
		}
		cases = append(cases, c)
	}
	return cases, nil
}

// ParseCase reads one case.
func ParseCase(name string, data []byte) (Case, error) {
	a := txtar.Parse(data)
	c := Case{Name: name, Desc: strings.TrimSpace(string(a.Comment)), Steps: map[string]string{},
		Regions: map[string]string{}, Files: map[string]string{}, Replace: map[string][][2]string{}}
	for _, f := range a.Files {
		kind, arg, _ := strings.Cut(f.Name, " ")
		var err error
		switch kind {
		case "meta":
			err = c.meta(string(f.Data))
		case "region":
			c.Regions[arg] = string(f.Data)
		case "file":
			c.Files[arg] = string(f.Data)
		case "replace":
			c.Replace[arg], err = replacements(string(f.Data))
		default:
			err = fmt.Errorf("unknown section %q (want meta, region FUNC, file PATH, replace PATH)", f.Name)
		}
		if err != nil {
			return c, err
		}
	}
	if c.Base != "starter" && c.Base != "reference" || c.Lab == "" {
		return c, fmt.Errorf("meta: want base: starter or reference, and lab: NAME")
	}
	return c, nil
}

func (c *Case) meta(text string) error {
	for _, line := range strings.Split(text, "\n") {
		k, v, ok := strings.Cut(line, ":")
		v = strings.TrimSpace(v)
		switch {
		case strings.TrimSpace(line) == "":
		case !ok:
			return fmt.Errorf("meta: %q is not KEY: VALUE", line)
		case k == "base":
			c.Base = v
		case k == "lab":
			c.Lab = v
		case k == "score":
			n, err := strconv.Atoi(v)
			if err != nil {
				return fmt.Errorf("meta: score %q is not a number", v)
			}
			c.Score = n
		case k == "tampered":
			c.Tampered = v
		case strings.HasPrefix(k, "step "):
			c.Steps[strings.TrimPrefix(k, "step ")] = v
		default:
			return fmt.Errorf("meta: unknown key %q", k)
		}
	}
	return nil
}

func replacements(text string) ([][2]string, error) {
	var out [][2]string
	for _, line := range strings.Split(strings.TrimSuffix(text, "\n"), "\n") {
		old, repl, ok := strings.Cut(line, " ==> ")
		if !ok {
			return nil, fmt.Errorf("replace: %q is not OLD ==> NEW", line)
		}
		out = append(out, [2]string{old, repl})
	}
	return out, nil
}

// Starter returns the starter edition of t: every lab file's regions
// stubbed, and the paths starter.Dropped leaves out removed.
func Starter(t Tree) (Tree, error) {
	out := Tree{}
	for p, f := range t {
		if dropped(p) {
			continue
		}
		if name, ok := starter.LabOf(p); ok && strings.HasSuffix(p, ".go") {
			data, _, err := starter.Strip(p, f.Data, name)
			if err != nil {
				return nil, err
			}
			f = File{Data: data, Exec: f.Exec}
		}
		out[p] = f
	}
	return out, nil
}

// Apply returns the learner's tree of the case, from the reference tree
// and its starter edition.
func (c Case) Apply(reference, starterTree Tree) (Tree, error) {
	base := reference
	if c.Base == "starter" {
		base = starterTree
	}
	t := Tree{}
	for p, f := range base {
		t[p] = f
	}
	for fn, body := range c.Regions {
		if err := SetRegion(t, c.Lab, fn, body); err != nil {
			return nil, err
		}
	}
	for p, text := range c.Files {
		t[p] = File{Data: []byte(text)}
	}
	for p, reps := range c.Replace {
		data := t[p].Data
		for _, r := range reps {
			if !bytes.Contains(data, []byte(r[0])) {
				return nil, fmt.Errorf("replace in %s: %q is not there", p, r[0])
			}
			data = bytes.ReplaceAll(data, []byte(r[0]), []byte(r[1]))
		}
		t[p] = File{Data: data, Exec: t[p].Exec}
	}
	return t, nil
}

// SetRegion replaces the body of the first region of function fn in the Go
// files of lab with body.
func SetRegion(t Tree, lab, fn, body string) error {
	if body != "" && !strings.HasSuffix(body, "\n") {
		body += "\n"
	}
	var paths []string
	for p := range t {
		if l, _ := starter.LabOf(p); l == lab && labFile(p) {
			paths = append(paths, p)
		}
	}
	sort.Strings(paths)
	for _, p := range paths {
		bodies, err := starter.Bodies(p, t[p].Data)
		if err != nil {
			return err
		}
		for _, b := range bodies {
			if b.Func == fn {
				texts := make([]string, len(bodies))
				for i := range bodies {
					texts[i] = bodies[i].Text
				}
				texts[indexOf(bodies, b)] = body
				t[p] = File{Data: replaceBodies(t[p].Data, bodies, texts), Exec: t[p].Exec}
				return nil
			}
		}
	}
	return fmt.Errorf("no solution region in a function %s of lab %s", fn, lab)
}

func indexOf(bodies []starter.Body, b starter.Body) int {
	for i := range bodies {
		if bodies[i].Begin == b.Begin {
			return i
		}
	}
	return -1
}

// Check compares a graded case with what it must get.
func (c Case) Check(r *Report) []string {
	var bad []string
	total, _ := r.Points()
	if total != c.Score {
		bad = append(bad, fmt.Sprintf("scored %d points; want %d", total, c.Score))
	}
	if got := r.TamperedList(); got != c.Tampered {
		bad = append(bad, fmt.Sprintf("tampered %q; want %q", got, c.Tampered))
	}
	for _, s := range r.Steps {
		if want, ok := c.Steps[s.Step.ID]; ok && !strings.Contains(s.Message, want) {
			bad = append(bad, fmt.Sprintf("step %s: %s %q; want a message with %q", s.Step.ID, s.Outcome, s.Message, want))
		}
	}
	return bad
}
