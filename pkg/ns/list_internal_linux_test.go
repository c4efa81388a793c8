package ns

import "testing"

func TestLinkInode(t *testing.T) {
	for _, tt := range []struct {
		text string
		want uint64
		ok   bool
	}{
		{"uts:[4026531838]", 4026531838, true},
		{"pid:[4026531836]", 4026531836, true},
		{"uts:[0]", 0, false},
		{"uts:[]", 0, false},
		{"uts:[12", 0, false},
		{"uts:[-1]", 0, false},
		{"uts:[18446744073709551616]", 0, false},
		{"", 0, false},
		{"4026531838", 0, false},
	} {
		if got, ok := linkInode([]byte(tt.text)); got != tt.want || ok != tt.ok {
			t.Errorf("linkInode(%q) = %d, %v; want %d, %v", tt.text, got, ok, tt.want, tt.ok)
		}
	}
}
