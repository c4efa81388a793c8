// Package cli implements the nslab command.
package cli

import (
	"fmt"
	"io"
)

// Main runs the nslab command with args (without the program name) and
// returns the exit status.
func Main(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fmt.Fprintln(stderr, "nslab: not implemented yet")
	return 1
}
