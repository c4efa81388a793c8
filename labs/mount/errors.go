package mount

import "fmt"

// Error is a failed mount(2): what was mounted, where, how, and the cause.
type Error struct {
	Op             string // "mount"
	Source, Target string
	FSType         string
	Flags          uintptr
	Data           string
	Err            error
}

func (e *Error) Error() string {
	what := e.Source
	if e.FSType != "" {
		what = e.FSType + " " + e.Source
	}
	s := fmt.Sprintf("%s %s on %s (flags %#x", e.Op, what, e.Target, e.Flags)
	if e.Data != "" {
		s += ", " + e.Data
	}
	return s + "): " + e.Err.Error()
}

func (e *Error) Unwrap() error { return e.Err }
