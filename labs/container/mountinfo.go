//go:build linux

package container

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/nslab/nslab/pkg/host"
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

// parseMountinfo parses mountinfo text (host.ParseMountLine), one mount a
// line; a malformed line is an error.
func parseMountinfo(r io.Reader) ([]mount, error) {
	var out []mount
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		m, ok := host.ParseMountLine(sc.Text())
		if !ok {
			return nil, fmt.Errorf("mountinfo: malformed line %q", sc.Text())
		}
		out = append(out, mount{Root: m.Root, Target: m.Target, Options: m.Options, FSType: m.FSType, Source: m.Source, Super: m.SuperOptions})
	}
	return out, sc.Err()
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
