//go:build linux

package network

import (
	"context"
	"fmt"

	"github.com/nslab/nslab/pkg/holder"
	"github.com/nslab/nslab/pkg/ns"
	"github.com/nslab/nslab/pkg/spawn"
)

// A Holder is a child that keeps its namespaces alive and runs one lab
// command per line written to its standard input (package holder); the
// commands are in entry_linux.go. Its "err" answers are *holder.CommandError;
// Line gives an answer as it is, for relaying it.
type Holder = holder.Holder

// StartHolder starts a holder in new namespaces of kinds and lets it run.
// mapRoot asks for a user namespace mapping the caller to root even when the
// caller is root (kinds must then include ns.User).
func StartHolder(ctx context.Context, mapRoot bool, kinds ...ns.Kind) (*Holder, error) {
	parent, err := ns.Get(ns.Self, ns.Net)
	if err != nil {
		return nil, err
	}
	h, err := holder.Start(ctx, spawn.Config{New: kinds, MapRoot: mapRoot, Entrypoint: entryHolder, Args: []string{netnsArg(parent)}})
	if err != nil {
		return nil, err
	}
	if err := h.Release(); err != nil {
		return nil, err
	}
	if _, err := h.Do("ready"); err != nil { // the holder checked that its network namespace is not its parent's
		h.Stop()
		return nil, err
	}
	return h, nil
}

// netnsArg tells a holder its parent's network namespace, which the holder
// could not read itself from inside a user namespace of its own.
func netnsArg(id ns.ID) string { return fmt.Sprintf("%d:%d", id.Dev, id.Inode) }
