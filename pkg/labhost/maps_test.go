package labhost

import (
	"strings"
	"testing"
)

func TestSubordinateRange(t *testing.T) {
	tests := []struct {
		name, text string
		want       Range
		ok         bool
	}{
		{"root", "alice:100000:65536\nroot:200000:65536\n", Range{200000, Size}, true},
		{"root by UID", "0:300000:100000\n", Range{300000, Size}, true},
		{"too small", "root:200000:1000\n", Range{}, false},
		{"others only", "alice:100000:65536\n", Range{}, false},
		{"broken", "root:x:65536\nroot:1\n\n", Range{}, false},
		{"empty", "", Range{}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := SubordinateRange(strings.NewReader(tc.text), "root")
			if got != tc.want || ok != tc.ok {
				t.Errorf("SubordinateRange(%q) = %v, %v; want %v, %v", tc.text, got, ok, tc.want, tc.ok)
			}
		})
	}
}
