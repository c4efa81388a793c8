//go:build !linux

package cli

import (
	"errors"
	"io"
	"os"
)

var getenv = os.Getenv

// entryInit names nslab's init, which exists on Linux only.
const entryInit = "nslab.init"

func execute(r Run, stderr io.Writer) int {
	return fail(stderr, &exitError{Code: exitNotStarted, Err: errors.New("run: namespaces exist only on Linux (the labs need Linux too: see docs/setup.md)")})
}
