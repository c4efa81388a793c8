package cli

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/nslab/nslab/pkg/ns"
	"github.com/nslab/nslab/pkg/spawn"
	"golang.org/x/sys/unix"
)

// BenchmarkSandboxes holds n sandboxes at once (a sleep in new namespaces of
// every kind the kernel has: cgroup, ipc, mnt, net, pid, time, user, uts),
// inspects each by inode (each of its namespaces differs from ours), tears
// them all down, and checks that nothing is left: no process, none of their
// namespaces in a listing of the machine, and the kernel's count of network
// namespaces back where it was. The ways of making them:
//
//   - fork: nslab run's own path (fork_linux.go), from this process, without
//     init, four at a time (on 2 cores the kernel makes two sets of namespaces at once)
//   - unshare: unshare(1) --fork --kill-child, one process each, as a shell loop
//     of unshare would start them
//
// Metrics per sandbox: ns/sandbox (the whole cycle), start-, inspect- and
// teardown-ns/sandbox, cpu-ns/sandbox (CPU time of this process and the
// sandboxes' processes: what bounds the throughput when the CPUs are
// busy), mem-KiB/sandbox (MemTotal-MemAvailable while they
// are held, less before), netns-free-ms: how long after the teardown the
// kernel's count of network namespaces is back (their cleanup is
// asynchronous), and netns-left: that count less the one before, at the end
// (other work on a shared machine moves it too). scripts/bench-scale.sh runs it and prints the ratios.
//
//	go test -run '^$' -bench Sandboxes -benchtime 1x ./pkg/cli
//
// NSLAB_BENCH_SCALE (comma separated) replaces the sizes 1,10,100,1000.
func BenchmarkSandboxes(b *testing.B) {
	var kinds []ns.Kind
	for _, k := range ns.ListKinds() {
		if ns.Supported(k) {
			kinds = append(kinds, k)
		}
	}
	if err := spawn.Check(kinds...); err != nil {
		b.Skipf("skip: %v", err)
	}
	if _, err := exec.LookPath("unshare"); err != nil {
		b.Skip("skip: unshare(1) is the comparison")
	}
	sizes := []int{1, 10, 100, 1000}
	if s := os.Getenv("NSLAB_BENCH_SCALE"); s != "" {
		sizes = nil
		for _, f := range strings.Split(s, ",") {
			n, err := strconv.Atoi(f)
			if err != nil || n < 1 {
				b.Fatalf("NSLAB_BENCH_SCALE=%q: want sizes such as 1,10,100", s)
			}
			sizes = append(sizes, n)
		}
	}
	self, err := ns.Of(ns.Self)
	if err != nil {
		b.Fatal(err)
	}
	// unshare's sleep outlives unshare for a moment (--kill-child sends it
	// SIGKILL as unshare dies): as the subreaper, this process reaps it.
	if err := unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0); err != nil {
		b.Fatal(err)
	}
	defer unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 0, 0, 0, 0)
	for _, maker := range sandboxMakers(kinds) {
		for _, n := range sizes {
			b.Run(fmt.Sprintf("%s/n=%d", maker.name, n), func(b *testing.B) {
				var start, inspect, teardown, cpu time.Duration
				var mem, netnsFree float64
				left := 0
				for b.Loop() {
					s, i, d, m, f, l, c := sandboxCycle(b, maker, n, self)
					start, inspect, teardown, cpu = start+s, inspect+i, teardown+d, cpu+c
					mem, netnsFree, left = mem+m, netnsFree+f, l
				}
				per := float64(b.N * n)
				b.ReportMetric(float64((start+inspect+teardown).Nanoseconds())/per, "ns/sandbox")
				b.ReportMetric(float64(start.Nanoseconds())/per, "start-ns/sandbox")
				b.ReportMetric(float64(inspect.Nanoseconds())/per, "inspect-ns/sandbox")
				b.ReportMetric(float64(teardown.Nanoseconds())/per, "teardown-ns/sandbox")
				b.ReportMetric(mem/per, "mem-KiB/sandbox")
				b.ReportMetric(float64(cpu.Nanoseconds())/per, "cpu-ns/sandbox")
				b.ReportMetric(netnsFree/float64(b.N), "netns-free-ms")
				b.ReportMetric(float64(left), "netns-left")
			})
		}
	}
}

