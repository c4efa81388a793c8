//go:build linux && !(amd64 || arm64 || riscv64 || loong64 || ppc64le)

package cli

import (
	"errors"

	"github.com/nslab/nslab/pkg/spawn"
)

// forkSupported is false where fork_linux.go is not built (32-bit and
// big-endian machines, s390x): nslab run uses pkg/spawn there.
const forkSupported = false

type forked struct{ pid int }

func (*forked) wait() int { return 0 }

var errNoClone3 = errors.New("no clone3")

func startForked(spawn.Config, string, bool) (*forked, error) { return nil, errNoClone3 }
