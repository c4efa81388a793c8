package grade

import (
	"bytes"
	"context"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"

	"golang.org/x/tools/imports"

	"github.com/nslab/nslab/pkg/lab"
	"github.com/nslab/nslab/pkg/starter"
)

// Copy is a pristine copy of the course on disk that holds a learner's
// solution regions and nothing else of theirs.
type Copy struct {
	Dir     string
	Placed  []Placed
	pris    Tree
	learner Tree
	allow   func(string) bool
	stub    map[string]map[string]string // file -> key -> why it holds its stub
}

// Prepare writes pristine into dir with the solution regions of learner
// transplanted (see Transplant), imports fixed, and builds the packages of
// labs: a region that keeps its package from building gets its stub, and
// its step is reported as not compiling, so that the rest still builds.
func Prepare(ctx context.Context, dir string, pristine, learner Tree, labs []*lab.Lab) (*Copy, error) {
	c := &Copy{Dir: dir, pris: pristine, learner: learner, allow: Allow(pristine["go.mod"].Data), stub: map[string]map[string]string{}}
	if err := WriteTree(dir, pristine); err != nil {
		return nil, fmt.Errorf("write the pristine copy to %s: %w", dir, err)
	}
	for _, p := range pristine.Paths() {
		if labFile(p) && bytes.Contains(pristine[p].Data, []byte(starter.Begin)) {
			if err := c.write(p); err != nil {
				return nil, err
			}
		}
	}
	return c, c.build(ctx, labs)
}

// write transplants the learner's regions into file p of the copy.
func (c *Copy) write(p string) error {
	var mine []byte
	if f, ok := c.learner[p]; ok {
		mine = f.Data
	}
	out, placed, err := Transplant(p, c.pris[p].Data, mine, c.allow, c.stub[p])
	if err != nil {
		return err
	}
	path := filepath.Join(c.Dir, filepath.FromSlash(p))
	if fixed, err := imports.Process(path, out, &imports.Options{Comments: true, TabIndent: true, TabWidth: 8}); err == nil {
		out = fixed
	}
	var rest []Placed
	for _, pl := range c.Placed {
		if pl.File != p {
			rest = append(rest, pl)
		}
	}
	c.Placed = append(rest, placed...)
	return os.WriteFile(path, out, 0o644)
}

var compileErr = regexp.MustCompile(`^(?:\./)?(labs/[^:\s]+\.go):(\d+)(?::(\d+))?: (.*)$`)

// build builds the labs' packages until they build, giving each region
// the compiler blames its stub.
func (c *Copy) build(ctx context.Context, labs []*lab.Lab) error {
	for {
		out, err := goBuild(ctx, c.Dir, labs)
		if err == nil {
			return nil
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		changed := c.blame(out)
		if len(changed) == 0 {
			return fmt.Errorf("the pristine copy in %s does not build, and no solution region is to blame: %s", c.Dir, firstLine(strings.Split(out, "\n")))
		}
		for _, p := range changed {
			if err := c.write(p); err != nil {
				return err
			}
		}
	}
}

func goBuild(ctx context.Context, dir string, labs []*lab.Lab) (string, error) {
	args := []string{"build"}
	for _, l := range labs {
		args = append(args, "./labs/"+l.Name+"/...")
	}
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Dir, cmd.Env = dir, BuildEnv()
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// blame gives the stub to the learner's regions of the functions that the
// compiler errors in out point into (to every learner region of the file
// when an error is outside them) and returns the files it changed.
func (c *Copy) blame(out string) []string {
	var changed []string
	for _, line := range strings.Split(out, "\n") {
		m := compileErr.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		n, _ := strconv.Atoi(m[2])
		if c.blameLine(m[1], n, line) && !contains(changed, m[1]) {
			changed = append(changed, m[1])
		}
	}
	return changed
}

func (c *Copy) blameLine(p string, n int, msg string) bool {
	src, err := os.ReadFile(filepath.Join(c.Dir, filepath.FromSlash(p)))
	if err != nil {
		return false
	}
	fn := funcAt(src, n)
	var hit []Placed
	for _, pl := range c.Placed {
		if pl.File == p && pl.Learner && pl.Func == fn {
			hit = append(hit, pl)
		}
	}
	if len(hit) == 0 {
		for _, pl := range c.Placed {
			if pl.File == p && pl.Learner {
				hit = append(hit, pl)
			}
		}
	}
	if c.stub[p] == nil {
		c.stub[p] = map[string]string{}
	}
	for _, pl := range hit {
		c.stub[p][pl.Key] = "does not compile: " + c.learnerLine(p, src, pl.Key, msg, n)
	}
	return len(hit) > 0
}

// learnerLine rewrites a compiler message about line n of the copy's file
// p to name the line of the learner's file, when it is in the region key.
func (c *Copy) learnerLine(p string, src []byte, key string, msg string, n int) string {
	msg = strings.TrimPrefix(msg, "./")
	copyAt, learnerAt := regionBegin(p, src, key), regionBegin(p, c.learner[p].Data, key)
	if copyAt == 0 || learnerAt == 0 {
		return msg
	}
	rest := strings.TrimPrefix(msg, fmt.Sprintf("%s:%d", p, n))
	return fmt.Sprintf("%s:%d%s", p, n-copyAt+learnerAt, rest)
}

func regionBegin(p string, src []byte, key string) int {
	bodies, err := starter.Bodies(p, src)
	if err != nil {
		return 0
	}
	for i, k := range starter.Keys(bodies) {
		if k == key {
			return bodies[i].Begin
		}
	}
	return 0
}

// funcAt names the function declared around line n of src; "" if none.
func funcAt(src []byte, n int) string {
	fset := token.NewFileSet()
	f, _ := parser.ParseFile(fset, "", src, parser.SkipObjectResolution)
	if f == nil {
		return ""
	}
	for _, d := range f.Decls {
		if fd, ok := d.(*ast.FuncDecl); ok && fset.Position(fd.Pos()).Line <= n && n <= fset.Position(fd.End()).Line {
			return fd.Name.Name
		}
	}
	return ""
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// Transplanted grades the learner's repository in learnerDir as the
// Classroom does: its solution regions in a temporary pristine copy, the
// rest of it only compared (Report.Tampered). c.Dir is ignored.
func Transplanted(ctx context.Context, c Config, learnerDir string, pristine Tree, label string) (*Report, error) {
	learner, err := ReadTree(learnerDir)
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "nslab-grade-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	cp, err := Prepare(ctx, dir, pristine, learner, c.Labs)
	if err != nil {
		return nil, err
	}
	c.Dir = dir
	r, err := Run(ctx, c)
	if err != nil {
		return nil, err
	}
	r.Pristine, r.Tampered = label, Tampering(pristine, learner)
	r.Locate(learnerDir)
	r.applyPlaced(cp.Placed)
	return r, nil
}

// applyPlaced says, on each step that did not pass, why its learner's
// region was not used.
func (r *Report) applyPlaced(placed []Placed) {
	for _, s := range r.Steps {
		for _, pl := range placed {
			if pl.Problem != "" && pl.Lab == s.Lab.Name && pl.Step == s.Step.ID && s.Outcome != Pass {
				s.Message, s.Detail = pl.Problem, pl.Problem
				break
			}
		}
	}
}
