//go:build linux

package network

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/nslab/nslab/pkg/holder"
	"github.com/nslab/nslab/pkg/lab"
	"github.com/nslab/nslab/pkg/ns"
	"github.com/nslab/nslab/pkg/spawn"
	"golang.org/x/sys/unix"
)

// entryHolder is the command loop of a Holder, run in a child of the lab binary.
const entryHolder = "network.holder"

// timeout bounds every wait of the lab: a TCP connection, an accept, a link going away.
const timeout = 5 * time.Second

func init() { spawn.Register(entryHolder, holderMain) }

// newCommands returns the commands of one holder, sorted by name. The
// learner's functions are marked with their step; the rest is the lab's own
// code and its independent witnesses (the net package of the standard
// library, /proc/net/route), which do not use the learner's code. The
// bastion's container, started by ctstart, lives in ct: each holder has its
// own, and nothing of it is package state.
func newCommands(ct *container) holder.Commands {
	return holder.Commands{
		"addr":      withLinkPrefix(AddAddress), // step 04
		"addrs":     addrs,
		"ctstart":   ct.start,
		"ctstop":    ct.stop,
		"dial":      dial,
		"kind":      withWord(kind),
		"labaddr":   withLinkPrefix(labAddress),
		"labmove":   withLinkPID(labMove),
		"labname":   withTwo(labRename),
		"labroute":  withLinkPrefix(labRoute),
		"labveth":   withTwo(labVeth),
		"links":     links,
		"linksof":   withPID(LinksOf),                                              // step 05
		"loup":      func([]string) ([]string, error) { return nil, LoopbackUp() }, // step 01
		"loupnocap": loopbackUpNoCap,                                               // step 01
		"ls":        holder.ListDir,
		"mountopts": withWord(mountOptions),
		"mountsys":  withWord(func(dir string) ([]string, error) { return nil, MountSysfs(dir) }), // step 02
		"move":      withLinkPID(MoveLink),                                                        // step 03
		"netdev":    netdev,                                                                       // step 02
		"ready":     func([]string) ([]string, error) { return nil, nil },
		"route":     withLinkPrefix(AddRoute), // step 04
		"routes":    routes,
		"serve":     serve,
		"state":     withWord(state),
		"tcpself":   tcpSelf,
		"veth":      withTwo(func(a, b string) error { return CreateVeth(a, b) }), // step 03
		"waitgone":  withWord(waitGone),
	}
}

// holderMain answers one line per command line until stdin closes. It first
// refuses to run in its parent's network namespace, which the parent passed
// as its only argument: nothing the lab does may reach the namespace of the
// process that started it (the lab host's, or the machine's). A learner's
// unwritten step panics out of it; the spawn shim turns that into exit
// status 3 and one line on stderr.
func holderMain(args []string) int {
	if len(args) != 1 {
		fmt.Fprintf(os.Stderr, "usage: %s PARENT-NET (the parent's network namespace, as ns.ID.Arg writes it); got %q\n", entryHolder, args)
		return 2
	}
	if err := ns.NotInParent(ns.Net, args[0], "configure the network"); err != nil {
		fmt.Fprintf(os.Stderr, "network holder: %v\n", err)
		return 2
	}
	ct := &container{}
	defer ct.close()
	cmds := newCommands(ct)
	return holder.Serve(func(words []string) string {
		if len(words) > 0 && words[0] == "ct" {
			return ct.relay(words[1:])
		}
		return cmds.Answer(words)
	})
}

// container is a bastion's container: a holder it started (ctstart), to
// which "ct CMD" relays CMD.
type container struct{ h *holder.Holder }

// relay passes a command to the container and returns its answer as it is.
func (c *container) relay(words []string) string {
	if c.h == nil {
		return "err - no container: ctstart first"
	}
	line, err := c.h.Line(strings.Join(words, " "))
	if err != nil {
		return "err - " + strings.ReplaceAll(err.Error(), "\n", " ")
	}
	return line
}

