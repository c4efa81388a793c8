//go:build linux

package uts

import (
	"bytes"
	"context"
	"encoding/json"
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
	guard, err := ns.GuardArg(ns.UTS)
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
	Masked        Masked  // HostNames where /proc/sys/kernel is hidden
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

// Refusal is what SetNames returned for names the kernel refuses.
type Refusal struct {
	Names  Names  `json:"names"`  // what SetNames was given
	Err    string `json:"err"`    // its error; "" when it returned nil
	EINVAL bool   `json:"einval"` // whether that error wraps EINVAL (errors.Is)
}

// refusedNames are names the kernel refuses, longer than the 64 bytes a
// UTS namespace holds: a host name (sethostname(2) fails), then a domain
// name after a host name it takes (setdomainname(2) fails).
func refusedNames() []Names {
	long := strings.Repeat("x", 65)
	return []Names{{Hostname: long, Domainname: "refused.nslab.test"}, {Hostname: "uts-lab-refused", Domainname: long}}
}

// RefusedInChild starts a child in a new UTS namespace that calls SetNames
// (step 02) with each of refusedNames, and reports what SetNames returned.
func RefusedInChild(ctx context.Context) ([]Refusal, error) {
	guard, err := ns.GuardArg(ns.UTS)
	if err != nil {
		return nil, err
	}
	var rs []Refusal
	err = runJSON(ctx, spawn.Config{New: []ns.Kind{ns.UTS}, Entrypoint: entryRefused, Args: []string{guard}}, &rs)
	return rs, err
}

// Masked is what HostNames (step 03) returned in a child whose
// /proc/sys/kernel is an empty tmpfs, then with a hostname file in it, then
// with both files, which hold maskedNames.
type Masked struct {
	Missing  string `json:"missing"`   // HostNames' error with neither file; "" for none
	NoDomain string `json:"no_domain"` // with the hostname file only
	Read     Names  `json:"read"`      // with both files
	ReadErr  string `json:"read_err"`
}

// maskedNames are the names the files of the masked /proc/sys/kernel hold.
var maskedNames = Names{Hostname: "uts-lab-masked", Domainname: "masked.nslab.test"}

// MaskedInChild starts a child in a new mount namespace that hides
// /proc/sys/kernel under a tmpfs, and reports what HostNames read there.
func MaskedInChild(ctx context.Context) (Masked, error) {
	var m Masked
	return m, runJSON(ctx, spawn.Config{New: []ns.Kind{ns.Mnt}, Entrypoint: entryMasked}, &m)
}

// runJSON runs cfg to its end and decodes the JSON it prints into v.
func runJSON(ctx context.Context, cfg spawn.Config, v any) error {
	var stdout, stderr bytes.Buffer
	cfg.Stdout, cfg.Stderr = &stdout, &stderr
	if err := spawn.Run(ctx, cfg); err != nil {
		return fmt.Errorf("%s (%s child: %v)", strings.TrimSpace(stderr.String()), cfg.Entrypoint, err)
	}
	if err := json.Unmarshal(stdout.Bytes(), v); err != nil {
		return fmt.Errorf("read the report of the %s child %q: %w", cfg.Entrypoint, stdout.String(), err)
	}
	return nil
}
