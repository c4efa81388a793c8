package grade

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/nslab/nslab/pkg/lab"
)

// Diagrams compares each lab's page under root with the diagram its graded
// test drew in dir (lab.EnvDiagrams) from a run of the reference, and with
// write puts the drawn diagram into the page instead. A lab without a
// drawing (a step failed or skipped in that run) is an error either way: its
// page cannot be checked.
func Diagrams(dir, root string, labs []*lab.Lab, write bool) error {
	var errs []error
	for _, l := range labs {
		drawn, err := os.ReadFile(filepath.Join(dir, l.Name+".mmd"))
		if err != nil {
			errs = append(errs, fmt.Errorf("lab %s: no diagram was drawn (every step must pass in the run that draws it): %w", l.Name, err))
			continue
		}
		path := filepath.Join(root, l.Doc())
		page, err := os.ReadFile(path)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		block := lab.DiagramBlock(string(drawn))
		if old, err := lab.PageDiagram(string(page)); err == nil && old == block {
			continue
		}
		if !write {
			errs = append(errs, fmt.Errorf("%s: its diagram is not what the steps build; run go tool mage diagrams and commit the page", l.Doc()))
			continue
		}
		if err := os.WriteFile(path, []byte(lab.SpliceDiagram(string(page), block)), 0o644); err != nil {
			errs = append(errs, err)
			continue
		}
		fmt.Printf("%s: diagram updated\n", l.Doc())
	}
	return errors.Join(errs...)
}
