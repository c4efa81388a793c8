package lab

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"sync"
	"time"
)

// envelope is the one line the runner writes to the harness: the step's
// report or why there is none, and where in the learner's code it broke.
type envelope struct {
	PID    int             `json:"pid"`              // the runner, in the lab host
	Report json.RawMessage `json:"report,omitempty"` // the run half's report
	Error  string          `json:"error,omitempty"`  // the run half's error, or its panic
	Where  string          `json:"where,omitempty"`  // file:line of a panic in the lab's code
	TODO   bool            `json:"todo,omitempty"`   // the error is an unwritten step's (lab.TODO)
}

// Outcome is what became of one step run by Exec.
type Outcome struct {
	Err      error         // nil when the step passed (or was skipped)
	Skip     string        // why the step could not run here; "" when it ran
	Output   string        // what the step's processes printed, made safe to show (Safe)
	Timeout  bool          // the step was cut at its time limit
	Duration time.Duration // from start to verdict
	// Procs are the processes the step's check showed in namespace tables,
	// for the lab's diagram (Diagram).
	Procs []Proc
}

// Safe makes what learner code printed safe to show among test output that
// a program parses: control characters (test2json's ^V framing marker, escape
// sequences) are written in caret notation, every line is prefixed with
// "| ", so that no line can pass for a test's verdict or a CI command, and
// the text is cut to max bytes.
func Safe(text string, max int) string {
	cut := false
	if len(text) > max {
		text, cut = text[len(text)-max:], true
	}
	var b strings.Builder
	for line := range strings.Lines(strings.TrimRight(text, "\n")) {
		b.WriteString("| ")
		for _, r := range strings.TrimSuffix(line, "\n") {
			switch {
			case r == '\t':
				b.WriteRune(r)
			case r < 0x20:
				b.WriteByte('^')
				b.WriteRune(r + '@')
			case r == 0x7f:
				b.WriteString("^?")
			default:
				b.WriteRune(r)
			}
		}
		b.WriteByte('\n')
	}
	if cut {
		return fmt.Sprintf("| (only the last %d bytes)\n%s", max, b.String())
	}
	return b.String()
}

// frameRE matches a frame's file line in a Go stack trace: "\t/path/file.go:42 +0x1d".
var frameRE = regexp.MustCompile(`(?m)^\t(\S+\.go):(\d+)`)

// PanicSite returns file:line of the first frame of a Go stack trace that
// lies in a lab's code (a path with /labs/ in it, not a test file), or "".
func PanicSite(trace string) string {
	for _, m := range frameRE.FindAllStringSubmatch(trace, -1) {
		file := m[1]
		if i := strings.LastIndex(file, "/labs/"); i >= 0 && !strings.HasSuffix(file, "_test.go") {
			return file[i+1:] + ":" + m[2]
		}
	}
	return ""
}

// capBuffer keeps the last max bytes written to it, for many writers.
type capBuffer struct {
	mu  sync.Mutex
	b   []byte
	max int
}

func (c *capBuffer) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.b = append(c.b, p...)
	if over := len(c.b) - 2*c.max; over > 0 {
		c.b = append(c.b[:0], c.b[len(c.b)-c.max:]...)
	}
	return len(p), nil
}

func (c *capBuffer) String() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return string(c.b)
}
