package host

import (
	"debug/elf"
	"errors"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/nslab/nslab/pkg/ns"
	"golang.org/x/sys/unix"
)

// grace is how long a process the caller owns may take to end before it
// counts as left behind; poll is how often it is looked at meanwhile.
const (
	grace = 500 * time.Millisecond
	poll  = 20 * time.Millisecond
)

// owner is the caller's mark, set by the first Take.
var owner struct {
	once  sync.Once
	kv    string // EnvOwner=PID:START
	since uint64 // clock ticks after boot when it was set: processes older cannot carry it
}

// markOwner puts EnvOwner in the caller's environment, once.
func markOwner() {
	owner.once.Do(func() {
		self, _ := readStat(os.Getpid())
		owner.since = uptimeTicks()
		value := fmt.Sprintf("%d:%d", self.PID, self.Start)
		owner.kv = EnvOwner + "=" + value
		os.Setenv(EnvOwner, value)
	})
}

// uptimeTicks is the time since boot in clock ticks (USER_HZ, 100 on Linux), rounded down.
func uptimeTicks() uint64 {
	b, err := os.ReadFile("/proc/uptime")
	if err != nil {
		return 0
	}
	secs, err := strconv.ParseFloat(strings.Fields(string(b) + " 0")[0], 64)
	if err != nil || secs < 1 {
		return 0
	}
	return uint64(secs*100) - 1
}

// marked reports whether p carries the caller's EnvOwner.
func marked(p ProcStat) bool {
	if p.Start < owner.since {
		return false
	}
	b, err := readProcFile("/proc/" + strconv.Itoa(p.PID) + "/environ")
	return err == nil && EnvHas(b, owner.kv)
}

// leftProcesses lists the processes of procs the caller owns that outlive the grace period.
func leftProcesses(procs map[int]ProcStat) ([]Process, error) {
	alive := settle(Owned(procs, os.Getpid(), marked))
	self, err := ns.Of(ns.Self)
	if err != nil {
		return nil, fmt.Errorf("snapshot the processes: read the caller's namespaces: %w", err)
	}
	var out []Process
	for _, p := range alive {
		out = append(out, Process{PID: p.PID, Start: p.Start, Comm: p.Comm, NS: nsDiff(self, p.PID)})
	}
	slices.SortFunc(out, func(a, b Process) int { return a.PID - b.PID })
	return out, nil
}

// settle waits up to the grace period for procs to end, and returns those still alive.
func settle(procs []ProcStat) []ProcStat {
	deadline := time.Now().Add(grace)
	for {
		procs = slices.DeleteFunc(procs, func(p ProcStat) bool {
			now, ok := readStat(p.PID)
			return !ok || now.Start != p.Start || now.State == 'Z'
		})
		if len(procs) == 0 || time.Now().After(deadline) {
			return procs
		}
		time.Sleep(poll)
	}
}

// nsDiff names the namespaces of pid that differ from self: "net:[4026532…] uts:[…]".
func nsDiff(self ns.Set, pid int) string {
	theirs, err := ns.Of(pid)
	if err != nil {
		return "namespaces unreadable: " + err.Error()
	}
	var out []string
	for _, k := range ns.ListKinds() {
		a, okA := self.Get(k)
		b, okB := theirs.Get(k)
		if okA && okB && !a.Equal(b) {
			out = append(out, b.String())
		}
	}
	return strings.Join(out, " ")
}

// tmpFiles lists the entries of /tmp that this binary could have left there:
// named after one of its tests, or made by testscript when it links it.
func tmpFiles() []string {
	out := TmpLeftovers(names("/tmp"), tmpPrefixes())
	slices.Sort(out)
	return out
}

// tmpPrefixes are the names of this binary's tests, and TestscriptPrefix
// when this binary links testscript, which makes such directories.
var tmpPrefixes = sync.OnceValue(func() []string {
	syms := symbols()
	var out []string
	if slices.Contains(syms, "github.com/rogpeppe/go-internal/testscript.Run") {
		out = append(out, TestscriptPrefix)
	}
	return append(out, TestNames(syms)...)
})

// symbols lists the function symbols of the running binary; a stripped binary has none.
func symbols() []string {
	f, err := elf.Open("/proc/self/exe")
	if err != nil {
		return nil
	}
	defer f.Close()
	syms, _ := f.Symbols()
	var out []string
	for _, s := range syms {
		if elf.ST_TYPE(s.Info) == elf.STT_FUNC {
			out = append(out, s.Name)
		}
	}
	return out
}

// readProcFile reads a small file of /proc with plain system calls: open,
// read until the end, close. os.ReadFile also stats the file and registers
// it with the runtime's poller, which triples the calls when a snapshot
// reads a file of every process on the machine.
func readProcFile(path string) ([]byte, error) {
	fd, err := unix.Open(path, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, &os.PathError{Op: "open", Path: path, Err: err}
	}
	defer unix.Close(fd)
	buf := make([]byte, 0, 1024)
	for {
		if len(buf) == cap(buf) {
			buf = slices.Grow(buf, cap(buf))
		}
		n, err := unix.Read(fd, buf[len(buf):cap(buf)])
		switch {
		case errors.Is(err, unix.EINTR):
			continue
		case err != nil:
			return nil, &os.PathError{Op: "read", Path: path, Err: err}
		case n == 0:
			return buf, nil
		}
		buf = buf[:len(buf)+n]
	}
}
