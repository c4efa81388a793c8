package grade

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"html"
	"io"
	"os"
	"strings"
)

// MaxAnnotations is the most ::error annotations a run prints.
const MaxAnnotations = 10

// SummaryLimit bounds the job summary; GitHub refuses one over 1 MiB.
const SummaryLimit = 256 << 10

// Summary returns the Markdown job summary: the total, then a table per lab,
// each step that did not pass folded in a <details> with its message and
// output. Past SummaryLimit the details are left out.
func (r *Report) Summary() string {
	var b strings.Builder
	total, maxScore := r.Points()
	fmt.Fprintf(&b, "## nslab: %d/%d points\n\n%d of %d steps pass.\n", total, maxScore, r.Count(Pass), len(r.Steps))
	for _, l := range r.labs() {
		got, all, passed, steps := r.labPoints(l)
		fmt.Fprintf(&b, "\n### %s: %d/%d points, %d/%d steps\n\n| step | title | points | result |\n| --- | --- | --- | --- |\n", l.Name, got, all, passed, steps)
		var details []*StepResult
		for _, s := range r.Steps {
			if s.Lab != l {
				continue
			}
			fmt.Fprintf(&b, "| %s | %s | %d/%d | %s |\n", s.Step.ID, cell(s.Step.Title), s.Score, s.Step.Points, icon(s.Outcome))
			if s.Outcome != Pass {
				details = append(details, s)
			}
		}
		for _, s := range details {
			d := detailsOf(s)
			if b.Len()+len(d) > SummaryLimit-1024 {
				b.WriteString("\n(more failures left out: the summary would be too long; see the job log)\n")
				return b.String()
			}
			b.WriteString(d)
		}
	}
	for _, p := range r.Problems {
		fmt.Fprintf(&b, "\n**problem:** %s\n", cell(clip(p, 500)))
	}
	if len(r.Tampered) > 0 {
		fmt.Fprintf(&b, "\n**tampered** (changed outside the solution regions, ignored by the grade): %s\n", cell(clip(r.TamperedList(), 2000)))
	}
	return b.String()
}

func icon(o Outcome) string {
	if o == Pass {
		return "✅ pass"
	}
	return "❌ " + string(o)
}

// cell makes text safe in a Markdown table cell.
func cell(s string) string {
	s = html.EscapeString(strings.ReplaceAll(s, "\n", " "))
	return strings.NewReplacer("|", `\|`, "`", "'").Replace(s)
}

func detailsOf(s *StepResult) string {
	body := s.Detail
	if body == "" {
		body = s.Message
	}
	if s.Output != "" && s.Output != body {
		body += "\n\n" + s.Output
	}
	return fmt.Sprintf("\n<details><summary>%s %s: %s</summary>\n\n<pre>%s</pre>\n\nSee <code>%s</code>.\n</details>\n",
		s.Lab.Name, s.Step.ID, cell(clip(s.Message, 200)), html.EscapeString(clip(body, 4000)), html.EscapeString(s.Lab.Anchor(s.Step)))
}

// Annotations returns at most MaxAnnotations ::error workflow commands, one
// per step that did not pass, on its solution region when it is known.
func (r *Report) Annotations() []string {
	var out []string
	for _, s := range r.Steps {
		if s.Outcome == Pass || len(out) == MaxAnnotations {
			continue
		}
		props := []string{}
		if s.File != "" {
			props = append(props, "file="+escapeProperty(s.File), fmt.Sprintf("line=%d", s.Line))
		}
		title := fmt.Sprintf("%s step %s: %s (%d/%d)", s.Lab.Name, s.Step.ID, s.Step.Title, s.Score, s.Step.Points)
		props = append(props, "title="+escapeProperty(title))
		msg := fmt.Sprintf("%s (see %s)", clip(s.Message, 300), s.Lab.Anchor(s.Step))
		out = append(out, "::error "+strings.Join(props, ",")+"::"+escapeData(msg))
	}
	return out
}

// escapeData escapes the message of a workflow command as the runner
// expects, so it stays on one line.
func escapeData(s string) string {
	return strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A").Replace(s)
}

func escapeProperty(s string) string {
	return strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A", ":", "%3A", ",", "%2C").Replace(s)
}

// Token returns a random resume token for ::stop-commands::.
func Token() (string, error) {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("make a stop-commands token: %w", err)
	}
	return hex.EncodeToString(b), nil
}

// Guard writes text that holds what a learner's code printed so that the
// Actions runner reads no workflow command in it: between
// ::stop-commands::token and ::token::. The token is random, and one the
// text contains is refused.
func Guard(w io.Writer, token, text string) error {
	if strings.Contains(text, token) {
		return fmt.Errorf("the text to guard contains the stop-commands token")
	}
	if text != "" && !strings.HasSuffix(text, "\n") {
		text += "\n"
	}
	_, err := fmt.Fprintf(w, "::stop-commands::%s\n%s::%s::\n", token, text, token)
	return err
}

// ClassroomResult is the value of the result output the Classroom reporter
// reads (as NSLAB_RESULTS): results.json, base64.
func (r *Report) ClassroomResult() (string, error) {
	b, err := json.Marshal(r.Results())
	if err != nil {
		return "", err
	}
	return base64.StdEncoding.EncodeToString(b), nil
}

// appendFile appends text to the file GitHub names in an environment
// variable ($GITHUB_STEP_SUMMARY, $GITHUB_OUTPUT).
func appendFile(path, text string) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return err
	}
	_, err = f.WriteString(text)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("append to %s: %w", path, err)
	}
	return nil
}
