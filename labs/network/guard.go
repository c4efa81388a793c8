//go:build linux

package network

import "github.com/nslab/nslab/pkg/ns"

// The guard of every holder: the lab configures links, addresses and routes
// only in network namespaces it made, never in the namespace of the process
// that started the holder (the lab host's, or the machine's when the lab
// runs outside one). The parent passes its own network namespace
// (parentNetArg); the holder refuses to run when it is still in it.

// parentNetArg is the caller's network namespace as a holder's argument.
func parentNetArg() (string, error) {
	id, err := ns.Get(ns.Self, ns.Net)
	if err != nil {
		return "", err
	}
	return id.Arg(), nil
}

// checkOwnNet fails when this process is in the network namespace parent
// (from parentNetArg).
func checkOwnNet(parent string) error {
	own, err := ns.Get(ns.Self, ns.Net)
	if err != nil {
		return err
	}
	return ns.NotIn(own, parent, "configure the network")
}
