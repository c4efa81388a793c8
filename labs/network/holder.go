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
// caller is root (kinds must then include ns.User).
//
// The guard of every holder: the lab configures links, addresses and routes
// only in network namespaces it made, never in the namespace of the process
// that started the holder (the lab host's, or the machine's when the lab
// runs outside one). The caller passes its own network namespace
// (ns.GuardArg); the holder refuses to run when it is still in it
// (ns.NotInParent, in holderMain).
func startHolder(ctx context.Context, mapRoot bool, kinds ...ns.Kind) (*holder.Holder, error) {
	parent, err := ns.GuardArg(ns.Net)
	if err != nil {
		return nil, err
	}
	h, err := holder.StartRunning(ctx, spawn.Config{New: kinds, MapRoot: mapRoot, Entrypoint: entryHolder, Args: []string{parent}})
	if err != nil {
		return nil, err
	}
	if _, err := h.Do("ready"); err != nil { // the holder checked that its network namespace is not its parent's
		h.Stop()
		return nil, err
	}
	return h, nil
}
