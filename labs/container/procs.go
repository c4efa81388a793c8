//go:build linux

package container

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/nslab/nslab/pkg/host"
	"github.com/nslab/nslab/pkg/ns"
)

// procsIn lists, sorted, the PIDs in proc (a /proc directory as the
// reader sees it) of the processes in PID namespace id.
func procsIn(proc string, id ns.ID) []int {
	var out []int
	entries, _ := os.ReadDir(proc)
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		got, err := ns.GetPath(filepath.Join(proc, e.Name(), "ns", "pid"))
		if err == nil && got.Equal(id) {
			out = append(out, pid)
		}
	}
	slices.Sort(out)
	return out
}

// outerPID finds, in the caller's /proc, the process of PID namespace id
// that is inner there: what the caller calls it.
func outerPID(id ns.ID, inner int) (int, error) {
	for _, pid := range procsIn("/proc", id) {
		b, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "status"))
		if err != nil {
			continue
		}
		pids, err := host.NSpid(string(b))
		if err == nil && pids[len(pids)-1] == inner {
			return pid, nil
		}
	}
	return 0, fmt.Errorf("no process is PID %d in PID namespace %s", inner, id)
}

// ids reads the Uid or Gid line of /proc/PID/status text: real, effective, saved, file system.
func ids(status, name string) string {
	v, _ := host.StatusField(status, name)
	return strings.Join(strings.Fields(v), " ")
}
