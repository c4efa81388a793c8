//go:build linux

package user_test

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/nslab/nslab/labs/user"
	"github.com/nslab/nslab/pkg/spawn"
)

// TestLabShape checks that the steps are numbered 01.. in order and that the
// docs page has the section every failure message points to.
func TestLabShape(t *testing.T) {
	page, err := os.ReadFile(repoFile(user.Lab.Doc()))
	if err != nil {
		t.Fatal(err)
	}
	total := 0
	for i, s := range user.Lab.Steps {
		if want := fmt.Sprintf("%02d", i+1); s.ID != want {
			t.Errorf("step %d has ID %q, want %q", i, s.ID, want)
		}
		if anchor := fmt.Sprintf("<a id=%q></a>", s.AnchorID()); !strings.Contains(string(page), anchor) {
			t.Errorf("%s has no %s for step %s", user.Lab.Doc(), anchor, s.ID)
		}
		if heading := fmt.Sprintf("## Step %s: %s", s.ID, s.Title); !strings.Contains(string(page), heading) {
			t.Errorf("%s has no heading %q", user.Lab.Doc(), heading)
		}
		if s.Run == nil || s.Explain == "" || len(s.Hints) == 0 || s.Points <= 0 {
			t.Errorf("step %s lacks a Run, an Explain, hints or points", s.ID)
		}
		total += s.Points
	}
	if total != 50 {
		t.Errorf("the lab is worth %d points, want 50", total)
	}
	if user.Lab.TestFunc() != "TestUser" {
		t.Errorf("TestFunc() = %q, want TestUser", user.Lab.TestFunc())
	}
}

// repoFile finds path from the repository root through this file's source
// path, so that a test binary run from another directory finds it too.
func repoFile(path string) string {
	_, self, _, ok := runtime.Caller(0)
	if !ok {
		return filepath.Join("..", "..", path)
	}
	return filepath.Join(filepath.Dir(self), "..", "..", path)
}

func TestParseStatus(t *testing.T) {
	const full = "Name:\tcat\nUid:\t65534\t65534\t65534\t65534\nGid:\t100\t101\t102\t103\nCapInh:\t0000000000000000\nCapEff:\t000001ffffffffff\n"
	tests := []struct {
		name    string
		text    string
		want    user.Status
		wantErr bool
	}{
		{name: "status", text: full, want: user.Status{UID: 65534, EUID: 65534, GID: 100, CapEff: 0x1ffffffffff}},
		{name: "no CapEff", text: "Uid:\t0\t0\t0\t0\nGid:\t0\t0\t0\t0\n", wantErr: true},
		{name: "short Uid", text: "Uid:\t0\t0\nGid:\t0\t0\t0\t0\nCapEff:\t0\n", wantErr: true},
		{name: "bad caps", text: "Uid:\t0\t0\t0\t0\nGid:\t0\t0\t0\t0\nCapEff:\tzz\n", wantErr: true},
		{name: "empty", text: "", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := user.ParseStatus(tt.text)
			if (err != nil) != tt.wantErr || (!tt.wantErr && got != tt.want) {
				t.Errorf("ParseStatus(%q) = %+v, %v; want %+v, error %v", tt.text, got, err, tt.want, tt.wantErr)
			}
		})
	}
}

func TestParseIDMap(t *testing.T) {
	tests := []struct {
		name    string
		text    string
		want    []spawn.IDMap
		wantErr bool
	}{
		{name: "unwritten", text: "", want: nil},
		{name: "root", text: "         0      65534          1\n", want: []spawn.IDMap{{ContainerID: 0, HostID: 65534, Size: 1}}},
		{name: "two lines", text: "0 0 1\n1 100001 65535\n", want: []spawn.IDMap{{ContainerID: 0, HostID: 0, Size: 1}, {ContainerID: 1, HostID: 100001, Size: 65535}}},
		{name: "initial", text: "0 0 4294967295\n", want: []spawn.IDMap{{ContainerID: 0, HostID: 0, Size: 4294967295}}},
		{name: "two fields", text: "0 1\n", wantErr: true},
		{name: "negative", text: "0 -1 1\n", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := user.ParseIDMap(tt.text)
			if (err != nil) != tt.wantErr || !slices.Equal(got, tt.want) {
				t.Errorf("ParseIDMap(%q) = %v, %v; want %v, error %v", tt.text, got, err, tt.want, tt.wantErr)
			}
		})
	}
}
