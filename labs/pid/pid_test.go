//go:build linux

package pid_test

import (
	"os"
	"strconv"
	"testing"

	"github.com/nslab/nslab/labs/pid"
	"github.com/nslab/nslab/pkg/lab/labtest"
	"github.com/nslab/nslab/pkg/ns"
)

func TestMain(m *testing.M) { labtest.Main(m) }

func TestPID(t *testing.T) {
	labtest.Need(t, ns.PID)
	labtest.Steps(t, pid.Lab,
		testNewNamespace, testProcMount, testInitSignals, testOrphans, testInitDeath, testNoEscape, testUnshare, testNested)
}

func testNewNamespace(t *testing.T) {
	t.Parallel()
	r, err := pid.RunNewNamespace(t.Context())
	if err != nil {
		labtest.Failf(t, pid.Lab, "01", "start a child in a new PID namespace and let it report: %v", err)
	}
	if err := pid.CheckNewNamespace(r); err != nil {
		labtest.Failf(t, pid.Lab, "01", "%v", err)
	}
}

func testProcMount(t *testing.T) {
	labtest.Need(t, ns.PID, ns.Mnt)
	t.Parallel()
	self := readlink(t, "/proc/self")
	r, err := pid.RunProcMount(t.Context())
	if err != nil {
		labtest.Failf(t, pid.Lab, "02", "a child in new PID and mount namespaces calling MountProc: %v", err)
	}
	if err := pid.CheckProcMount(r); err != nil {
		labtest.Failf(t, pid.Lab, "02", "%v", err)
	}
	// The witness on this side: the host's /proc still shows the host's view.
	if after := readlink(t, "/proc/self"); after != self || after != strconv.Itoa(os.Getpid()) {
		labtest.Failf(t, pid.Lab, "02", "the host's /proc/self went from %s to %s; want %d: the new proc belongs to the child's mount namespace", self, after, os.Getpid())
	}
}

func testInitSignals(t *testing.T) {
	labtest.Need(t, ns.PID, ns.User)
	t.Parallel()
	r, err := pid.RunSignals(t.Context())
	if err != nil {
		labtest.Failf(t, pid.Lab, "03", "signal the init of a new PID namespace: %v", err)
	}
	if err := pid.CheckSignals(r); err != nil {
		labtest.Failf(t, pid.Lab, "03", "%v", err)
	}
	if _, err := os.Stat("/proc/" + strconv.Itoa(r.Box.InitPID)); err == nil && r.Box.InitPID > 0 {
		labtest.Failf(t, pid.Lab, "03", "/proc/%d, the killed init, still exists on the host", r.Box.InitPID)
	}
}

func testOrphans(t *testing.T) {
	labtest.Need(t, ns.PID, ns.Mnt)
	t.Parallel()
	r, err := pid.RunOrphan(t.Context())
	if err != nil {
		labtest.Failf(t, pid.Lab, "04", "an init that makes an orphan and reaps it with ReapOne: %v", err)
	}
	if err := pid.CheckOrphan(r); err != nil {
		labtest.Failf(t, pid.Lab, "04", "%v (the init said %q)", err, r.ReaperLines)
	}
}

func testInitDeath(t *testing.T) {
	t.Parallel()
	r, err := pid.RunInitDeath(t.Context())
	if err != nil {
		labtest.Failf(t, pid.Lab, "05", "kill the init of a namespace with five processes: %v", err)
	}
	if err := pid.CheckInitDeath(r); err != nil {
		labtest.Failf(t, pid.Lab, "05", "%v", err)
	}
	for _, p := range r.BeforeLab {
		if _, err := os.Stat("/proc/" + strconv.Itoa(p)); err == nil {
			if id, err := ns.Get(p, ns.PID); err == nil && id.Equal(r.NS) {
				labtest.Failf(t, pid.Lab, "05", "PID %d is still in %s after its init died", p, r.NS)
			}
		}
	}
}

func testNoEscape(t *testing.T) {
	labtest.Need(t, ns.PID, ns.Mnt)
	t.Parallel()
	r, err := pid.RunReach(t.Context())
	if err != nil {
		labtest.Failf(t, pid.Lab, "06", "a child in a new PID namespace calling Reach(%d): %v", os.Getpid(), err)
	}
	if err := pid.CheckReach(r); err != nil {
		labtest.Failf(t, pid.Lab, "06", "%v", err)
	}
	// The child itself is init of its namespace: PID 1, which it may signal.
	if r.PID != 1 {
		labtest.Failf(t, pid.Lab, "06", "the child says it is PID %d; want 1", r.PID)
	}
}

func testUnshare(t *testing.T) {
	labtest.Need(t, ns.PID, ns.User)
	t.Parallel()
	r, err := pid.RunUnshare(t.Context())
	if err != nil {
		labtest.Failf(t, pid.Lab, "07", "a Go program calling UnshareForChildren on a locked thread: %v", err)
	}
	if err := pid.CheckUnshare(r); err != nil {
		labtest.Failf(t, pid.Lab, "07", "%v", err)
	}
}

func testNested(t *testing.T) {
	t.Parallel()
	r, err := pid.RunNested(t.Context())
	if err != nil {
		labtest.Failf(t, pid.Lab, "08", "%d nested PID namespaces, walked back with Ancestry: %v", pid.Depth, err)
	}
	if err := pid.CheckNested(r); err != nil {
		labtest.Failf(t, pid.Lab, "08", "%v", err)
	}
}

func readlink(t *testing.T, path string) string {
	t.Helper()
	s, err := os.Readlink(path)
	if err != nil {
		t.Fatal(err)
	}
	return s
}
