package holder

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

func TestParseReply(t *testing.T) {
	tests := []struct {
		name  string
		line  string
		words []string
		errno unix.Errno
		msg   string // of a *CommandError
		bad   bool   // neither ok nor err
	}{
		{name: "ok", line: "ok\n", words: []string{}},
		{name: "ok words", line: "ok 1 two  3\n", words: []string{"1", "two", "3"}},
		{name: "err errno", line: "err ENOENT lookup 7: no such file or directory\n", errno: unix.ENOENT, msg: "lookup 7: no such file or directory"},
		{name: "err without errno", line: "err - unknown command \"x\"", msg: `unknown command "x"`},
		{name: "err unknown name", line: "err EWHAT odd", msg: "odd"},
		{name: "err alone", line: "err\n", bad: true},
		{name: "empty", line: "", bad: true},
		{name: "other", line: "panic: boom\n", bad: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			words, err := ParseReply("cmd", tt.line)
			var ce *CommandError
			switch {
			case tt.bad:
				if err == nil || errors.As(err, &ce) {
					t.Errorf("ParseReply(%q) = %q, %v; want an unexpected-answer error", tt.line, words, err)
				}
			case tt.words != nil:
				if err != nil || !slices.Equal(words, tt.words) {
					t.Errorf("ParseReply(%q) = %q, %v; want %q", tt.line, words, err, tt.words)
				}
			case !errors.As(err, &ce) || ce.Errno != tt.errno || ce.Msg != tt.msg || ce.Cmd != "cmd":
				t.Errorf("ParseReply(%q) error = %#v; want a *CommandError with errno %d, message %q", tt.line, err, tt.errno, tt.msg)
			}
		})
	}
}

func TestCommandErrorUnwrapsErrno(t *testing.T) {
	err := fmt.Errorf("step: %w", &CommandError{Cmd: "stat /x", Errno: unix.ENOENT, Msg: "no such file or directory"})
	if !errors.Is(err, unix.ENOENT) || Errno(err) != "ENOENT" {
		t.Errorf("errors.Is(%v, ENOENT) = false or Errno = %q; want true and ENOENT", err, Errno(err))
	}
	if err := (&CommandError{Cmd: "x", Msg: "bad"}); errors.Unwrap(err) != nil || Errno(err) != "-" {
		t.Errorf("a CommandError without errno unwraps to %v, Errno %q; want nil and -", errors.Unwrap(err), Errno(err))
	}
}

func TestAnswer(t *testing.T) {
	cmds := Commands{
		"echo": func(args []string) ([]string, error) { return args, nil },
		"fail": func([]string) ([]string, error) { return nil, fmt.Errorf("open /x:\nsecond line: %w", unix.EACCES) },
	}
	tests := []struct{ in, want string }{
		{"echo a b", "ok a b"},
		{"echo", "ok"},
		{"fail", "err EACCES open /x: second line: permission denied"},
		{"nope 1", `err - unknown command "nope"`},
		{"", "err - empty command"},
	}
	for _, tt := range tests {
		if got := cmds.Answer(strings.Fields(tt.in)); got != tt.want {
			t.Errorf("Answer(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestServe(t *testing.T) {
	var out strings.Builder
	cmds := Commands{"echo": func(args []string) ([]string, error) { return args, nil }}
	if err := serve(strings.NewReader("echo 1\n\necho  2 3\n"), &out, cmds.Answer); err != nil {
		t.Fatal(err)
	}
	if want := "ok 1\nerr - empty command\nok 2 3\n"; out.String() != want {
		t.Errorf("serve wrote %q, want %q", out.String(), want)
	}
}

func TestListDir(t *testing.T) {
	dir := t.TempDir()
	for _, name := range []string{"b", "a", "c"} {
		if err := os.WriteFile(filepath.Join(dir, name), nil, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if got, err := ListDir([]string{dir}); err != nil || !slices.Equal(got, []string{"a", "b", "c"}) {
		t.Errorf("ListDir(%s) = %q, %v; want [a b c]", dir, got, err)
	}
	if _, err := ListDir([]string{filepath.Join(dir, "none")}); !errors.Is(err, unix.ENOENT) {
		t.Errorf("ListDir of a missing directory: %v; want ENOENT", err)
	}
	if _, err := ListDir(nil); err == nil {
		t.Error("ListDir() without a directory worked; want a usage error")
	}
}
