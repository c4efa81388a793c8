//go:build linux

package ipc

import (
	"slices"
	"strings"
	"testing"

	"github.com/nslab/nslab/pkg/lab/labtest"
)

// TestLabShape checks the steps and the docs page (labtest.CheckLab).
func TestLabShape(t *testing.T) { labtest.CheckLab(t, Lab, 100) }

func TestParseSysVIPC(t *testing.T) {
	const head = "       key      msqid perms      cbytes       qnum lspid lrpid   uid   gid  cuid  cgid      stime      rtime      ctime\n"
	tests := []struct {
		name, text string
		want       []sysvEntry
		bad        bool
	}{
		{name: "empty", text: head},
		{name: "nothing", text: ""},
		{name: "two", text: head + "    305419896          0   600           0          0     0     0     0     0     0     0          0          0 1700000000\n" +
			"   -559038737          1   600           0          0     0     0     0     0     0     0          0          0 1700000000\n",
			want: []sysvEntry{{Kind: "msg", Key: 0x12345678, ID: 0}, {Kind: "msg", Key: -559038737, ID: 1}}},
		{name: "short", text: head + "12\n", bad: true},
		{name: "not a number", text: head + "key id\n", bad: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseSysVIPC("msg", strings.NewReader(tt.text))
			if (err != nil) != tt.bad || !slices.Equal(got, tt.want) {
				t.Errorf("parseSysVIPC(%q) = %v, %v; want %v, error %v", tt.text, got, err, tt.want, tt.bad)
			}
		})
	}
}

func TestParseObjects(t *testing.T) {
	tests := []struct {
		name  string
		words []string
		want  Objects
		bad   bool
	}{
		{name: "three", words: []string{"1", "2", "3"}, want: Objects{Msg: 1, Shm: 2, Sem: 3}},
		{name: "two", words: []string{"1", "2"}, bad: true},
		{name: "not a number", words: []string{"1", "x", "3"}, bad: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseObjects(tt.words)
			if (err != nil) != tt.bad || (!tt.bad && got != tt.want) {
				t.Errorf("parseObjects(%q) = %v, %v; want %v, error %v", tt.words, got, err, tt.want, tt.bad)
			}
		})
	}
}

func TestEntryWords(t *testing.T) {
	e := sysvEntry{Kind: "shm", Key: 0x1234, ID: 7}
	if got, want := e.word(), "shm:4660:7"; got != want {
		t.Errorf("word() = %q; want %q", got, want)
	}
	if got, want := e.String(), "shm key 0x1234 id 7"; got != want {
		t.Errorf("String() = %q; want %q", got, want)
	}
}
