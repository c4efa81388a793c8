//go:build linux

package uts

import (
	"context"
	"fmt"
	"strings"

	"github.com/nslab/nslab/pkg/holder"
	"github.com/nslab/nslab/pkg/ns"
	"github.com/nslab/nslab/pkg/spawn"
)

// peer is a running uts-peer child that the lab talks to over its stdin and
// stdout, one line each way (pkg/holder): the only synchronisation is the answer.
type peer struct {
	*holder.Holder
}

// launch starts a peer with start (spawn.Start, or the learner's code) from
// base, which gets the peer's entrypoint and arguments, and releases it.
func launch(ctx context.Context, start holder.StartFunc, base spawn.Config) (*peer, error) {
	guard, err := ns.GuardArg(ns.UTS)
	if err != nil {
		return nil, err
	}
	base.Entrypoint, base.Args = entryPeer, []string{guard}
	h, err := holder.StartWith(ctx, base, start)
	if err != nil {
		return nil, err
	}
	if err := h.Release(); err != nil { // Release stops a holder it cannot release
		return nil, err
	}
	return &peer{h}, nil
}

// ask sends one command and returns the names in the answer.
func (p *peer) ask(cmd string) (Names, error) {
	line, err := p.Line(cmd)
	if err != nil {
		return Names{}, fmt.Errorf("peer PID %d: %w", p.PID(), err)
	}
	if msg, ok := strings.CutPrefix(line, "error: "); ok {
		return Names{}, fmt.Errorf("peer PID %d, %q: %s", p.PID(), cmd, strings.TrimSpace(msg))
	}
	return ParseNames(line)
}

// stop ends the peer's input, so that it exits, and reaps it.
func (p *peer) stop() { p.Stop() }