func (c *container) start([]string) ([]string, error) {
	if c.h != nil {
		return nil, fmt.Errorf("a container runs already: PID %d", c.h.PID())
	}
	h, err := startHolder(context.Background(), false, ns.Net)
	if err != nil {
		return nil, fmt.Errorf("start the container: %w", err)
	}
	c.h = h
	return []string{strconv.Itoa(h.PID())}, nil
}

func (c *container) stop([]string) ([]string, error) {
	if c.h == nil {
		return nil, errors.New("no container")
	}
	err := c.h.Close()
	c.h = nil
	return nil, err
}

func (c *container) close() {
	if c.h != nil {
		c.h.Close()
	}
}

// loopbackUpNoCap calls LoopbackUp on a thread without CAP_NET_ADMIN: the
// kernel refuses to set lo up there (EPERM).
func loopbackUpNoCap([]string) ([]string, error) {
	return nil, lab.WithoutCap(unix.CAP_NET_ADMIN, LoopbackUp)
}

func withWord(fn func(word string) ([]string, error)) holder.Command {
	return func(args []string) ([]string, error) {
		if len(args) != 1 {
			return nil, errors.New("usage: WORD")
		}
		return fn(args[0])
	}
}

func withTwo(fn func(a, b string) error) holder.Command {
	return func(args []string) ([]string, error) {
		if len(args) != 2 {
			return nil, errors.New("usage: NAME PEER")
		}
		return nil, fn(args[0], args[1])
	}
}

func withPID(fn func(pid int) ([]string, error)) holder.Command {
	return func(args []string) ([]string, error) {
		if len(args) != 1 {
			return nil, errors.New("usage: PID")
		}
		pid, err := strconv.Atoi(args[0])
		if err != nil {
			return nil, fmt.Errorf("bad PID %q: %w", args[0], err)
		}
		return fn(pid)
	}
}

// withLinkPrefix reads LINK PREFIX, refusing any prefix outside LabNet.
func withLinkPrefix(fn func(link string, p netip.Prefix) error) holder.Command {
	return func(args []string) ([]string, error) {
		if len(args) != 2 {
			return nil, errors.New("usage: LINK PREFIX")
		}
		p, err := netip.ParsePrefix(args[1])
		if err != nil {
			return nil, fmt.Errorf("bad prefix %q: %w", args[1], err)
		}
		if !AllowedPrefix(p) {
			return nil, fmt.Errorf("refusing %s: the lab uses addresses of %s only", p, LabNet)
		}
		return nil, fn(args[0], p)
	}
}

// withLinkPID reads NAME PID.
func withLinkPID(fn func(name string, pid int) error) holder.Command {
	return func(args []string) ([]string, error) {
		if len(args) != 2 {
			return nil, errors.New("usage: NAME PID")
		}
		return withPID(func(pid int) ([]string, error) { return nil, fn(args[0], pid) })(args[1:])
	}
}

// netdev answers DeviceNames of /proc/net/dev, each name hex-encoded
// after an "x" (see decodeNames): a holder's answer is words, and a name
// with spaces in it, or an empty one, must reach the check as it is.
func netdev([]string) ([]string, error) {
	f, err := os.Open("/proc/net/dev")
	if err != nil {
		return nil, err
	}
	defer f.Close()
	names, err := DeviceNames(f)
	out := make([]string, len(names))
	for i, n := range names {
		out[i] = "x" + hex.EncodeToString([]byte(n))
	}
	return out, err
}

// decodeNames reverses netdev's encoding.
func decodeNames(words []string, err error) ([]string, error) {
	if err != nil {
		return nil, err
	}
	var out []string
	for _, w := range words {
		b, err := hex.DecodeString(strings.TrimPrefix(w, "x"))
		if err != nil || !strings.HasPrefix(w, "x") {
			return nil, fmt.Errorf("netdev answered %q: want x and hexadecimal", w)
		}
		out = append(out, string(b))
	}
	return out, nil
}
