package host

import (
	"fmt"
	"os"
	"strconv"

	"github.com/nslab/nslab/pkg/ns"
	"golang.org/x/sys/unix"
)

// Take reads the state of the machine as the calling process sees it: its
// names, mounts, links, routes, sysctls, IPC objects, named network
// namespaces, children, the processes it left behind and its leftovers in /tmp.
//
// Processes left behind (Snapshot.Processes). The first Take puts EnvOwner
// in the caller's environment. A process counts as the caller's when it is
// a descendant of the caller, or when its environment (as execve(2) gave
// it) holds the caller's EnvOwner, which a double-forked daemon keeps
// though its parent is now PID 1 or a subreaper. It is listed when it is
// alive, not a zombie and not a direct child (those are Children), and
// still so after a grace period of up to half a second, so that a process
// ending, or an orphan that PID 1 reaps a moment late, is not reported; Diff
// reports those that did not exist at the first snapshot (same PID and
// start time). Processes of other programs, such as the test binaries of
// other packages run in parallel by go test, never carry the caller's
// EnvOwner: they are never reported, whatever namespaces they make. Not seen:
// a process whose ancestors cleared their environment before it forked
// away from the caller (env -i, a testscript exec without EnvOwner).
//
// Leftovers in /tmp (Snapshot.TmpFiles): entries of /tmp named nslab-*,
// go-test-script* (when this binary links testscript) or after one of the
// tests of this binary (t.TempDir), found in its symbol table.
//
// POSIX message queues: as root, the reading thread makes a detached mount
// of mqueue for the IPC namespace it is in (fsopen, fsmount: attached to no
// mount table) and lists its root. Without root they are
// read from /dev/mqueue where an mqueue is mounted there, else not at all
// (MQueues is nil and Diff leaves them out).
func Take() (Snapshot, error) {
	markOwner()
	s, err := takeCommon("/proc/self", true)
	if err != nil {
		return s, err
	}
	s.NetNS = names("/run/netns")
	procs := readProcs()
	s.Children = children(procs, os.Getpid())
	if s.Processes, err = leftProcesses(procs); err != nil {
		return s, err
	}
	s.TmpFiles = tmpFiles()
	return s, nil
}

// TakeOf takes the snapshot of the namespaces of another process, whose
// /proc directory is dir as the caller reads it (such as
// /proc/4242/root/proc/7): its names, IPC objects, network links, routes and
// the sysctls of its network and IPC namespaces, read on a thread that joins
// its uts, ipc and net namespaces, and its mounts from dir/mountinfo. It
// needs root: without it the error wraps ErrNeedRoot. Named network
// namespaces, children, processes and /tmp are the machine's: not read.
func TakeOf(dir string) (Snapshot, error) {
	if os.Geteuid() != 0 {
		return Snapshot{}, fmt.Errorf("snapshot the namespaces of %s as UID %d: %w", dir, os.Geteuid(), ErrNeedRoot)
	}
	return takeCommon(dir, false)
}

// takeCommon reads what Take and TakeOf share; machine says whether dir is
// the caller itself (read in place) or another process (visited).
func takeCommon(dir string, machine bool) (Snapshot, error) {
	var s Snapshot
	read := func() error { return readNamespaced(&s, machine) }
	var err error
	if machine {
		err = read()
	} else {
		err = ns.DoDir(dir, []ns.Kind{ns.UTS, ns.IPC, ns.Net}, read)
	}
	if err != nil {
		return s, fmt.Errorf("snapshot %s: %w", dir, err)
	}
	mi, err := readProcFile(dir + "/mountinfo")
	if err != nil {
		return s, fmt.Errorf("snapshot %s: read the mount table: %w", dir, err)
	}
	s.Mounts = ParseMountinfo(string(mi))
	mnt := ""
	if !machine {
		mnt = dir + "/ns/mnt"
	}
	ids, err := uniqueIDs(mnt)
	if err != nil {
		return s, fmt.Errorf("snapshot %s: %w", dir, err)
	}
	for i := range s.Mounts {
		s.Mounts[i].Unique = ids[s.Mounts[i].ID]
	}
	return s, nil
}

// readNamespaced reads what the calling thread's uts, ipc and net namespaces hold.
func readNamespaced(s *Snapshot, machine bool) error {
	var u unix.Utsname
	if err := unix.Uname(&u); err != nil {
		return fmt.Errorf("uname: %w", err)
	}
	s.Hostname = unix.ByteSliceToString(u.Nodename[:])
	s.Domainname = unix.ByteSliceToString(u.Domainname[:])
	for _, kind := range []string{"msg", "shm", "sem"} {
		b, _ := readProcFile("/proc/sysvipc/" + kind) // absent without System V IPC: nothing to protect
		s.SysVIPC = append(s.SysVIPC, ParseSysVIPC(kind, string(b))...)
	}
	s.Sysctls = readSysctls(machine)
	var err error
	if s.MQueues, err = mqueues(!machine); err != nil {
		return err
	}
	if s.Links, err = readLinks(); err != nil {
		return err
	}
	s.Routes, err = readRoutes(s.Links)
	return err
}

// names lists a directory's entries; a missing directory has none.
func names(dir string) []string {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil
	}
	out := make([]string, 0, len(entries))
	for _, e := range entries {
		out = append(out, e.Name())
	}
	return out
}

// children lists the children of pid among procs (zombies included: a zombie is a child not reaped).
func children(procs map[int]ProcStat, pid int) []string {
	var out []string
	for _, p := range procs {
		if p.PPID == pid {
			out = append(out, fmt.Sprintf("%d %s", p.PID, p.Comm))
		}
	}
	return out
}

// readProcs reads /proc/PID/stat of every process; those that end meanwhile are passed over.
func readProcs() map[int]ProcStat {
	out := map[int]ProcStat{}
	for _, name := range names("/proc") {
		if pid, err := strconv.Atoi(name); err == nil {
			if p, ok := readStat(pid); ok {
				out[pid] = p
			}
		}
	}
	return out
}

func readStat(pid int) (ProcStat, bool) {
	b, err := readProcFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return ProcStat{}, false
	}
	return ParseProcStat(string(b))
}
