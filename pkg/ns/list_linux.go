package ns

import (
	"bytes"
	"os"
	"strconv"
	"strings"
)

// List returns every namespace that some process on the machine is in, like
// lsns(8): processes that cannot be read, or exit during the scan, are passed
// over, as lsns does. Namespaces held only by a bind mount or an open file are
// not found.
func List() ([]Info, error) {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil, &Error{Op: "list", Path: "/proc", Err: err}
	}
	var members []Member
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		members = append(members, membersOf(pid)...)
	}
	rows := Aggregate(members)
	for i := range rows {
		rows[i].OwnerUID = ownerUID(rows[i].PID, rows[i].Kind)
	}
	return rows, nil
}

// membersOf reads one process's namespaces; an unreadable process gives none.
func membersOf(pid int) []Member {
	uid, cmd := processOwner(pid), command(pid)
	var ms []Member
	for _, k := range ListKinds {
		id, err := stat(pid, k)
		if err != nil {
			continue
		}
		ms = append(ms, Member{ID: id, PID: pid, UID: uid, Command: cmd})
	}
	return ms
}

// ownerUID is the UID that created the user namespace owning pid's namespace of kind k.
func ownerUID(pid int, k Kind) int {
	h, err := Open(pid, k)
	if err != nil {
		return -1
	}
	defer h.Close()
	if k != User {
		owner, err := h.UserNS()
		if err != nil {
			return -1
		}
		defer owner.Close()
		h = owner
	}
	uid, err := h.OwnerUID()
	if err != nil {
		return -1
	}
	return uid
}

// command returns a process's command line with spaces between arguments, or
// its comm name in brackets' stead for kernel threads, as ps and lsns do.
func command(pid int) string {
	b, err := os.ReadFile(ProcDir(pid) + "/cmdline")
	if err == nil && len(b) > 0 {
		return strings.TrimSpace(string(bytes.ReplaceAll(bytes.TrimRight(b, "\x00"), []byte{0}, []byte{' '})))
	}
	comm, _ := os.ReadFile(ProcDir(pid) + "/comm")
	return strings.TrimSpace(string(comm))
}

// processOwner returns the real UID from /proc/PID/status, or -1.
func processOwner(pid int) int {
	f, err := os.Open(ProcDir(pid) + "/status")
	if err != nil {
		return -1
	}
	defer f.Close()
	uid, err := ParseStatusUID(f)
	if err != nil {
		return -1
	}
	return uid
}
