package ns

import (
	"testing"
	"time"
)

func TestParseOffsets(t *testing.T) {
	year := 365 * 24 * time.Hour
	tests := []struct {
		name, text string
		want       Offsets
		err        bool
	}{
		{name: "zero", text: "monotonic           0         0\nboottime            0         0\n"},
		{name: "a year of boot", text: "monotonic 0 0\nboottime 31536000 0\n", want: Offsets{Boottime: year}},
		{name: "negative", text: "monotonic -10 500000000\nboottime 0 1\n", want: Offsets{Monotonic: -10*time.Second + 500*time.Millisecond, Boottime: 1}},
		{name: "one clock", text: "monotonic 0 0\n", err: true},
		{name: "bad clock", text: "realtime 0 0\nmonotonic 0 0\nboottime 0 0\n", err: true},
		{name: "nanoseconds out of range", text: "monotonic 0 1000000000\nboottime 0 0\n", err: true},
		{name: "not a number", text: "monotonic x 0\nboottime 0 0\n", err: true},
		{name: "overflow", text: "monotonic 9223372036 0\nboottime 0 0\n", err: true},
		{name: "empty", text: "", err: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseOffsets(tc.text)
			if (err != nil) != tc.err || got != tc.want {
				t.Errorf("ParseOffsets(%q) = %v, %v; want %v, error %v", tc.text, got, err, tc.want, tc.err)
			}
		})
	}
}
