// Command nslab inspects and creates Linux namespaces and runs the course's
// labs; see pkg/cli for what it does and "nslab --help" for how to call it.
package main

import (
	"os"

	_ "github.com/nslab/nslab/cmd/nslab/internal/fast" // run, ns, version and help, before the labs' start-up
	_ "github.com/nslab/nslab/labs/all"                // registers the labs
	"github.com/nslab/nslab/pkg/cli"
	"github.com/nslab/nslab/pkg/cli/labcmd"
	"github.com/nslab/nslab/pkg/spawn"
)

func main() {
	spawn.Init()
	cli.SetLab(labcmd.Usage, labcmd.Run)
	os.Exit(cli.Main(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}