// sandboxCycle makes, inspects and tears down n sandboxes once.
func sandboxCycle(b *testing.B, maker sandboxMaker, n int, self ns.Set) (start, inspect, teardown time.Duration, memKiB, netnsFreeMs float64, netnsLeft int, cpu time.Duration) {
	b.Helper()
	netnsBefore := slabObjects("net_namespace")
	memBefore := memUsedKiB()
	cpuBefore := cpuTime()
	t0 := time.Now()
	boxes, err := startSandboxes(maker, n)
	defer func() { // on a failure, leave nothing behind
		for _, s := range boxes {
			s.kill()
		}
	}()
	if err != nil {
		b.Fatalf("%s: %d of %d sandboxes started: %v", maker.name, len(boxes), n, err)
	}
	t1 := time.Now()
	inodes := inspectSandboxes(b, maker, boxes, self)
	t2 := time.Now()
	memKiB = float64(memUsedKiB() - memBefore)
	for _, s := range boxes {
		s.kill()
	}
	for _, s := range boxes {
		s.wait()
	}
	boxes = nil
	t3 := time.Now()
	if want := n * len(maker.kinds); len(inodes) != want {
		b.Fatalf("%s: %d distinct namespaces, want %d (%d sandboxes, %d kinds)", maker.name, len(inodes), want, n, len(maker.kinds))
	}
	// Inode numbers are reused as soon as a namespace is freed, so what is
	// looked for is the sandboxes' processes, by their unique argument.
	if left := processesWith(sleepFor); len(left) > 0 {
		b.Fatalf("%s: processes %v are still there after the teardown", maker.name, left)
	}
	netnsFreeMs = waitNetnsFreed(netnsBefore, n, t3)
	cpu = cpuTime() - cpuBefore
	if netnsBefore >= 0 {
		netnsLeft = slabObjects("net_namespace") - netnsBefore
	}
	return t1.Sub(t0), t2.Sub(t1), t3.Sub(t2), memKiB, netnsFreeMs, netnsLeft, cpu
}

// startSandboxes starts n sandboxes and returns those that started, and the
// first error. A shell loop of unshare starts them one after the other, each
// making its namespaces on its own meanwhile; the fork path starts them
// from parallel goroutines at once, and returns once each runs.
func startSandboxes(maker sandboxMaker, n int) ([]sandbox, error) {
	boxes := make([]sandbox, 0, n)
	type result struct {
		s   sandbox
		err error
	}
	results := make(chan result)
	next := make(chan struct{})
	for range maker.parallel {
		go func() {
			for range next {
				s, err := maker.start(maker.kinds)
				results <- result{s, err}
			}
		}()
	}
	go func() {
		for range n {
			next <- struct{}{}
		}
		close(next)
	}()
	var firstErr error
	for range n {
		r := <-results
		if r.err != nil && firstErr == nil {
			firstErr = r.err
		}
		if r.err == nil {
			boxes = append(boxes, r.s)
		}
	}
	return boxes, firstErr
}

// inspectSandboxes checks that each sandbox is in a new namespace of every
// kind, and returns their namespaces: while they are held, every inode is
// distinct.
func inspectSandboxes(b *testing.B, maker sandboxMaker, boxes []sandbox, self ns.Set) map[ns.ID]bool {
	b.Helper()
	inodes := map[ns.ID]bool{}
	for _, s := range boxes {
		set, err := ns.Of(s.pid())
		if err != nil {
			b.Fatalf("%s: inspect PID %d: %v", maker.name, s.pid(), err)
		}
		for _, k := range maker.kinds {
			id, _ := set.Get(k)
			if host, _ := self.Get(k); id.IsZero() || id.Equal(host) {
				b.Fatalf("%s: PID %d is in %s, want a new %s namespace", maker.name, s.pid(), id, k)
			}
			inodes[ns.ID{Kind: k, Dev: id.Dev, Inode: id.Inode}] = true
		}
	}
	return inodes
}

// waitNetnsFreed returns how long after t3 (the teardown) the kernel's count
// of network namespaces came back, in milliseconds. Network namespaces are
// freed by a kernel worker after their last process, one after the other:
// it waits (up to 10 s and 20 ms each) for the machine-wide count to come
// back within n/10 of where it was. On a shared machine other work makes and
// frees them too, so what is left is reported (netns-left), not failed.
func waitNetnsFreed(netnsBefore, n int, t3 time.Time) float64 {
	limit := 10*time.Second + time.Duration(n)*20*time.Millisecond
	for netnsBefore >= 0 && slabObjects("net_namespace") > netnsBefore+n/10 && time.Since(t3) < limit {
		time.Sleep(10 * time.Millisecond)
	}
	return float64(time.Since(t3).Microseconds()) / 1000
}

// cpuTime is the CPU time, user and system, of this process and of its
// children that have been waited for (the sandboxes' processes, unshare's
// included: this process reaps them as their subreaper). The kernel's
// workers (the network namespaces' cleanup) are not in it.
func cpuTime() time.Duration {
	var self, children syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &self)
	syscall.Getrusage(syscall.RUSAGE_CHILDREN, &children)
	total := time.Duration(0)
	for _, r := range []syscall.Rusage{self, children} {
		total += time.Duration(r.Utime.Nano() + r.Stime.Nano())
	}
	return total
}

