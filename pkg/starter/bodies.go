package starter

import (
	"fmt"
	"regexp"
	"strings"
)

// Body is a solution region found by reading lines only, as in a file that
// need not parse (a learner's, with a syntax error in a region): the
// function around it is the nearest "func" line above it at the start of a
// line, outside every region.
type Body struct {
	Func       string // "StartInNewUTS"; "" when no func line is above it
	Begin, End int    // lines of the two markers, from 1
	Text       string // the lines between the markers, each ending in "\n"
}

// Key names a region in its file: the function around it and its place
// among that function's regions (StartInNewUTS#1).
func (b Body) Key(nth int) string { return fmt.Sprintf("%s#%d", b.Func, nth) }

var funcLine = regexp.MustCompile(`^func\s+(?:\([^)]*\)\s*)?(\w+)`)

// Bodies returns the solution regions of src in order. Unbalanced or
// nested markers are errors naming file and line.
func Bodies(file string, src []byte) ([]Body, error) {
	lines := strings.Split(string(src), "\n")
	var bodies []Body
	open := 0 // line of the open BEGIN, 0 if none
	for i, l := range lines {
		switch strings.TrimSpace(l) {
		case Begin:
			if open != 0 {
				return nil, &MarkerError{file, i + 1, fmt.Sprintf("nested BEGIN SOLUTION: the region opened at line %d is not closed yet", open)}
			}
			open = i + 1
		case End:
			if open == 0 {
				return nil, &MarkerError{file, i + 1, "END SOLUTION without a BEGIN SOLUTION before it"}
			}
			text := ""
			if i > open {
				text = strings.Join(lines[open:i], "\n") + "\n"
			}
			bodies = append(bodies, Body{Begin: open, End: i + 1, Text: text})
			open = 0
		}
	}
	if open != 0 {
		return nil, &MarkerError{file, open, "BEGIN SOLUTION is never closed by an END SOLUTION"}
	}
	for i := range bodies {
		bodies[i].Func = funcAbove(lines, bodies, bodies[i].Begin)
	}
	return bodies, nil
}

// funcAbove finds the name in the nearest func line above line (from 1)
// that lies outside every region.
func funcAbove(lines []string, bodies []Body, line int) string {
	for i := line - 1; i >= 1; i-- {
		if inside(bodies, i) {
			continue
		}
		if m := funcLine.FindStringSubmatch(lines[i-1]); m != nil {
			return m[1]
		}
	}
	return ""
}

func inside(bodies []Body, line int) bool {
	for _, b := range bodies {
		if line > b.Begin && line < b.End {
			return true
		}
	}
	return false
}

// Keys returns the key of each body (Body.Key), in order.
func Keys(bodies []Body) []string {
	seen := map[string]int{}
	keys := make([]string, len(bodies))
	for i, b := range bodies {
		seen[b.Func]++
		keys[i] = b.Key(seen[b.Func])
	}
	return keys
}
