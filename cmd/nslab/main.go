// Command nslab inspects and creates Linux namespaces and runs the course's
// labs; see pkg/cli for what it does and "nslab --help" for how to call it.
package main

import (
	"os"

	_ "github.com/nslab/nslab/labs/all" // registers the labs
	"github.com/nslab/nslab/pkg/cli"
	"github.com/nslab/nslab/pkg/spawn"
)

func main() {
	spawn.Init()
	os.Exit(cli.Main(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}
