//go:build linux

package uts

import (
	"bytes"
	"context"
	"fmt"
	"strings"

	"github.com/nslab/nslab/pkg/ns"
	"github.com/nslab/nslab/pkg/spawn"
)

// Renamed is a child that named its new UTS namespace and reported what
// uname(2) returned inside it.
type Renamed struct {
	Set   ns.Set // the child's namespaces, read while it was alive
	Names Names  // what uname(2) returned in the child
}

// RenameInChild starts a child in a new UTS namespace that calls SetNames
// (step 02) with want and reports uname(2).
func RenameInChild(ctx context.Context, want Names) (Renamed, error) {
	guard, err := guardArg()
	if err != nil {
		return Renamed{}, err
	}
	return runReporting(ctx, spawn.Config{Entrypoint: entrySetNames, Args: []string{want.Hostname, want.Domainname, guard}})
}

// NamedByLab starts a child in a new UTS namespace named want by the lab
// itself (spawn sets the names before the child runs), and reports uname(2).
func NamedByLab(ctx context.Context, want Names) (Renamed, error) {
	return runReporting(ctx, spawn.Config{Entrypoint: entryUname, Hostname: want.Hostname, Domainname: want.Domainname})
}

// runReporting runs cfg in a new UTS namespace and reads the names it prints.
func runReporting(ctx context.Context, cfg spawn.Config) (r Renamed, err error) {
	var stdout, stderr bytes.Buffer
	cfg.New, cfg.Stdout, cfg.Stderr = []ns.Kind{ns.UTS}, &stdout, &stderr
	child, err := spawn.Start(ctx, cfg)
	if err != nil {
		return r, err
	}
	defer child.Stop()
	if r.Set, err = child.Namespaces(); err != nil {
		return r, err
	}
	if err := child.Release(); err != nil {
		return r, err
	}
	if err := child.Wait(); err != nil {
		return r, fmt.Errorf("%s (%v)", strings.TrimSpace(stderr.String()), err)
	}
	r.Names, err = ParseNames(stdout.String())
	return r, err
}

// UntouchedReport is what step 03 saw.
type UntouchedReport struct {
	Host          ns.Set  // the caller's namespaces
	Child         Renamed // a child the lab renamed
	Before, After Names   // the host's names from HostNames, before and after the child
	Uname         Names   // the host's names from uname(2), before the child
}

// HostUntouched reads the host's names with HostNames (step 03), has a
// child in a new UTS namespace take want, and reads them again.
func HostUntouched(ctx context.Context, want Names) (r UntouchedReport, err error) {
	if r.Host, err = ns.Of(ns.Self); err != nil {
		return r, err
	}
	if r.Uname, err = uname(); err != nil {
		return r, err
	}
	if r.Before, err = HostNames(); err != nil {
		return r, fmt.Errorf("HostNames before the child: %w", err)
	}
	if r.Child, err = NamedByLab(ctx, want); err != nil {
		return r, err
	}
	if r.After, err = HostNames(); err != nil {
		return r, fmt.Errorf("HostNames after the child: %w", err)
	}
	return r, nil
}
