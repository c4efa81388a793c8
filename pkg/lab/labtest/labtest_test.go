package labtest

import (
	"errors"
	"strconv"
	"testing"
)

func TestParses(t *testing.T) {
	Parses(t, "Atoi", strconv.Atoi, []Parse[int]{
		{Name: "number", Text: "42", Want: 42},
		{Name: "word", Text: "x", Bad: true},
	})
}

func TestEdits(t *testing.T) {
	type report struct{ N int }
	judge := func(r report) error {
		if r.N != 1 {
			return errors.New("N is " + strconv.Itoa(r.N) + "; want 1")
		}
		return nil
	}
	Edits(t, func() report { return report{N: 1} }, judge, []Edit[report]{
		{Name: "good"},
		{Name: "two", Change: func(r *report) { r.N = 2 }, Want: "N is 2"},
	})
}

func TestFailsWith(t *testing.T) {
	FailsWith(t, nil, "")
	FailsWith(t, errors.New("a b c"), "b")
}
