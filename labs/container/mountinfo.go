//go:build linux

package container

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"strings"
)

// mount is one line of /proc/PID/mountinfo (proc(5)).
type mount struct {
	Root, Target, Options, FSType, Source, Super string
}

// readMountinfo reads a mountinfo file.
func readMountinfo(path string) ([]mount, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return parseMountinfo(f)
}

// parseMountinfo parses mountinfo text: "36 35 98:0 /mnt1 /mnt2 rw,noatime
// master:1 - ext3 /dev/root rw,errors=continue", optional fields ending at "-".
func parseMountinfo(r io.Reader) ([]mount, error) {
	var out []mount
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		sep := -1
		for i := 6; i < len(f); i++ {
			if f[i] == "-" {
				sep = i
				break
			}
		}
		if sep < 0 || sep+3 > len(f) {
			return nil, fmt.Errorf("mountinfo: malformed line %q", sc.Text())
		}
		m := mount{Root: unescape(f[3]), Target: unescape(f[4]), Options: f[5], FSType: f[sep+1], Source: unescape(f[sep+2])}
		if sep+3 < len(f) {
			m.Super = f[sep+3]
		}
		out = append(out, m)
	}
	return out, sc.Err()
}

// unescape undoes mountinfo's octal escapes (\040 for a space).
func unescape(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) {
			var c byte
			if _, err := fmt.Sscanf(s[i+1:i+4], "%03o", &c); err == nil {
				b.WriteByte(c)
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// mountAt returns the top mount at target (the last one listed there).
func mountAt(mounts []mount, target string) (mount, bool) {
	var m mount
	found := false
	for _, x := range mounts {
		if x.Target == target {
			m, found = x, true
		}
	}
	return m, found
}

// option returns the value of name=value in a comma-separated option list.
func option(opts, name string) (string, bool) {
	for _, o := range strings.Split(opts, ",") {
		if v, ok := strings.CutPrefix(o, name+"="); ok {
			return v, true
		}
	}
	return "", false
}

// hasFlag reports whether a comma-separated option list holds flag.
func hasFlag(opts, flag string) bool {
	for _, o := range strings.Split(opts, ",") {
		if o == flag {
			return true
		}
	}
	return false
}
