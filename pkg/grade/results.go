package grade

import (
	"encoding/json"
	"strconv"
)

// Results is results.json: the shape GitHub Classroom's grading reporter
// (version, status, max_score, tests[].score) and Exercism's test runner
// interface (version, status, message, tests[] with name, status, message,
// output, task_id) read.
type Results struct {
	Version  int          `json:"version"`
	Status   string       `json:"status"` // pass, fail, or error when no step could run
	Message  string       `json:"message,omitempty"`
	Score    int          `json:"score"`
	MaxScore int          `json:"max_score"`
	Tests    []TestResult `json:"tests"`
	Pristine string       `json:"pristine,omitempty"` // what the solution regions were graded in
	Tampered []string     `json:"tampered,omitempty"` // files changed outside the regions: "path (edited)"
}

// TestResult is one step in results.json.
type TestResult struct {
	Name     string  `json:"name"`   // TestUTS/01_new_namespace
	Status   string  `json:"status"` // pass, fail, or error when it did not run
	Score    int     `json:"score"`
	MaxScore int     `json:"max_score"`
	Message  string  `json:"message,omitempty"`
	Output   string  `json:"output,omitempty"` // at most MaxOutput characters
	TaskID   int     `json:"task_id"`          // the step's number within its lab
	Duration float64 `json:"duration"`         // seconds
	Filename string  `json:"filename,omitempty"`
	LineNo   int     `json:"line_no,omitempty"`
}

// MaxOutput is the most characters of a test's output results.json holds.
const MaxOutput = 500

// Results returns the report as results.json has it. The tests' scores add
// up to Score, the total WriteTable prints.
func (r *Report) Results() Results {
	total, maxScore := r.Points()
	res := Results{Version: 1, Status: r.Status(), Score: total, MaxScore: maxScore, Tests: []TestResult{}, Pristine: r.Pristine}
	for _, c := range r.Tampered {
		res.Tampered = append(res.Tampered, c.String())
	}
	if res.Status == "error" && len(r.Steps) > 0 {
		res.Message = r.Steps[0].Message
	}
	for _, s := range r.Steps {
		status := string(s.Outcome)
		if s.Outcome == Skip {
			status = "error" // it did not run
		}
		id, _ := strconv.Atoi(s.Step.ID)
		msg := s.Message
		if s.Outcome == Fail && s.Detail != "" {
			msg = clip(s.Detail, 1000)
		}
		res.Tests = append(res.Tests, TestResult{
			Name: s.Name(), Status: status, Score: s.Score, MaxScore: s.Step.Points,
			Message: msg, Output: clip(s.Output, MaxOutput), TaskID: id,
			Duration: s.Duration.Seconds(), Filename: s.File, LineNo: s.Line,
		})
	}
	return res
}

// JSON returns results.json, indented.
func (r *Report) JSON() ([]byte, error) {
	b, err := json.MarshalIndent(r.Results(), "", "  ")
	return append(b, '\n'), err
}
