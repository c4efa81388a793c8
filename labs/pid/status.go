package pid

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/nslab/nslab/pkg/host"
)

// StatusField returns the value of the line "NAME:\tVALUE" of
// /proc/PID/status text, without surrounding blanks; ok is false when there is
// no such line.
func StatusField(status, name string) (value string, ok bool) { return host.StatusField(status, name) }

// SigMask parses a signal mask of /proc/PID/status (SigCgt, SigIgn, …): 16
// hexadecimal digits, bit N-1 set for signal N.
func SigMask(hex string) (uint64, error) {
	m, err := strconv.ParseUint(strings.TrimSpace(hex), 16, 64)
	if err != nil {
		return 0, fmt.Errorf("signal mask %q: %w", hex, err)
	}
	return m, nil
}

// procStat is what the lab reads from /proc/PID/stat.
type procStat struct {
	Comm  string // the command name, without its parentheses
	State byte   // R, S, D, Z, T, …
	PPID  int    // the parent's PID, as the reader's PID namespace sees it
}

// parseStat parses /proc/PID/stat text. The command name may hold blanks and
// parentheses, so the fields after it are found from the last ')'.
func parseStat(text string) (procStat, error) {
	open, end := strings.IndexByte(text, '('), strings.LastIndexByte(text, ')')
	if open < 0 || end < open {
		return procStat{}, fmt.Errorf("stat %q: no (comm)", text)
	}
	f := strings.Fields(text[end+1:])
	if len(f) < 2 || len(f[0]) != 1 {
		return procStat{}, fmt.Errorf("stat %q: no state and parent after (comm)", text)
	}
	ppid, err := strconv.Atoi(f[1])
	if err != nil {
		return procStat{}, fmt.Errorf("stat %q: parent %q: %w", text, f[1], err)
	}
	return procStat{Comm: text[open+1 : end], State: f[0][0], PPID: ppid}, nil
}

// hasSignal reports whether mask (SigCgt, SigIgn, … of /proc/PID/status)
// holds signal sig: bit N-1 for signal N.
func hasSignal(mask uint64, sig int) bool {
	return sig > 0 && sig <= 64 && mask&(1<<uint(sig-1)) != 0
}
