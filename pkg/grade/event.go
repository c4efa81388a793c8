package grade

import (
	"bufio"
	"encoding/json"
	"io"
	"strings"
)

// Event is one line of go test -json (see go doc test2json), with the build
// events go test adds (build-output, build-fail).
type Event struct {
	Action      string
	Package     string
	Test        string
	Output      string
	Elapsed     float64 // seconds, on pass, fail and skip
	ImportPath  string  // build events: "pkg [pkg.test]"
	FailedBuild string  // on a package's fail: the package that did not build
}

// ReadEvents reads a go test -json stream. A line that is not JSON (go test
// prints some errors plainly) becomes an output event of no package.
func ReadEvents(r io.Reader) ([]Event, error) {
	var events []Event
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64*1024), 16*1024*1024)
	for sc.Scan() {
		line := sc.Text()
		var e Event
		if err := json.Unmarshal([]byte(line), &e); err != nil || e.Action == "" {
			e = Event{Action: "output", Output: line + "\n"}
		}
		events = append(events, e)
	}
	return events, sc.Err()
}

// framing reports whether a line of a test's output is go test's own
// (=== RUN, --- FAIL: …) rather than something the test printed.
func framing(line string) bool {
	t := strings.TrimLeft(line, " ")
	for _, p := range []string{"=== RUN", "=== PAUSE", "=== CONT", "=== NAME", "--- PASS", "--- FAIL", "--- SKIP"} {
		if strings.HasPrefix(t, p) {
			return true
		}
	}
	return false
}
