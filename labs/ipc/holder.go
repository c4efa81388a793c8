//go:build linux

package ipc

import (
	"context"
	"fmt"

	"github.com/nslab/nslab/pkg/holder"
	"github.com/nslab/nslab/pkg/lab"
	"github.com/nslab/nslab/pkg/ns"
	"github.com/nslab/nslab/pkg/spawn"
)

// startHolder starts a holder in new namespaces of kinds and lets it run: a
// child that keeps its namespaces alive and runs one lab command per line
// written to its standard input (package holder; the commands are in
// entry.go). Its "err" answers are *holder.CommandError.
func startHolder(ctx context.Context, kinds ...ns.Kind) (*holder.Holder, error) {
	return holder.StartRunning(ctx, spawn.Config{New: kinds, Entrypoint: entryHolder})
}

// ipcHolder starts a holder (called name in an error) in a new IPC
// namespace, stopped after the check, and reads its namespaces into *set.
func ipcHolder(ctx context.Context, cleanup *lab.Cleanup, name string, set *ns.Set) (*holder.Holder, error) {
	h, err := startHolder(ctx, ns.IPC)
	if err != nil {
		return nil, fmt.Errorf("start %s in a new IPC namespace: %w", name, err)
	}
	cleanup.Add(h.Stop)
	if *set, err = h.Namespaces(); err != nil {
		return nil, err
	}
	return h, nil
}
