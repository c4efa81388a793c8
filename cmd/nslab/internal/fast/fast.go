// Package fast runs the nslab commands that need no lab (run, ns, version,
// help) from its init function, before the packages of the labs are
// initialised, and exits: their start-up (package initialisation of every
// lab, netlink, the lab host…) is then paid only by nslab lab.
//
// It works because Go initialises packages in a defined order (The Go
// Programming Language Specification, "Package initialization"): sorted by
// import path, each package as soon as every package it imports is
// initialised. This package imports only pkg/cli, which does not link the
// labs, and its path sorts before theirs, so it runs as soon as pkg/cli is
// ready. The test of cmd/nslab checks that the labs' packages have not been
// initialised when it runs (GODEBUG=inittrace=1).
package fast

import (
	"os"

	"github.com/nslab/nslab/pkg/cli"
)

// envSpawn is set in the children pkg/spawn re-executes this binary as
// (spawn.Init handles them, from main).
const envSpawn = "NSLAB_SPAWN_SPEC"

func init() {
	if len(os.Args) < 2 {
		return
	}
	if _, child := os.LookupEnv(envSpawn); child {
		return
	}
	switch os.Args[1] {
	case "run", "ns", "version", "help", "-h", "-help", "--help":
		// Not on this goroutine: during initialisation the runtime locks it
		// to the main thread, and every time a locked goroutine blocks, its
		// thread hands the processor over to another and back (measured:
		// a fifth of nslab run's context switches). This one waits for ever.
		go func() { os.Exit(cli.Main(os.Args[1:], os.Stdin, os.Stdout, os.Stderr)) }()
		select {}
	}
}
