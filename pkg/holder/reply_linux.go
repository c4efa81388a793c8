package holder

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"golang.org/x/sys/unix"
)

// Command is one holder command: it takes the words after its name and
// returns the words of its answer.
type Command func(args []string) ([]string, error)

// Commands are a holder's commands by name.
type Commands map[string]Command

// Answer runs the command named by words[0] with the other words and
// returns its reply line, without the newline.
func (c Commands) Answer(words []string) string {
	if len(words) == 0 {
		return "err - empty command"
	}
	cmd, ok := c[words[0]]
	if !ok {
		return fmt.Sprintf("err - unknown command %q", words[0])
	}
	return Reply(cmd(words[1:]))
}

// Reply formats the answer of a command: "ok WORDS", or "err ERRNO MESSAGE"
// when err is not nil.
func Reply(words []string, err error) string {
	if err != nil {
		return fmt.Sprintf("err %s %s", Errno(err), strings.ReplaceAll(err.Error(), "\n", " "))
	}
	return strings.TrimSpace("ok " + strings.Join(words, " "))
}

// Serve answers each line of standard input with answer(its words) on
// standard output, until standard input closes; it returns the exit status
// for the holder's entrypoint, 0. A panic in answer goes on: the spawn shim
// turns an unwritten step's into exit status 3 and one line on stderr.
func Serve(answer func(words []string) string) int {
	if err := serve(os.Stdin, os.Stdout, answer); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return 0
}

func serve(r io.Reader, w io.Writer, answer func(words []string) string) error {
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		if _, err := fmt.Fprintln(w, answer(strings.Fields(sc.Text()))); err != nil {
			return fmt.Errorf("holder: write an answer: %w", err)
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("holder: read a command: %w", err)
	}
	return nil
}

// ParseReply reads the answer line to cmd: the words after "ok", or a
// *CommandError for "err ERRNO MESSAGE".
func ParseReply(cmd, line string) ([]string, error) {
	f := strings.Fields(line)
	switch {
	case len(f) > 0 && f[0] == "ok":
		return f[1:], nil
	case len(f) > 1 && f[0] == "err":
		msg := strings.TrimSpace(strings.TrimPrefix(strings.TrimPrefix(line, "err "), f[1]))
		return nil, &CommandError{Cmd: cmd, Errno: errnoValue(f[1]), Msg: msg}
	}
	return nil, fmt.Errorf("holder: %s: unexpected answer %q", cmd, line)
}

// CommandError is a holder's "err" reply.
type CommandError struct {
	Cmd   string     // the command, as sent
	Errno unix.Errno // 0 when the failure was not a system call's
	Msg   string
}

func (e *CommandError) Error() string { return e.Cmd + ": " + e.Msg }

// Unwrap returns the error number, so that errors.Is(err, unix.ENOENT) works.
func (e *CommandError) Unwrap() error {
	if e.Errno == 0 {
		return nil
	}
	return e.Errno
}

// Errno names the error number of err, "ENOENT", or returns "-" when it has none.
func Errno(err error) string {
	var errno unix.Errno
	if errors.As(err, &errno) && unix.ErrnoName(errno) != "" {
		return unix.ErrnoName(errno)
	}
	return "-"
}

// errnoValue is the error number called name ("ENOENT"), or 0.
func errnoValue(name string) unix.Errno {
	for e := unix.Errno(1); e < 256; e++ {
		if unix.ErrnoName(e) == name {
			return e
		}
	}
	return 0
}

// ListDir is a command that names the entries of the directory args[0],
// sorted (os.ReadDir sorts them).
func ListDir(args []string) ([]string, error) {
	if len(args) != 1 {
		return nil, errors.New("usage: DIR")
	}
	entries, err := os.ReadDir(args[0])
	if err != nil {
		return nil, err
	}
	out := make([]string, 0, len(entries))
	for _, e := range entries {
		out = append(out, e.Name())
	}
	return out, nil
}
