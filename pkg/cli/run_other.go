//go:build !linux

package cli

import (
	"errors"
	"io"
	"os"

	"github.com/nslab/nslab/pkg/spawn"
)

var getenv = os.Getenv

func execute(cfg spawn.Config, stderr io.Writer) int {
	return fail(stderr, &exitError{code: exitNotStarted, err: errors.New("run: namespaces exist only on Linux")})
}
