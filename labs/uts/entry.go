//go:build linux

package uts

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/nslab/nslab/pkg/lab"
	"github.com/nslab/nslab/pkg/ns"
	"github.com/nslab/nslab/pkg/spawn"
	"golang.org/x/sys/unix"
)

// The lab's children: Go functions that spawn runs in a re-executed binary.
const (
	entrySetNames = "uts-set-names" // runs SetNames (step 02), then reports uname(2)
	entryUname    = "uts-uname"     // reports uname(2) and exits
	entryPeer     = "uts-peer"      // answers "get" and "set NAME" lines on stdin until EOF
	entrySandbox  = "uts-sandbox"   // runs a scenario inside a user namespace of its own
	entryRefused  = "uts-refused"   // runs SetNames with names the kernel refuses (step 02)
	entryMasked   = "uts-masked"    // runs HostNames where /proc/sys/kernel is hidden (step 03)
)

func init() {
	spawn.Register(entrySetNames, setNamesMain)
	spawn.Register(entryUname, unameMain)
	spawn.Register(entryPeer, peerMain)
	spawn.Register(entrySandbox, sandboxMain)
	spawn.Register(entryRefused, refusedMain)
	spawn.Register(entryMasked, maskedMain)
}

// setNamesMain: args are the hostname, the domain name and the parent's UTS
// namespace (see ns.GuardArg).
func setNamesMain(args []string) int {
	if len(args) != 3 {
		return spawn.Fail(errors.New("usage: uts-set-names HOSTNAME DOMAINNAME PARENT-UTS"))
	}
	if err := ns.NotInParent(ns.UTS, args[2], "rename"); err != nil {
		return spawn.Fail(err)
	}
	if err := SetNames(Names{Hostname: args[0], Domainname: args[1]}); err != nil {
		return spawn.Fail(err)
	}
	return unameMain(nil)
}

func unameMain([]string) int {
	n, err := uname()
	if err == nil {
		err = writeNames(os.Stdout, n)
	}
	if err != nil {
		return spawn.Fail(err)
	}
	return 0
}

// peerMain answers one line for each command read: "get" prints the names,
// "set NAME" sets the host name first. It exits at the end of its input.
// args[0] is the parent's UTS namespace (see ns.GuardArg).
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
		if err := ns.NotInParent(ns.UTS, args[0], "rename"); err != nil {
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

// sandboxMain runs the scenario args[0] with the names args[1:] and prints
// its report as JSON.
func sandboxMain(args []string) int {
	if len(args) != 3 {
		return spawn.Fail(errors.New("usage: uts-sandbox SCENARIO HOSTNAME DOMAINNAME"))
	}
	run, ok := scenarios[args[0]]
	if !ok {
		return spawn.Fail(fmt.Errorf("no scenario %q", args[0]))
	}
	if err := run(context.Background(), Names{Hostname: args[1], Domainname: args[2]}, os.Stdout); err != nil {
		return spawn.Fail(err)
	}
	return 0
}

// refusedMain calls SetNames with each of refusedNames and prints what it
// returned, as JSON. args[0] is the parent's UTS namespace (see ns.GuardArg).
func refusedMain(args []string) int {
	if len(args) != 1 {
		return spawn.Fail(errors.New("usage: uts-refused PARENT-UTS"))
	}
	if err := ns.NotInParent(ns.UTS, args[0], "rename"); err != nil {
		return spawn.Fail(err)
	}
	var rs []Refusal
	for _, n := range refusedNames() {
		r := Refusal{Names: n}
		if err := SetNames(n); err != nil {
			r.Err, r.EINVAL = err.Error(), errors.Is(err, unix.EINVAL)
		}
		rs = append(rs, r)
	}
	return report(rs)
}

// maskedMain hides /proc/sys/kernel under a tmpfs (its mount namespace is
// new and private, see spawn.Config.New), and prints as JSON what HostNames
// returned with no file there, with a hostname file, then with both.
func maskedMain([]string) int {
	const dir = "/proc/sys/kernel"
	if err := unix.Mount("tmpfs", dir, "tmpfs", unix.MS_NOSUID|unix.MS_NODEV|unix.MS_NOEXEC, "size=64k"); err != nil {
		return spawn.Fail(fmt.Errorf("mount tmpfs on %s: %w", dir, err))
	}
	var m Masked
	_, err := HostNames()
	m.Missing = lab.ErrText(err)
	if err := os.WriteFile(dir+"/hostname", []byte(maskedNames.Hostname+"\n"), 0o644); err != nil {
		return spawn.Fail(err)
	}
	_, err = HostNames()
	m.NoDomain = lab.ErrText(err)
	if err := os.WriteFile(dir+"/domainname", []byte(maskedNames.Domainname+"\n"), 0o644); err != nil {
		return spawn.Fail(err)
	}
	m.Read, err = HostNames()
	m.ReadErr = lab.ErrText(err)
	return report(m)
}

// report prints v as JSON, a child's report to its parent.
func report(v any) int {
	if err := json.NewEncoder(os.Stdout).Encode(v); err != nil {
		return spawn.Fail(err)
	}
	return 0
}
