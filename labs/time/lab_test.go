//go:build linux

package timens

import (
	"testing"
	"time"

	"github.com/nslab/nslab/pkg/lab/labtest"
)

// TestLabShape checks the steps and the docs page (labtest.CheckLab).
func TestLabShape(t *testing.T) { labtest.CheckLab(t, Lab, 60) }

func TestOffsetsTextRoundTrip(t *testing.T) {
	for _, o := range []Offsets{{}, offsetsStep02, offsetsStep03, offsetsStep04, offsetsStep05, offsetsStep06, tooFar,
		{Monotonic: -time.Nanosecond, Boottime: -time.Second}} {
		text := offsetsText(o)
		got, err := parseOffsets(text)
		if err != nil || got != o {
			t.Errorf("parseOffsets(offsetsText(%v)) = %v, %v; text %q", o, got, err, text)
		}
	}
	if got, want := offsetsText(offsetsStep02), "monotonic -2 500000000\nboottime 604800 250000000\n"; got != want {
		t.Errorf("offsetsText(%v) = %q; want %q", offsetsStep02, got, want)
	}
}

func TestParseUptime(t *testing.T) {
	labtest.Parses(t, "parseUptime", parseUptime, []labtest.Parse[time.Duration]{
		{Name: "fraction", Text: "878.66 1375.96\n", Want: 878*time.Second + 660*time.Millisecond},
		{Name: "a year", Text: "31536889.34 1386.75", Want: 31536889*time.Second + 340*time.Millisecond},
		{Name: "whole", Text: "12 3", Want: 12 * time.Second},
		{Name: "one field", Text: "12.5", Bad: true},
		{Name: "negative", Text: "-1.00 0.00", Bad: true},
		{Name: "not a number", Text: "x.00 0.00", Bad: true},
	})
}

func TestSpan(t *testing.T) {
	tests := map[time.Duration]string{
		-1500 * time.Millisecond:     "-1.5s",
		365 * day:                    "365 days",
		day:                          "1 day",
		7*day + 250*time.Millisecond: "7 days + 250ms",
		-(2*day + time.Second):       "-(2 days + 1s)",
	}
	for d, want := range tests {
		if got := span(d); got != want {
			t.Errorf("span(%d) = %q; want %q", d, got, want)
		}
	}
}

func TestShift(t *testing.T) {
	s := shift{name: "CLOCK_BOOTTIME", inside: 7*day + 10*time.Second, offset: 7 * day, before: 9 * time.Second, after: 11 * time.Second}
	if !s.ok() {
		t.Errorf("%+v: not ok; want ok", s)
	}
	s.offset = 2 * day // the mistake of reading CLOCK_MONOTONIC's offset
	if s.ok() {
		t.Errorf("%+v: ok; want not ok", s)
	}
	s = shift{name: "CLOCK_REALTIME", inside: 80 * time.Second, before: 10 * time.Second, after: 90 * time.Second}
	if !s.ok() || s.ahead() != 30*time.Second {
		t.Errorf("%+v: ok %v, ahead %v; want ok, 30s", s, s.ok(), s.ahead())
	}
}
