//go:build linux

package network

import (
	"context"

	"github.com/nslab/nslab/pkg/holder"
	"github.com/nslab/nslab/pkg/ns"
	"github.com/nslab/nslab/pkg/spawn"
)

// startHolder starts a holder (package holder: a child that keeps its
// namespaces alive and runs one lab command per line written to its standard
// input; the commands are in entry.go; its "err" answers are
// *holder.CommandError) in new namespaces of kinds and lets it run.
// mapRoot asks for a user namespace mapping the caller to root even when the
// caller is root (kinds must then include ns.User). The holder refuses to run
// in the caller's network namespace (guard.go).
func startHolder(ctx context.Context, mapRoot bool, kinds ...ns.Kind) (*holder.Holder, error) {
	parent, err := parentNetArg()
	if err != nil {
		return nil, err
	}
	h, err := holder.Start(ctx, spawn.Config{New: kinds, MapRoot: mapRoot, Entrypoint: entryHolder, Args: []string{parent}})
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
