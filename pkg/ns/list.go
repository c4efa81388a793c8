package ns

import (
	"bufio"
	"errors"
	"io"
	"slices"
	"sort"
	"strconv"
	"strings"
)

// listKinds are the kinds [List] reports, as lsns(8) does: one per
// namespace type, without the *_for_children views.
var listKinds = [...]Kind{Cgroup, IPC, Mnt, Net, PID, Time, User, UTS}

// ListKinds returns the kinds [List] reports, as lsns(8) does: one per
// namespace type, without the *_for_children views; a new slice each call.
func ListKinds() []Kind { return slices.Clone(listKinds[:]) }

// Info describes one namespace on the machine, as a row of lsns(8).
type Info struct {
	ID       ID     `json:"-"`
	Kind     Kind   `json:"type"`
	Inode    uint64 `json:"ns"`
	Link     string `json:"id"`
	NProcs   int    `json:"nprocs"`
	PID      int    `json:"pid"`       // the lowest PID in the namespace
	UID      int    `json:"uid"`       // the real UID of that process
	Command  string `json:"command"`   // its command line
	OwnerUID int    `json:"owner_uid"` // creator of the owning user namespace (NS_GET_OWNER_UID), -1 when unknown
	// Owner is the inode of the user namespace that owns this one
	// (NS_GET_USERNS; for a user namespace, its parent), Parent the inode of
	// the parent of a PID or user namespace (NS_GET_PARENT): 0 when outside
	// the caller's scope or not hierarchical, as lsns(8) shows them (ONS, PNS).
	Owner  uint64 `json:"owner_ns,omitempty"`
	Parent uint64 `json:"parent_ns,omitempty"`
}

// Member is one process seen in one namespace; List gathers these from /proc.
type Member struct {
	ID      ID
	PID     int
	UID     int
	Command string
}

// Aggregate groups members by namespace into rows sorted by kind order and
// inode, counting processes and keeping the lowest PID with its command.
func Aggregate(members []Member) []Info {
	rows := map[ID]*Info{}
	for _, m := range members {
		key := ID{Kind: m.ID.Kind.Base(), Dev: m.ID.Dev, Inode: m.ID.Inode}
		r, ok := rows[key]
		if !ok {
			r = &Info{ID: key, Kind: key.Kind, Inode: key.Inode, Link: key.String(), PID: m.PID, UID: m.UID, Command: m.Command, OwnerUID: -1}
			rows[key] = r
		}
		r.NProcs++
		if m.PID < r.PID {
			r.PID, r.UID, r.Command = m.PID, m.UID, m.Command
		}
	}
	out := make([]Info, 0, len(rows))
	for _, r := range rows {
		out = append(out, *r)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Inode != out[j].Inode {
			return out[i].Inode < out[j].Inode
		}
		return out[i].Kind < out[j].Kind
	})
	return out
}

// errNoUID is returned by ParseStatusUID when the status text has no Uid line.
var errNoUID = errors.New("no Uid: line in status")

// ParseStatusUIDText is ParseStatusUID for a string.
func ParseStatusUIDText(s string) (int, error) { return ParseStatusUID(strings.NewReader(s)) }

// ParseStatusUID returns the real UID from the text of /proc/PID/status.
func ParseStatusUID(r io.Reader) (int, error) {
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		rest, ok := strings.CutPrefix(sc.Text(), "Uid:")
		if !ok {
			continue
		}
		fields := strings.Fields(rest)
		if len(fields) == 0 {
			return -1, errNoUID
		}
		return strconv.Atoi(fields[0])
	}
	return -1, errNoUID
}
