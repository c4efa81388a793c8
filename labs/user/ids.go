//go:build linux

package user

import (
	"bufio"
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/nslab/nslab/pkg/host"
	"github.com/nslab/nslab/pkg/spawn"
)

// Status is what /proc/PID/status says of a process's identity.
type Status struct {
	UID    int    `json:"uid"`     // real UID, the first field of the Uid: line
	EUID   int    `json:"euid"`    // effective UID, the second
	GID    int    `json:"gid"`     // real GID
	CapEff uint64 `json:"cap_eff"` // effective capabilities, one bit per capability
}

// ParseStatus reads the Uid, Gid and CapEff lines of /proc/PID/status. The
// IDs are as the reader's user namespace sees them: the harness reading a
// lab host's process sees the IDs of the machine.
func ParseStatus(text string) (Status, error) {
	var st Status
	seen := 0
	sc := bufio.NewScanner(strings.NewReader(text))
	for sc.Scan() {
		key, val, ok := strings.Cut(sc.Text(), ":")
		if !ok {
			continue
		}
		f := strings.Fields(val)
		var err error
		switch key {
		case "Uid":
			err = parseIDs(f, &st.UID, &st.EUID)
		case "Gid":
			err = parseIDs(f, &st.GID)
		case "CapEff":
			if len(f) == 1 {
				st.CapEff, err = strconv.ParseUint(f[0], 16, 64)
			} else {
				err = fmt.Errorf("want one hexadecimal field")
			}
		default:
			continue
		}
		if err != nil {
			return st, fmt.Errorf("parse %s line %q of a status file: %w", key, sc.Text(), err)
		}
		seen++
	}
	if seen != 3 {
		return st, fmt.Errorf("parse a status file: want Uid, Gid and CapEff lines, found %d of them", seen)
	}
	return st, nil
}

// parseIDs reads the first len(out) of the four IDs of a Uid: or Gid: line.
func parseIDs(fields []string, out ...*int) error {
	if len(fields) != 4 {
		return fmt.Errorf("want 4 IDs, got %d", len(fields))
	}
	for i, p := range out {
		n, err := strconv.Atoi(fields[i])
		if err != nil {
			return err
		}
		*p = n
	}
	return nil
}

// readStatus reads and parses /proc/PID/status ("self" for the caller).
func readStatus(pid string) (Status, error) {
	b, err := os.ReadFile("/proc/" + pid + "/status")
	if err != nil {
		return Status{}, err
	}
	return ParseStatus(string(b))
}

// ParseIDMap reads /proc/PID/uid_map or gid_map: one "inside outside count"
// line per range. An empty file (no map written yet) is an empty map.
func ParseIDMap(text string) ([]spawn.IDMap, error) {
	var out []spawn.IDMap
	for _, line := range strings.Split(strings.TrimSpace(text), "\n") {
		f := strings.Fields(line)
		if len(f) == 0 {
			continue
		}
		if len(f) != 3 {
			return nil, fmt.Errorf("parse ID map line %q: want 3 fields", line)
		}
		var n [3]int
		for i := range f {
			v, err := strconv.ParseUint(f[i], 10, 32)
			if err != nil {
				return nil, fmt.Errorf("parse ID map line %q: %w", line, err)
			}
			n[i] = int(v)
		}
		out = append(out, spawn.IDMap{ContainerID: n[0], HostID: n[1], Size: n[2]})
	}
	return out, nil
}

// readIDMap reads and parses /proc/PID/FILE (uid_map or gid_map).
func readIDMap(pid int, file string) ([]spawn.IDMap, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/%s", pid, file))
	if err != nil {
		return nil, err
	}
	return ParseIDMap(string(b))
}

// fullCaps is the capability set with every capability the running kernel
// knows: what CapEff shows for root in its own user namespace.
func fullCaps() uint64 {
	last, err := host.ReadInt("/proc/sys/kernel/cap_last_cap")
	if err != nil || last >= 63 {
		return ^uint64(0)
	}
	return 1<<(last+1) - 1
}

// overflowUID is the UID that stands for an unmapped one (/proc/sys/kernel/overflowuid, 65534).
func overflowUID() int { return readIntOr("/proc/sys/kernel/overflowuid", 65534) }

// overflowGID is the GID that stands for an unmapped one.
func overflowGID() int { return readIntOr("/proc/sys/kernel/overflowgid", 65534) }

// readIntOr reads a number from a file, def when it cannot.
func readIntOr(path string, def int) int {
	n, err := host.ReadInt(path)
	if err != nil {
		return def
	}
	return n
}
