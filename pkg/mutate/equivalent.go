package mutate

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strconv"
	"strings"
)

// EquivalentFile is where a lab lists its equivalent mutants, relative to
// the lab's directory.
const EquivalentFile = "testdata/equivalent-mutants.txt"

// Equivalent is a mutant listed as unable to change behaviour, one line of
// the list:
//
//	labs/uts/uts.go:42 remove-statement cfg.Join = join -> (removed)  # why
//
// The file, line, operator, original and mutated line are as the report
// prints them; the reason, after "  # ", is required. Blank lines and lines
// starting with # are comments.
type Equivalent struct {
	File              string
	Line              int
	Operator          string
	Original, Mutated string
	Reason            string
}

// Matches says whether e lists mutant m.
func (e Equivalent) Matches(m Mutant) bool {
	return e.File == m.File && e.Line == m.Line && e.Operator == m.Operator && e.Original == m.Original && e.Mutated == m.Mutated
}

func (e Equivalent) String() string {
	return fmt.Sprintf("%s:%d %s %s -> %s  # %s", e.File, e.Line, e.Operator, e.Original, e.Mutated, e.Reason)
}

// ParseEquivalents reads a list of equivalent mutants; name is for errors.
func ParseEquivalents(name string, r io.Reader) ([]Equivalent, error) {
	var out []Equivalent
	sc := bufio.NewScanner(r)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		e, err := parseEquivalent(line)
		if err != nil {
			return nil, fmt.Errorf("%s:%d: %w", name, n, err)
		}
		out = append(out, e)
	}
	return out, sc.Err()
}

// ReadEquivalents reads the list at path; a missing file is an empty list.
func ReadEquivalents(path string) ([]Equivalent, error) {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return ParseEquivalents(path, f)
}

const equivalentUsage = `want "FILE:LINE OPERATOR ORIGINAL -> MUTATED  # REASON"`

func parseEquivalent(line string) (Equivalent, error) {
	body, reason, ok := strings.Cut(line, "  # ")
	if !ok || strings.TrimSpace(reason) == "" {
		return Equivalent{}, fmt.Errorf("no reason after \"  # \": %s", equivalentUsage)
	}
	loc, rest, ok1 := strings.Cut(strings.TrimSpace(body), " ")
	op, rest, ok2 := strings.Cut(rest, " ")
	orig, mut, ok3 := strings.Cut(rest, " -> ")
	file, num, ok4 := strings.Cut(loc, ":")
	n, err := strconv.Atoi(num)
	if !ok1 || !ok2 || !ok3 || !ok4 || err != nil || n < 1 {
		return Equivalent{}, fmt.Errorf("read %q: %s", body, equivalentUsage)
	}
	return Equivalent{File: file, Line: n, Operator: op, Original: strings.TrimSpace(orig), Mutated: strings.TrimSpace(mut), Reason: strings.TrimSpace(reason)}, nil
}
