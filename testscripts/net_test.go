//go:build linux

package testscripts

import (
	"context"
	"fmt"
	"strconv"
	"sync"

	"github.com/nslab/nslab/labs/network"
	"github.com/rogpeppe/go-internal/testscript"
)

// pairsKey is the key of a script's *pairs in testscript.Env.Values.
type pairsKey struct{}

// pairs holds the network lab pairs one script started, by the names of
// both sides.
type pairs struct {
	mu sync.Mutex
	m  map[string]*network.Pair
}

// cmdNsnet: nsnet pair B C | nsnet tcp FROM TO | nsnet stop C
func cmdNsnet(ts *testscript.TestScript, args []string) {
	if len(args) != 3 {
		ts.Fatalf("usage: nsnet pair B C | nsnet tcp FROM TO | nsnet stop C")
	}
	ps := ts.Value(pairsKey{}).(*pairs)
	ps.mu.Lock()
	defer ps.mu.Unlock()
	switch args[0] {
	case "pair":
		netPair(ts, ps, args[1], args[2])
	case "tcp":
		netTCP(ts, ps, args[1], args[2])
	case "stop":
		netStop(ts, ps, args[1], args[2])
	default:
		ts.Fatalf("nsnet %s: want pair, tcp or stop", args[0])
	}
}

// netPair starts the network lab's bastion B and container C, connected by
// the lab's own code, and sets $B, $C, $B_LINK, $C_LINK, $B_ADDR, $C_ADDR.
func netPair(ts *testscript.TestScript, ps *pairs, b, c string) {
	for _, name := range []string{b, c} {
		if !envName.MatchString(name) || ps.m[name] != nil {
			ts.Fatalf("nsnet pair: %q is not a free name", name)
		}
	}
	p, err := network.StartPair(context.Background())
	ts.Check(err)
	ts.Defer(p.Stop)
	ts.Check(p.Connect())
	ps.m[b], ps.m[c] = p, p
	vars := map[string]string{
		b: strconv.Itoa(p.BastionPID()), c: strconv.Itoa(p.ContainerPID),
		b + "_LINK": p.BastionLink, c + "_LINK": p.ContainerLink,
		b + "_ADDR": network.BastionAddr.Addr().String(), c + "_ADDR": network.ContainerAddr.Addr().String(),
	}
	for k, v := range vars {
		ts.Setenv(k, v)
	}
	ts.Logf("bastion %s is PID %d (%s), container %s is PID %d (%s)", b, p.BastionPID(), p.BastionLink, c, p.ContainerPID, p.ContainerLink)
}

// netTCP connects from one side of a pair to the other and prints what the
// server saw: its network namespace and the client's address.
func netTCP(ts *testscript.TestScript, ps *pairs, from, to string) {
	p := ps.m[from]
	if p == nil || p != ps.m[to] || from == to {
		ts.Fatalf("nsnet tcp %s %s: want the two names of one nsnet pair", from, to)
	}
	toContainer := strconv.Itoa(p.ContainerPID) == ts.Getenv(to)
	netns, client, err := p.TCP(toContainer)
	ts.Check(err)
	fmt.Fprintf(ts.Stdout(), "%s %s\n", netns, client)
}

// netStop ends container C of the pair whose bastion is B, and waits until
// the kernel has destroyed the veth pair with C's network namespace.
func netStop(ts *testscript.TestScript, ps *pairs, b, c string) {
	p := ps.m[b]
	if p == nil || p != ps.m[c] || strconv.Itoa(p.BastionPID()) != ts.Getenv(b) {
		ts.Fatalf("nsnet stop %s %s: want the bastion, then the container, of one nsnet pair", b, c)
	}
	_, err := p.Bastion.Do("ctstop")
	ts.Check(err)
	_, err = p.Bastion.Do("waitgone %s", p.BastionLink)
	ts.Check(err)
	delete(ps.m, c)
}
