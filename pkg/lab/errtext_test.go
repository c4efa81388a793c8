package lab

import (
	"errors"
	"testing"
)

func TestErrTextAndOr(t *testing.T) {
	if got := ErrText(nil); got != "" {
		t.Errorf("ErrText(nil) = %q; want \"\"", got)
	}
	if got := ErrText(errors.New("no")); got != "no" {
		t.Errorf("ErrText(no) = %q; want \"no\"", got)
	}
	for _, tt := range []struct{ s, empty, want string }{
		{"", "nil", "nil"},
		{"EPERM", "nil", "EPERM"},
		{"", "", ""},
	} {
		if got := Or(tt.s, tt.empty); got != tt.want {
			t.Errorf("Or(%q, %q) = %q; want %q", tt.s, tt.empty, got, tt.want)
		}
	}
}
