//go:build linux

package uts

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/nslab/nslab/pkg/ns"
	"github.com/nslab/nslab/pkg/spawn"
)

// The lab's children: Go functions that spawn runs in a re-executed binary.
const (
	entrySetNames = "uts-set-names" // runs SetNames (step 02), then reports uname(2)
	entryUname    = "uts-uname"     // reports uname(2) and exits
	entryPeer     = "uts-peer"      // answers "get" and "set NAME" lines on stdin until EOF
	entrySandbox  = "uts-sandbox"   // runs a scenario inside a user namespace of its own
)

func init() {
	spawn.Register(entrySetNames, setNamesMain)
	spawn.Register(entryUname, unameMain)
	spawn.Register(entryPeer, peerMain)
	spawn.Register(entrySandbox, sandboxMain)
}

// setNamesMain: args are the hostname, the domain name and the parent's UTS
// namespace (see guardArg).
func setNamesMain(args []string) int {
	if len(args) != 3 {
		return fail(errors.New("usage: uts-set-names HOSTNAME DOMAINNAME PARENT-UTS"))
	}
	if err := checkOwnUTS(args[2]); err != nil {
		return fail(err)
	}
	if err := SetNames(Names{Hostname: args[0], Domainname: args[1]}); err != nil {
		return fail(err)
	}
	return unameMain(nil)
}

func unameMain([]string) int {
	n, err := uname()
	if err == nil {
		err = writeNames(os.Stdout, n)
	}
	if err != nil {
		return fail(err)
	}
	return 0
}

// peerMain answers one line for each command read: "get" prints the names,
// "set NAME" sets the host name first. It exits at the end of its input.
// args[0] is the parent's UTS namespace (see guardArg).
func peerMain(args []string) int {
	in := bufio.NewScanner(os.Stdin)
	for in.Scan() {
		if err := answer(in.Text(), args, os.Stdout); err != nil {
			fmt.Fprintf(os.Stdout, "error: %v\n", err)
		}
	}
	return 0
}

func answer(cmd string, args []string, w io.Writer) error {
	verb, arg, _ := strings.Cut(cmd, " ")
	switch verb {
	case "get":
	case "set":
		if len(args) != 1 {
			return errors.New("usage: uts-peer PARENT-UTS")
		}
		if err := checkOwnUTS(args[0]); err != nil {
			return err
		}
		if err := setHostname(arg); err != nil {
			return err
		}
	default:
		return fmt.Errorf("unknown command %q (want get or set NAME)", cmd)
	}
	n, err := uname()
	if err != nil {
		return err
	}
	return writeNames(w, n)
}

// guardArg is the caller's UTS namespace (ns.ID.Arg), passed to a child
// that renames: the child refuses to rename that one.
func guardArg() (string, error) {
	id, err := ns.Get(ns.Self, ns.UTS)
	if err != nil {
		return "", err
	}
	return id.Arg(), nil
}

// checkOwnUTS refuses to rename the UTS namespace parent (from guardArg):
// the lab's children rename only namespaces the lab made, never the host's.
func checkOwnUTS(parent string) error {
	own, err := ns.Get(ns.Self, ns.UTS)
	if err != nil {
		return err
	}
	return ns.NotIn(own, parent, "rename")
}

func fail(err error) int {
	fmt.Fprintf(os.Stderr, "%v\n", err)
	return 1
}

// sandboxMain runs the scenario args[0] with the names args[1:] and prints
// its report as JSON.
func sandboxMain(args []string) int {
	if len(args) != 3 {
		return fail(errors.New("usage: uts-sandbox SCENARIO HOSTNAME DOMAINNAME"))
	}
	run, ok := scenarios[args[0]]
	if !ok {
		return fail(fmt.Errorf("no scenario %q", args[0]))
	}
	if err := run(context.Background(), Names{Hostname: args[1], Domainname: args[2]}, os.Stdout); err != nil {
		return fail(err)
	}
	return 0
}
