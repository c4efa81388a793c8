//go:build linux

package uts

import (
	"context"
	"fmt"
	"os"
	"strings"

	"github.com/nslab/nslab/pkg/ns"
	"github.com/nslab/nslab/pkg/spawn"
	"golang.org/x/sys/unix"
)

// StartInNewUTS is step 01: start args as a child in a new UTS namespace and
// nothing else new, held before it runs (the caller releases it).
func StartInNewUTS(ctx context.Context, args []string) (*spawn.Child, error) {
	// BEGIN SOLUTION
	return spawn.Start(ctx, spawn.Config{New: []ns.Kind{ns.UTS}, Args: args})
	// END SOLUTION
}

// SetNames is step 02: give the calling process's UTS namespace the host name
// and domain name of n, with sethostname(2) and setdomainname(2). The lab runs
// it in a child that has a new UTS namespace; it never runs in the host's.
func SetNames(n Names) error {
	// BEGIN SOLUTION
	if err := unix.Sethostname([]byte(n.Hostname)); err != nil {
		return fmt.Errorf("sethostname %q: %w", n.Hostname, err)
	}
	if err := unix.Setdomainname([]byte(n.Domainname)); err != nil {
		return fmt.Errorf("setdomainname %q: %w", n.Domainname, err)
	}
	return nil
	// END SOLUTION
}

// HostNames is step 03: read the names of the caller's UTS namespace from
// /proc/sys/kernel/hostname and /proc/sys/kernel/domainname, the files
// hostname(1) and sysctl(8) show. Like uname(2), they show the namespace of
// whoever reads them.
func HostNames() (Names, error) {
	// BEGIN SOLUTION
	read := func(name string) (string, error) {
		b, err := os.ReadFile("/proc/sys/kernel/" + name)
		return strings.TrimSuffix(string(b), "\n"), err
	}
	host, err := read("hostname")
	if err != nil {
		return Names{}, err
	}
	domain, err := read("domainname")
	if err != nil {
		return Names{}, err
	}
	return Names{Hostname: host, Domainname: domain}, nil
	// END SOLUTION
}

// NamesIn is step 04: return the names of the UTS namespace of process pid,
// read with uname(2) on an OS thread that has joined that namespace with
// setns(2), as nsenter(1) does. Only that thread visits the namespace, and
// it comes back before the function returns.
func NamesIn(pid int) (Names, error) {
	// BEGIN SOLUTION
	var names Names
	err := ns.Do(pid, []ns.Kind{ns.UTS}, func() error {
		var u unix.Utsname
		if err := unix.Uname(&u); err != nil {
			return fmt.Errorf("uname in the uts namespace of PID %d: %w", pid, err)
		}
		names = Names{Hostname: unix.ByteSliceToString(u.Nodename[:]), Domainname: unix.ByteSliceToString(u.Domainname[:])}
		return nil
	})
	return names, err
	// END SOLUTION
}

// StartJoined is step 05: start the child that cfg describes in the UTS
// namespace of process pid, so that the two share it: the child enters it
// with setns(2) before it runs, rather than getting a new one. The child is
// held; the caller releases it.
func StartJoined(ctx context.Context, pid int, cfg spawn.Config) (*spawn.Child, error) {
	// BEGIN SOLUTION
	join := map[ns.Kind]int{ns.UTS: pid}
	for k, p := range cfg.Join {
		if k != ns.UTS {
			join[k] = p
		}
	}
	cfg.Join = join
	return spawn.Start(ctx, cfg)
	// END SOLUTION
}
