package grade

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	"github.com/nslab/nslab/pkg/lab"
)

// Regrading is how a whole class is graded again.
type Regrading struct {
	Config                    // Labs, Exec, Timeout, Env of each grade; Dir is ignored
	Pristine    string        // a directory, or a commit of each learner's repository
	Jobs        int           // repositories graded at once; 0 is the number of CPUs
	RepoTimeout time.Duration // the most one repository may take; 0 is 15 minutes
	Progress    io.Writer     // a line per repository graded; nil prints nothing
	tree        Tree          // Pristine read once, when it is a directory
	mu          sync.Mutex    // guards Progress
}

// Graded is the grade of one learner's repository.
type Graded struct {
	Learner, Repo string
	Report        *Report // nil when Err says why there is none
	Err           error
	Took          time.Duration
}

// Regrade grades each repository by transplant, Jobs at a time, each in
// its own temporary copy and within RepoTimeout, and returns the grades in
// the order of repos.
func Regrade(ctx context.Context, rg *Regrading, repos []string) []Graded {
	if info, err := os.Stat(rg.Pristine); err == nil && info.IsDir() {
		t, err := ReadTree(rg.Pristine)
		if err != nil {
			return failAll(repos, err)
		}
		rg.tree = t
	}
	out := make([]Graded, len(repos))
	parallel(len(repos), rg.Jobs, func(i int) {
		out[i] = rg.one(ctx, repos[i])
		rg.progress(out[i])
	})
	return out
}

func failAll(repos []string, err error) []Graded {
	out := make([]Graded, len(repos))
	for i, r := range repos {
		out[i] = Graded{Learner: LearnerOf(r), Repo: r, Err: err}
	}
	return out
}

// LearnerOf names the learner of a repository directory: its base name
// (gh classroom clone makes ASSIGNMENT-LOGIN).
func LearnerOf(repo string) string { return filepath.Base(filepath.Clean(repo)) }

func (rg *Regrading) one(ctx context.Context, repo string) Graded {
	g := Graded{Learner: LearnerOf(repo), Repo: repo}
	start := time.Now()
	limit := rg.RepoTimeout
	if limit <= 0 {
		limit = 15 * time.Minute
	}
	ctx, cancel := context.WithTimeout(ctx, limit)
	defer cancel()
	pristine, label := rg.tree, "the pristine copy "+rg.Pristine
	if pristine == nil {
		t, err := ReadRef(repo, rg.Pristine)
		if err != nil {
			g.Err = err
			return g
		}
		pristine, label = t, "commit "+rg.Pristine+" of the repository"
	}
	g.Report, g.Err = Transplanted(ctx, rg.Config, repo, pristine, label)
	if ctx.Err() == context.DeadlineExceeded {
		g.Report, g.Err = nil, fmt.Errorf("the grade took longer than %v, the time limit of a repository", limit)
	}
	g.Took = time.Since(start)
	return g
}

func (rg *Regrading) progress(g Graded) {
	if rg.Progress == nil {
		return
	}
	rg.mu.Lock()
	defer rg.mu.Unlock()
	switch {
	case g.Err != nil:
		fmt.Fprintf(rg.Progress, "%-30s error: %v (%.1fs)\n", g.Learner, g.Err, g.Took.Seconds())
	default:
		total, maxScore := g.Report.Points()
		fmt.Fprintf(rg.Progress, "%-30s %3d/%d points  %d tampered  (%.1fs)\n", g.Learner, total, maxScore, len(g.Report.Tampered), g.Took.Seconds())
	}
}

// Row is one step of one learner in the class table.
type Row struct {
	Learner   string `json:"learner"`
	Lab       string `json:"lab"`
	Step      string `json:"step"`
	Points    int    `json:"points"`
	MaxPoints int    `json:"max_points"`
	Status    string `json:"status"` // pass, fail, skip, error
	Message   string `json:"message,omitempty"`
	Tampered  string `json:"tampered,omitempty"` // the learner's tampered files, on every row
}

// Rows is the class table: a row per learner and step, in order. A
// repository that could not be graded gets error rows worth 0.
func Rows(gs []Graded, labs []*lab.Lab) []Row {
	var rows []Row
	for _, g := range gs {
		if g.Err != nil || g.Report == nil {
			for _, l := range labs {
				for _, s := range l.Steps {
					rows = append(rows, Row{Learner: g.Learner, Lab: l.Name, Step: s.ID, MaxPoints: s.Points, Status: "error", Message: errText(g.Err)})
				}
			}
			continue
		}
		for _, s := range g.Report.Steps {
			rows = append(rows, Row{Learner: g.Learner, Lab: s.Lab.Name, Step: s.Step.ID, Points: s.Score, MaxPoints: s.Step.Points,
				Status: string(s.Outcome), Message: clip(s.Message, 300), Tampered: g.Report.TamperedList()})
		}
	}
	return rows
}

func errText(err error) string {
	if err == nil {
		return "not graded"
	}
	return clip(err.Error(), 300)
}

// WriteCSV writes the rows with a header line.
func WriteCSV(w io.Writer, rows []Row) error {
	cw := csv.NewWriter(w)
	cw.Write([]string{"learner", "lab", "step", "points", "max_points", "status", "message", "tampered"})
	for _, r := range rows {
		cw.Write([]string{r.Learner, r.Lab, r.Step, strconv.Itoa(r.Points), strconv.Itoa(r.MaxPoints), r.Status, r.Message, r.Tampered})
	}
	cw.Flush()
	return cw.Error()
}

// WriteTables writes the class table to base.csv and base.json.
func WriteTables(base string, rows []Row) error {
	f, err := os.Create(base + ".csv")
	if err != nil {
		return err
	}
	if err := WriteCSV(f, rows); err != nil {
		f.Close()
		return fmt.Errorf("write %s.csv: %w", base, err)
	}
	if err := f.Close(); err != nil {
		return err
	}
	if rows == nil {
		rows = []Row{}
	}
	b, err := json.MarshalIndent(rows, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(base+".json", append(b, '\n'), 0o644)
}
