package grade

import (
	"bytes"
	"fmt"
	"io"
	"os"
)

// Env is where a run's results go.
type Env struct {
	Results string // the path of results.json; "" writes none
	Actions bool   // in GitHub Actions (GITHUB_ACTIONS=true)
	Summary string // $GITHUB_STEP_SUMMARY
	Output  string // $GITHUB_OUTPUT
}

// EnvFromOS reads the environment GitHub Actions sets; results.json goes to
// results.
func EnvFromOS(results string) Env {
	return Env{
		Results: results,
		Actions: os.Getenv("GITHUB_ACTIONS") == "true",
		Summary: os.Getenv("GITHUB_STEP_SUMMARY"),
		Output:  os.Getenv("GITHUB_OUTPUT"),
	}
}

// Publish writes results.json and prints the table on w. In GitHub Actions
// it also prints the whole test output in a folded group, writes the job
// summary, the Classroom result (result=BASE64, points, max_score) in
// $GITHUB_OUTPUT, and the error annotations. Everything printed that a
// learner's code could have written is guarded by a fresh stop-commands
// token.
func Publish(w io.Writer, r *Report, env Env) error {
	if env.Results != "" {
		b, err := r.JSON()
		if err != nil {
			return err
		}
		if err := os.WriteFile(env.Results, b, 0o644); err != nil {
			return fmt.Errorf("write results: %w", err)
		}
	}
	if !env.Actions {
		r.WriteTable(w)
		return nil
	}
	if err := publishLog(w, r); err != nil {
		return err
	}
	if env.Summary != "" {
		if err := appendFile(env.Summary, r.Summary()); err != nil {
			return err
		}
	}
	if env.Output != "" {
		res, err := r.ClassroomResult()
		if err != nil {
			return err
		}
		total, maxScore := r.Points()
		if err := appendFile(env.Output, fmt.Sprintf("result=%s\npoints=%d\nmax_score=%d\n", res, total, maxScore)); err != nil {
			return err
		}
	}
	return nil
}

// publishLog prints, for the workflow log, the test output folded in a
// group and the table, each guarded, then the annotations.
func publishLog(w io.Writer, r *Report) error {
	token, err := Token()
	if err != nil {
		return err
	}
	var table bytes.Buffer
	r.WriteTable(&table)
	fmt.Fprintln(w, "::group::go test output (what your tests printed; workflow commands in it are ignored)")
	if err := Guard(w, token, r.Output); err != nil {
		return err
	}
	fmt.Fprintln(w, "::endgroup::")
	if err := Guard(w, token, table.String()); err != nil {
		return err
	}
	for _, a := range r.Annotations() {
		fmt.Fprintln(w, a)
	}
	return nil
}
