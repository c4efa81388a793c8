package uts

import (
	"context"

	"github.com/nslab/nslab/pkg/ns"
	"github.com/nslab/nslab/pkg/spawn"
)

// StartInNewUTS is step 01: start args as a child in a new UTS namespace and
// nothing else new, held before it runs (the caller releases it).
func StartInNewUTS(ctx context.Context, args []string) (*spawn.Child, error) {
	// BEGIN SOLUTION
	return spawn.Start(ctx, spawn.Config{New: []ns.Kind{ns.UTS}, Args: args})
	// END SOLUTION
}
