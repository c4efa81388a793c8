//go:build ignore

// testsum reads go test's JSON events (go tool test2json) on stdin and
// prints why each skipped test was skipped, which tests failed, and one
// line of totals: "N passed, N failed, N skipped". Subtests count one each.
// With -totals it prints the totals line only. .ci/unprivileged uses it.
package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"strings"
)

type event struct {
	Action, Package, Test, Output string
}

func main() {
	totalsOnly := flag.Bool("totals", false, "print the totals line only")
	flag.Parse()
	out := map[string][]string{} // a test's own output lines
	var pass, fail, skip int
	sc := bufio.NewScanner(os.Stdin)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var e event
		if json.Unmarshal(sc.Bytes(), &e) != nil || e.Test == "" {
			continue
		}
		switch e.Action {
		case "output":
			if line := strings.TrimSpace(e.Output); line != "" && !strings.HasPrefix(line, "=== ") && !strings.HasPrefix(line, "--- ") {
				out[e.Test] = append(out[e.Test], line)
			}
		case "pass":
			pass++
		case "fail":
			fail++
			if !*totalsOnly {
				fmt.Printf("    FAIL %s\n", e.Test)
			}
		case "skip":
			skip++
			if !*totalsOnly {
				fmt.Printf("    SKIP %s: %s\n", e.Test, reason(out[e.Test]))
			}
		}
	}
	fmt.Printf("%d passed, %d failed, %d skipped\n", pass, fail, skip)
}

// reason is the line that says why a test skipped: the one with "skip" in
// it, else its last line of output.
func reason(lines []string) string {
	for i := len(lines) - 1; i >= 0; i-- {
		if strings.Contains(strings.ToLower(lines[i]), "skip") {
			return lines[i]
		}
	}
	if len(lines) == 0 {
		return "(no reason printed)"
	}
	return lines[len(lines)-1]
}
