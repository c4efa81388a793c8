//go:build linux

package mount

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/nslab/nslab/pkg/holder"
	"github.com/nslab/nslab/pkg/ns"
	"github.com/nslab/nslab/pkg/spawn"
)

// A Holder is a child in a mount namespace of its own that runs one lab
// command per line written to its standard input (package holder; the
// commands are in entry_linux.go). A command prefixed with "@NAME " runs on
// the holder's peer NAME: a thread of the holder that moved to a mount
// namespace of its own (command "peer"). The holder exits when its standard
// input is closed; its namespaces, and every mount in them, go with it.
type Holder struct {
	*holder.Holder
	peers map[string]int // peer name -> TID
}

// StartHolder starts a holder in new namespaces of kinds (ns.Mnt among
// them) and lets it run.
func StartHolder(ctx context.Context, kinds ...ns.Kind) (*Holder, error) {
	h, err := holder.Start(ctx, spawn.Config{New: kinds, Entrypoint: entryHolder})
	if err != nil {
		return nil, err
	}
	if err := h.Release(); err != nil {
		return nil, err
	}
	return &Holder{Holder: h, peers: map[string]int{}}, nil
}

// Peer makes a thread of the holder leave for a new mount namespace: with
// private, through the learner's EnterPrivateMountNS (step 03); without,
// through a bare unshare(CLONE_NEWNS), which keeps every mount's propagation.
func (h *Holder) Peer(name string, private bool) error {
	how := "keep"
	if private {
		how = "private"
	}
	words, err := h.Do("peer %s %s", name, how)
	if err != nil {
		return err
	}
	tid, err := strconv.Atoi(strings.Join(words, ""))
	if err != nil {
		return fmt.Errorf("holder: peer %s: bad TID %q", name, words)
	}
	h.peers[name] = tid
	return nil
}

// Path returns the /proc path of file for the holder ("mountinfo",
// "ns/mnt"), or for its peer's thread when peer is not empty.
func (h *Holder) Path(peer, file string) string {
	if peer == "" {
		return fmt.Sprintf("/proc/%d/%s", h.PID(), file)
	}
	return fmt.Sprintf("/proc/%d/task/%d/%s", h.PID(), h.peers[peer], file)
}

// Mounts reads the mount table of the holder, or of its peer.
func (h *Holder) Mounts(peer string) ([]Mount, error) {
	return ReadMountinfo(h.Path(peer, "mountinfo"))
}

// MntNS returns the mount namespace of the holder, or of its peer, as "mnt:[INODE]".
func (h *Holder) MntNS(peer string) (string, error) {
	link, err := os.Readlink(h.Path(peer, "ns/mnt"))
	if err != nil {
		return "", fmt.Errorf("read the mount namespace: %w", err)
	}
	return link, nil
}

// ReadMountinfo reads and parses a mountinfo file, such as /proc/PID/mountinfo.
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
