//go:build linux

package uts_test

import (
	"strings"
	"testing"

	"github.com/nslab/nslab/labs/uts"
	"github.com/nslab/nslab/pkg/lab/labtest"
)

// TestLabShape checks the steps and the docs page (labtest.CheckLab).
func TestLabShape(t *testing.T) { labtest.CheckLab(t, uts.Lab, 50) }

func TestParseNames(t *testing.T) {
	tests := []struct {
		name, line string
		want       uts.Names
		wantErr    bool
	}{
		{name: "report", line: `{"hostname":"a","domainname":"b"}` + "\n", want: uts.Names{Hostname: "a", Domainname: "b"}},
		{name: "unset domain", line: `{"hostname":"vm","domainname":"(none)"}`, want: uts.Names{Hostname: "vm", Domainname: "(none)"}},
		{name: "not json", line: "vm", wantErr: true},
		{name: "empty", line: "", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := uts.ParseNames(tt.line)
			if (err != nil) != tt.wantErr || got != tt.want {
				t.Errorf("ParseNames(%q) = %v, %v; want %v, error %v", tt.line, got, err, tt.want, tt.wantErr)
			}
		})
	}
}

func TestLabNamesDiffer(t *testing.T) {
	a, b := uts.LabNames(), uts.LabNames()
	if a == b || !strings.HasPrefix(a.Hostname, "uts-lab-") || len(a.Hostname) > 64 || len(a.Domainname) > 64 {
		t.Errorf("LabNames() = %v, then %v; want two different uts-lab-* names of at most 64 bytes", a, b)
	}
}
