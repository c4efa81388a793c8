//go:build linux

package network

import (
	"context"
	"fmt"
	"strconv"

	"github.com/nslab/nslab/pkg/holder"
	"github.com/nslab/nslab/pkg/ns"
)

// Pair is the lab's two network namespaces: the bastion, a stand-in for
// the host, a holder in new user and network namespaces of the lab's own;
// and the container, a holder in a new network namespace that the bastion
// started, so that the lab's user namespace owns both network namespaces.
// Root in that user namespace, the bastion may create links in its own
// network namespace and move them into the container's, without any
// privilege on the real host: it works for an unprivileged user too.
type Pair struct {
	Bastion       *holder.Holder
	ContainerPID  int    // the container's PID, as the bastion and the caller see it
	BastionLink   string // the bastion's end of the veth pair, "nsl3fa2c1b"
	ContainerLink string // the container's end, "nsl3fa2c1c"
}

// StartPair starts the bastion and its container, with nothing but lo,
// down, in each network namespace. The names of the veth pair are chosen
// for this run; Connect makes it.
func StartPair(ctx context.Context) (*Pair, error) {
	b, err := startHolder(ctx, true, ns.User, ns.Net)
	if err != nil {
		return nil, fmt.Errorf("start the bastion: %w", err)
	}
	words, err := b.Do("ctstart")
	if err != nil {
		b.Stop()
		return nil, fmt.Errorf("start the container from the bastion: %w", err)
	}
	pid, err := strconv.Atoi(words[0])
	if err != nil {
		b.Stop()
		return nil, fmt.Errorf("the bastion's ctstart answered %q: %w", words, err)
	}
	p := &Pair{Bastion: b, ContainerPID: pid}
	p.BastionLink, p.ContainerLink = LinkNames()
	return p, nil
}

// Container runs one holder command in the container, through the bastion.
func (p *Pair) Container(format string, args ...any) ([]string, error) {
	return p.Bastion.Do("ct "+format, args...)
}

// BastionPID returns the bastion's PID.
func (p *Pair) BastionPID() int { return p.Bastion.PID() }

// Connect joins the two namespaces with the lab's own code: a veth pair made
// in the bastion, one end moved into the container, an address on each end
// (BastionAddr, ContainerAddr) and a route to the other end's address.
func (p *Pair) Connect() error {
	steps := []func() ([]string, error){
		func() ([]string, error) { return p.Bastion.Do("labveth %s %s", p.BastionLink, p.ContainerLink) },
		func() ([]string, error) { return p.Bastion.Do("labmove %s %d", p.ContainerLink, p.ContainerPID) },
		func() ([]string, error) { return p.Bastion.Do("labaddr %s %s", p.BastionLink, BastionAddr) },
		func() ([]string, error) { return p.Bastion.Do("labroute %s %s", p.BastionLink, ContainerAddr) },
		func() ([]string, error) { return p.Container("labaddr %s %s", p.ContainerLink, ContainerAddr) },
		func() ([]string, error) { return p.Container("labroute %s %s", p.ContainerLink, BastionAddr) },
	}
	for _, step := range steps {
		if _, err := step(); err != nil {
			return fmt.Errorf("connect the bastion and the container: %w", err)
		}
	}
	return nil
}

// TCP opens a TCP connection from one side to the other, the bastion to the
// container when toContainer, and returns what the server answered: its
// network namespace ("net:[4026532290]") and the address the connection came from.
func (p *Pair) TCP(toContainer bool) (netns, from string, err error) {
	serve, dial := p.Bastion.Do, p.Container
	addr := BastionAddr.Addr()
	if toContainer {
		serve, dial, addr = p.Container, p.Bastion.Do, ContainerAddr.Addr()
	}
	port, err := serve("serve %s", addr)
	if err != nil {
		return "", "", err
	}
	got, err := dial("dial %s %s", addr, port[0])
	if err != nil {
		return "", "", err
	}
	if len(got) != 2 {
		return "", "", fmt.Errorf("the server at %s answered %q; want its namespace and the client's address", addr, got)
	}
	return got[0], got[1], nil
}

// Stop ends the container and the bastion and reaps them.
func (p *Pair) Stop() { p.Bastion.Stop() }
