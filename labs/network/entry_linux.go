//go:build linux

package network

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/nslab/nslab/pkg/holder"
	"github.com/nslab/nslab/pkg/ns"
	"github.com/nslab/nslab/pkg/spawn"
)

// entryHolder is the command loop of a Holder, run in a child of the lab binary.
const entryHolder = "network.holder"

// Timeout bounds every wait of the lab: a TCP connection, an accept, a link going away.
const Timeout = 5 * time.Second

func init() { spawn.Register(entryHolder, holderMain) }

// commands are the holder's commands, sorted by name. The learner's
// functions are marked with their step; the rest is the lab's own code and
// its independent witnesses (the net package of the standard library,
// /proc/net/route), which do not use the learner's code.
var commands holder.Commands

func init() {
	commands = holder.Commands{
		"addr":     withLinkPrefix(AddAddress), // step 04
		"addrs":    addrs,
		"ctstart":  ctStart,
		"ctstop":   ctStop,
		"dial":     dial,
		"kind":     withWord(kind),
		"labaddr":  withLinkPrefix(labAddress),
		"labmove":  labMove,
		"labroute": withLinkPrefix(labRoute),
		"labveth":  withTwo(labVeth),
		"links":    links,
		"linksof":  withPID(LinksOf),                                              // step 05
		"loup":     func([]string) ([]string, error) { return nil, LoopbackUp() }, // step 01
		"ls":       holder.ListDir,
		"mountsys": withWord(func(dir string) ([]string, error) { return nil, MountSysfs(dir) }), // step 02
		"move":     move,                                                                         // step 03
		"netdev":   netdev,                                                                       // step 02
		"ready":    func([]string) ([]string, error) { return nil, nil },
		"route":    withLinkPrefix(AddRoute), // step 04
		"routes":   routes,
		"serve":    serve,
		"state":    withWord(state),
		"tcpself":  tcpSelf,
		"veth":     withTwo(func(a, b string) error { return CreateVeth(a, b) }), // step 03
		"waitgone": withWord(waitGone),
	}
}

// container is the bastion's container, started by ctstart; "ct CMD" relays CMD to it.
var container *Holder

// holderMain answers one line per command line until stdin closes. It first
// refuses to run in its parent's network namespace: nothing the lab does may
// reach the host's. A learner's unwritten step panics out of it; the spawn
// shim turns that into exit status 3 and one line on stderr.
func holderMain(args []string) int {
	if err := ownNetNS(args); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	defer func() {
		if container != nil {
			container.Close()
		}
	}()
	return holder.Serve(answer)
}

// ownNetNS fails when this process is in its parent's network namespace,
// which the parent passed as args[0] (see netnsArg).
func ownNetNS(args []string) error {
	self, err := ns.Get(ns.Self, ns.Net)
	if err != nil {
		return err
	}
	if len(args) != 1 || args[0] != netnsArg(self) {
		if len(args) == 1 {
			return nil
		}
		return fmt.Errorf("network holder: want the parent's network namespace as the only argument, got %q", args)
	}
	return fmt.Errorf("network holder: refusing to run in the network namespace of its parent (PID %d, %s): the lab works only in namespaces it made", os.Getppid(), self)
}

// answer relays "ct CMD" to the container and runs every other command here.
func answer(words []string) string {
	if len(words) > 0 && words[0] == "ct" {
		return relay(words[1:])
	}
	return commands.Answer(words)
}

// relay passes a command to the container and returns its answer as it is.
func relay(words []string) string {
	if container == nil {
		return "err - no container: ctstart first"
	}
	line, err := container.Line(strings.Join(words, " "))
	if err != nil {
		return "err - " + strings.ReplaceAll(err.Error(), "\n", " ")
	}
	return line
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

func move(args []string) ([]string, error) {
	return withPID(func(pid int) ([]string, error) { return nil, MoveLink(args[0], pid) })(args[1:])
}

func netdev([]string) ([]string, error) {
	f, err := os.Open("/proc/net/dev")
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return DeviceNames(f)
}

func ctStart([]string) ([]string, error) {
	if container != nil {
		return nil, fmt.Errorf("a container runs already: PID %d", container.PID())
	}
	c, err := StartHolder(context.Background(), false, ns.Net)
	if err != nil {
		return nil, fmt.Errorf("start the container: %w", err)
	}
	container = c
	return []string{strconv.Itoa(c.PID())}, nil
}

func ctStop([]string) ([]string, error) {
	if container == nil {
		return nil, errors.New("no container")
	}
	err := container.Close()
	container = nil
	return nil, err
}
