package spawn_test

import (
	"testing"
	"time"

	"github.com/nslab/nslab/pkg/ns"
	"github.com/nslab/nslab/pkg/spawn"
)

// The benchmarks time a whole child's life, Start + Release + Wait, and also
// report each phase: start-ns (clone, maps written, shim held), release-ns
// (shim set up and exec'd) and wait-ns (the command ran and was reaped).
// See docs/performance.md for figures and how to read them.

// sixKinds are the kinds `unshare --pid --mount --uts --ipc --net --user` makes.
var sixKinds = []ns.Kind{ns.UTS, ns.IPC, ns.Mnt, ns.PID, ns.Net, ns.User}

func BenchmarkStartTrue(b *testing.B) {
	benchChild(b, spawn.Config{Args: []string{"true"}})
}

func BenchmarkSixNamespaces(b *testing.B) {
	needBench(b, sixKinds...)
	benchChild(b, spawn.Config{New: sixKinds, MapRoot: true, Args: []string{"true"}})
}

// BenchmarkSixNamespacesNoHold is spawn.Run's way: no hold, and no shim when
// the child needs no setup of its own (the mount namespace is made private by
// the syscall package).
func BenchmarkSixNamespacesNoHold(b *testing.B) {
	needBench(b, sixKinds...)
	benchChild(b, spawn.Config{New: sixKinds, MapRoot: true, NoHold: true, Args: []string{"true"}})
}

func BenchmarkEntrypoint(b *testing.B) {
	benchChild(b, spawn.Config{Entrypoint: "spawntest.exit", Args: []string{"0"}})
}

// needBench skips b, with the reason, when these namespaces cannot be made here.
func needBench(b *testing.B, kinds ...ns.Kind) {
	b.Helper()
	if err := spawn.Check(kinds...); err != nil {
		b.Skipf("skip: %v", err)
	}
}

func benchChild(b *testing.B, cfg spawn.Config) {
	b.ReportAllocs()
	var phases [3]time.Duration // start, release, wait
	for b.Loop() {
		t0 := time.Now()
		c, err := spawn.Start(b.Context(), cfg)
		if err != nil {
			b.Fatal(err)
		}
		t1 := time.Now()
		if err := c.Release(); err != nil {
			c.Stop()
			b.Fatal(err)
		}
		t2 := time.Now()
		if err := c.Wait(); err != nil {
			b.Fatal(err)
		}
		phases[0] += t1.Sub(t0)
		phases[1] += t2.Sub(t1)
		phases[2] += time.Since(t2)
	}
	for i, unit := range []string{"start-ns/op", "release-ns/op", "wait-ns/op"} {
		b.ReportMetric(float64(phases[i].Nanoseconds())/float64(b.N), unit)
	}
}
