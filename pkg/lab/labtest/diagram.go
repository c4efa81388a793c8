package labtest

import (
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/nslab/nslab/pkg/lab"
)

// diagramRecorder keeps the processes each step of a graded run showed, for the
// lab's diagram.
type diagramRecorder struct {
	mu     sync.Mutex
	procs  map[string][]lab.Proc
	passed int
}

func (r *diagramRecorder) add(id string, o lab.Outcome) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if o.Err == nil && o.Skip == "" {
		r.procs[id] = o.Procs
		r.passed++
	}
}

// write saves the lab's diagram as DIR/LAB.mmd when lab.EnvDiagrams names a
// directory DIR and every step ran and passed: the diagram of a run that
// failed or skipped a step would draw less than the lab builds. It never
// fails the test: go tool mage diagrams and honesty compare the file with
// the lab's page.
func (r *diagramRecorder) write(t *testing.T, l *lab.Lab) {
	dir := os.Getenv(lab.EnvDiagrams)
	if dir == "" {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.passed != len(l.Steps) {
		t.Logf("no diagram of lab %s: %d of %d steps passed", l.Name, r.passed, len(l.Steps))
		return
	}
	path := filepath.Join(dir, l.Name+".mmd")
	if err := os.WriteFile(path, []byte(lab.Diagram(l, r.procs)), 0o644); err != nil {
		t.Logf("no diagram of lab %s: %v", l.Name, err)
	}
}
