package host

import (
	"fmt"
	"os"
	"strconv"
	"strings"
)

// EnvOwner is the variable the first Take puts in the caller's environment:
// "PID:START" of the caller. Every process started afterwards inherits it,
// through forks and double forks, so that a process that outlives its parent
// still says whose it is (see Take).
const EnvOwner = "NSLAB_HOST_OWNER"

// ProcStat is what a snapshot needs of /proc/PID/stat (proc(5)).
type ProcStat struct {
	PID   int
	Comm  string
	State byte // R, S, D, Z, …
	PPID  int
	Start uint64 // field 22, starttime: clock ticks after boot
}

// ParseProcStat reads the text of /proc/PID/stat; the command name may hold
// spaces and parentheses, so it is what lies between the first "(" and the last ")".
func ParseProcStat(text string) (ProcStat, bool) {
	open, end := strings.IndexByte(text, '('), strings.LastIndexByte(text, ')')
	if open < 1 || end < open {
		return ProcStat{}, false
	}
	f := strings.Fields(text[end+1:]) // f[0] is field 3, state
	pid, err := strconv.Atoi(strings.TrimSpace(text[:open]))
	if err != nil || len(f) < 20 || len(f[0]) != 1 {
		return ProcStat{}, false
	}
	ppid, err1 := strconv.Atoi(f[1])
	start, err2 := strconv.ParseUint(f[19], 10, 64)
	if err1 != nil || err2 != nil {
		return ProcStat{}, false
	}
	return ProcStat{PID: pid, Comm: text[open+1 : end], State: f[0][0], PPID: ppid, Start: start}, true
}

// ParseStat returns the command name and parent PID from /proc/PID/stat text.
func ParseStat(text string) (comm string, ppid int, ok bool) {
	open, end := strings.IndexByte(text, '('), strings.LastIndexByte(text, ')')
	if open < 0 || end < open {
		return "", 0, false
	}
	f := strings.Fields(text[end+1:])
	if len(f) < 2 {
		return "", 0, false
	}
	ppid, err := strconv.Atoi(f[1])
	return text[open+1 : end], ppid, err == nil
}

// Owned picks, from every process of the machine, those that belong to the
// process self and may be left behind by it: alive (not a zombie, which is
// only waiting to be reaped), not self, not a direct child (Children lists
// those), and either a descendant of self or marked as self's (marked reads
// EnvOwner in the process's environment).
func Owned(procs map[int]ProcStat, self int, marked func(ProcStat) bool) []ProcStat {
	var out []ProcStat
	for pid, p := range procs {
		if pid == self || p.PPID == self || p.State == 'Z' {
			continue
		}
		if descends(procs, pid, self) || marked(p) {
			out = append(out, p)
		}
	}
	return out
}

// descends reports whether pid has self among its ancestors.
func descends(procs map[int]ProcStat, pid, self int) bool {
	for range len(procs) {
		p, ok := procs[pid]
		if !ok || p.PPID <= 1 {
			return false
		}
		if p.PPID == self {
			return true
		}
		pid = p.PPID
	}
	return false
}

// EnvHas reports whether the NUL-separated environment of /proc/PID/environ holds kv.
func EnvHas(environ []byte, kv string) bool {
	for _, e := range strings.Split(string(environ), "\x00") {
		if e == kv {
			return true
		}
	}
	return false
}

// TestscriptPrefix starts the names, in /tmp, of testscript's work
// directories: with t.TempDir's (named after the test), what a test binary
// of the course makes there. The course's own
// nslab-* directories are not counted: other binaries (the grader, a
// parallel test of another package) make them at the same moment, and
// learner code cannot write the machine's /tmp at all (a lab host has its own).
const TestscriptPrefix = "go-test-script"

// TmpLeftovers returns the names that start with one of prefixes.
func TmpLeftovers(names, prefixes []string) []string {
	var out []string
	for _, n := range names {
		for _, p := range prefixes {
			if strings.HasPrefix(n, p) {
				out = append(out, n)
				break
			}
		}
	}
	return out
}

// TestNames returns the names of the top-level tests among the symbols of a
// Go binary ("example.com/p_test.TestFoo" gives "TestFoo"): t.TempDir names
// its directory after the test. TestMain is not a test.
func TestNames(symbols []string) []string {
	var out []string
	for _, s := range symbols {
		slash := strings.LastIndexByte(s, '/')
		dot := strings.IndexByte(s[slash+1:], '.')
		if dot < 0 {
			continue
		}
		fn := s[slash+1+dot+1:]
		if isTestName(fn) {
			out = append(out, fn[:min(len(fn), 64)]) // t.TempDir cuts the name there
		}
	}
	return out
}

func isTestName(fn string) bool {
	rest, ok := strings.CutPrefix(fn, "Test")
	if !ok || fn == "TestMain" || strings.ContainsAny(fn, ".()*[]") {
		return false
	}
	return rest != "" && !(rest[0] >= 'a' && rest[0] <= 'z')
}

// Small files of /proc: a status file's fields, a number in a file.

// ReadInt reads a file that holds one number (a sysctl of /proc/sys, such as
// kernel/pid_max).
func ReadInt(path string) (int, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, err
	}
	return strconv.Atoi(strings.TrimSpace(string(b)))
}

// StatusField returns the value of the line "NAME:\tVALUE" of
// /proc/PID/status text, without surrounding blanks; ok is false when there
// is no such line.
func StatusField(status, name string) (value string, ok bool) {
	for line := range strings.Lines(status) {
		if rest, found := strings.CutPrefix(line, name+":"); found {
			return strings.TrimSpace(rest), true
		}
	}
	return "", false
}

// NSpid returns the PIDs of the NSpid line of /proc/PID/status text: the
// process's PID in the PID namespace of the proc mount that was read first,
// then in each nested one down to its own.
func NSpid(status string) ([]int, error) {
	v, ok := StatusField(status, "NSpid")
	if !ok {
		return nil, fmt.Errorf("no NSpid line in /proc/PID/status (Linux 4.1 or later has one)")
	}
	pids, err := PIDs(strings.Fields(v))
	if err != nil {
		return nil, fmt.Errorf("NSpid %q: %w", v, err)
	}
	return pids, nil
}

// PIDs parses words, at least one, each a positive number.
func PIDs(words []string) ([]int, error) {
	if len(words) == 0 {
		return nil, fmt.Errorf("no PIDs")
	}
	out := make([]int, len(words))
	for i, w := range words {
		n, err := strconv.Atoi(w)
		if err != nil || n <= 0 {
			return nil, fmt.Errorf("%q is not a PID", w)
		}
		out[i] = n
	}
	return out, nil
}
