package starter

import (
	"fmt"
	"strings"

	"github.com/nslab/nslab/pkg/lab"
)

// Check compares the regions with the labs' steps: every region must name
// a step that exists, and every step must have a region, or the starter
// edition would give away a step (its test would pass) or point a learner
// at a step that is not there.
func Check(regions []Region, labs []*lab.Lab) error {
	var problems []string
	have := map[string]bool{}
	byName := map[string]*lab.Lab{}
	for _, l := range labs {
		byName[l.Name] = l
	}
	for _, r := range regions {
		have[r.Lab+"/"+r.Step] = true
		l, ok := byName[r.Lab]
		if !ok {
			problems = append(problems, fmt.Sprintf("%s:%d: %s is step %s of lab %s, which is not registered (labs/all)", r.File, r.Begin, r.Func, r.Step, r.Lab))
			continue
		}
		if _, err := l.Step(r.Step); err != nil {
			problems = append(problems, fmt.Sprintf("%s:%d: %s: %v", r.File, r.Begin, r.Func, err))
		}
	}
	for _, l := range labs {
		for _, s := range l.Steps {
			if !have[l.Name+"/"+s.ID] {
				problems = append(problems, fmt.Sprintf("lab %s step %s (%s) has no solution region in labs/%s: the starter edition would give it away", l.Name, s.ID, s.Title, l.Name))
			}
		}
	}
	if len(problems) > 0 {
		return fmt.Errorf("the solution regions and the steps disagree:\n  %s", strings.Join(problems, "\n  "))
	}
	return nil
}