type sandbox interface {
	pid() int // a process in every new namespace
	kill()
	wait()
}

// sandboxMaker starts sandboxes one way: each runs sleep sleepFor (the
// marker, unique to this run) in a new namespace of every kind.
type sandboxMaker struct {
	name     string
	parallel int // how many start at once
	kinds    []ns.Kind
	start    func(kinds []ns.Kind) (sandbox, error)
}

// sandboxMakers are the two ways: forkStart, unshareStart.
func sandboxMakers(kinds []ns.Kind) []sandboxMaker {
	return []sandboxMaker{{"fork", 4, kinds, forkStart}, {"unshare", 1, kinds, unshareStart}}
}

// forkStart starts sleep through nslab run's path, without an init.
func forkStart(kinds []ns.Kind) (sandbox, error) {
	cfg := spawn.Config{New: kinds, MapRoot: true, Args: []string{"sleep", sleepFor}}
	path, err := exec.LookPath("sleep")
	if err != nil {
		return nil, err
	}
	f, err := startForked(cfg, path, false)
	if err != nil {
		return nil, err
	}
	return forkedBox{f}, nil
}

type forkedBox struct{ f *forked }

func (s forkedBox) pid() int { return s.f.pid }
func (s forkedBox) kill()    { syscall.Kill(s.f.pid, syscall.SIGKILL) }
func (s forkedBox) wait()    { s.f.wait() }

// unshareStart starts unshare --fork --kill-child … sleep; the sleep is inspected.
func unshareStart(kinds []ns.Kind) (sandbox, error) {
	args := []string{"--fork", "--kill-child", "--map-root-user"}
	for _, k := range kinds {
		args = append(args, map[ns.Kind]string{ns.Cgroup: "--cgroup", ns.IPC: "--ipc", ns.Mnt: "--mount", ns.Net: "--net",
			ns.PID: "--pid", ns.Time: "--time", ns.User: "--user", ns.UTS: "--uts"}[k])
	}
	cmd := exec.Command("unshare", append(args, "sleep", sleepFor)...)
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	return &unshareBox{cmd: cmd}, nil
}

type unshareBox struct {
	cmd   *exec.Cmd
	child int
}

// pid is unshare's child, the sleep: the first process in the new PID and time namespaces.
func (s *unshareBox) pid() int {
	for deadline := time.Now().Add(10 * time.Second); s.child == 0 && time.Now().Before(deadline); {
		if c := childrenOf(s.cmd.Process.Pid); len(c) > 0 {
			s.child = c[0]
			break
		}
		time.Sleep(100 * time.Microsecond)
	}
	return s.child
}

func (s *unshareBox) kill() { s.cmd.Process.Kill() }
func (s *unshareBox) wait() {
	s.cmd.Wait()
	if s.child != 0 { // --kill-child: the sleep dies with unshare, re-parented to this process
		var ws unix.WaitStatus
		for {
			if _, err := unix.Wait4(s.child, &ws, 0, nil); err != unix.EINTR {
				break
			}
		}
	}
}

// memUsedKiB is MemTotal - MemAvailable from /proc/meminfo.
func memUsedKiB() int {
	f, err := os.Open("/proc/meminfo")
	if err != nil {
		return 0
	}
	defer f.Close()
	var total, avail int
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) < 2 {
			continue
		}
		v, _ := strconv.Atoi(fields[1])
		switch fields[0] {
		case "MemTotal:":
			total = v
		case "MemAvailable:":
			avail = v
		}
	}
	return total - avail
}

// slabObjects is the kernel's count of live objects of a slab cache
// (/proc/slabinfo, root only), or -1.
func slabObjects(cache string) int {
	b, err := os.ReadFile("/proc/slabinfo")
	if err != nil {
		return -1
	}
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) > 1 && f[0] == cache {
			n, _ := strconv.Atoi(f[1])
			return n
		}
	}
	return -1
}

// sleepFor is the sandboxes' sleep, an hour and this process's PID in
// microseconds: its command line tells them from every other process.
var sleepFor = fmt.Sprintf("3600.%06d", os.Getpid()%1000000)

// processesWith lists the processes with arg in their command line.
func processesWith(arg string) []int {
	var pids []int
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, _ := os.ReadFile("/proc/" + e.Name() + "/cmdline")
		for _, a := range strings.Split(string(b), "\x00") {
			if a == arg {
				pids = append(pids, pid)
			}
		}
	}
	return pids
}
