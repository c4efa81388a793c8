package mount

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"

	"github.com/nslab/nslab/pkg/host"
)

// Mount is one line of /proc/PID/mountinfo (proc(5)).
type Mount struct {
	ID, Parent   int
	Major, Minor int
	Root         string   // the path inside the file system that is mounted here ("/usr" for a bind of /usr)
	Point        string   // the mount point, relative to the reading process's root
	Options      string   // per-mount options: "ro,nosuid,relatime"
	Optional     []string // optional fields: "shared:1", "master:2", "propagate_from:3", "unbindable"
	FSType       string
	Source       string
	SuperOptions string
}

// ReadOnly reports whether the mount itself is read-only.
func (m Mount) ReadOnly() bool { return hasOption(m.Options, "ro") }

// HasOption reports whether the per-mount options include opt.
func (m Mount) HasOption(opt string) bool { return hasOption(m.Options, opt) }

func hasOption(list, opt string) bool {
	for _, o := range strings.Split(list, ",") {
		if o == opt {
			return true
		}
	}
	return false
}

// ReadMountinfo reads and parses a mountinfo file, such as
// /proc/thread-self/mountinfo.
func ReadMountinfo(path string) ([]Mount, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	m, err := ParseMountinfo(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return m, nil
}

// ParseMountinfo reads mountinfo text, one Mount per line.
func ParseMountinfo(r io.Reader) ([]Mount, error) {
	var out []Mount
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for n := 1; sc.Scan(); n++ {
		if strings.TrimSpace(sc.Text()) == "" {
			continue
		}
		m, err := parseLine(sc.Text())
		if err != nil {
			return nil, fmt.Errorf("mountinfo line %d: %w", n, err)
		}
		out = append(out, m)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read mountinfo: %w", err)
	}
	return out, nil
}

// parseLine parses "36 35 98:0 /mnt1 /mnt2 rw,noatime master:1 - ext3 /dev/root rw,errors=continue".
func parseLine(line string) (Mount, error) {
	var m Mount
	f := strings.Fields(line)
	sep := -1
	for i := 6; i < len(f); i++ {
		if f[i] == "-" {
			sep = i
			break
		}
	}
	if len(f) < 7 || sep < 0 || len(f) < sep+3 {
		return m, fmt.Errorf("%q: want at least 6 fields, a \"-\" and 2 or 3 more", line)
	}
	var err [4]error
	m.ID, err[0] = strconv.Atoi(f[0])
	m.Parent, err[1] = strconv.Atoi(f[1])
	major, minor, ok := strings.Cut(f[2], ":")
	m.Major, err[2] = strconv.Atoi(major)
	m.Minor, err[3] = strconv.Atoi(minor)
	for _, e := range err {
		if e != nil || !ok {
			return m, fmt.Errorf("%q: bad mount ID, parent ID or major:minor", line)
		}
	}
	m.Root, m.Point, m.Options = host.Unescape(f[3]), host.Unescape(f[4]), f[5]
	m.Optional = f[6:sep]
	m.FSType, m.Source = f[sep+1], host.Unescape(f[sep+2])
	if len(f) > sep+3 {
		m.SuperOptions = f[sep+3]
	}
	return m, nil
}

// Find returns the topmost mount on point: the last one listed, since a
// mount over another comes after it.
func Find(mounts []Mount, point string) (Mount, bool) {
	for i := len(mounts) - 1; i >= 0; i-- {
		if mounts[i].Point == point {
			return mounts[i], true
		}
	}
	return Mount{}, false
}

// Under returns the mounts on dir or below it.
func Under(mounts []Mount, dir string) []Mount {
	var out []Mount
	for _, m := range mounts {
		if m.Point == dir || strings.HasPrefix(m.Point, strings.TrimSuffix(dir, "/")+"/") {
			out = append(out, m)
		}
	}
	return out
}

// Propagation is what the optional fields of one mountinfo line say about
// how mount and unmount events travel to and from that mount.
type Propagation struct {
	Shared        int  // peer group of "shared:N"; 0: not shared
	Master        int  // peer group of "master:N" this mount receives from; 0: not a slave
	PropagateFrom int  // "propagate_from:N": the nearest dominant peer group visible to the reader
	Unbindable    bool // "unbindable"
}

// Type names the propagation as mount(8) does: "shared", "slave",
// "shared+slave" (a slave that is also shared with peers of its own),
// "unbindable" or "private".
func (p Propagation) Type() string {
	switch {
	case p.Unbindable:
		return "unbindable"
	case p.Shared != 0 && p.Master != 0:
		return "shared+slave"
	case p.Shared != 0:
		return "shared"
	case p.Master != 0:
		return "slave"
	}
	return "private"
}

func (p Propagation) String() string {
	s := p.Type()
	if p.Shared != 0 {
		s += fmt.Sprintf(" shared:%d", p.Shared)
	}
	if p.Master != 0 {
		s += fmt.Sprintf(" master:%d", p.Master)
	}
	return s
}

// table lists "point fstype" for each mount, sorted: what a copy of a mount
// table keeps, since every copied mount gets a new ID.
func table(mounts []Mount) []string {
	out := make([]string, len(mounts))
	for i, m := range mounts {
		out[i] = m.Point + " " + m.FSType
	}
	slices.Sort(out)
	return out
}

// sameIDs returns the mount IDs found in both tables.
func sameIDs(a, b []Mount) []int {
	ids := map[int]bool{}
	for _, m := range a {
		ids[m.ID] = true
	}
	var out []int
	for _, m := range b {
		if ids[m.ID] {
			out = append(out, m.ID)
		}
	}
	return out
}
