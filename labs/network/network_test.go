//go:build linux

package network_test

import (
	"net"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/nslab/nslab/labs/network"
	"github.com/nslab/nslab/pkg/lab"
	"github.com/nslab/nslab/pkg/lab/labtest"
	"github.com/nslab/nslab/pkg/ns"
)

func TestMain(m *testing.M) { labtest.Main(m) }

// TestNetwork runs each step's scenario (the one `nslab lab network`
// narrates) with the narration in the test log, then checks from the host
// that nothing of it reached the host's network namespace.
func TestNetwork(t *testing.T) {
	labtest.Need(t, ns.Net, ns.Mnt)
	for _, s := range network.Lab.Steps {
		labtest.Step(t, network.Lab, s.ID, func(t *testing.T) {
			t.Parallel()
			before := hostLinks(t)
			if err := s.Run(t.Context(), lab.NewNarrator(logWriter{t})); err != nil {
				labtest.Failf(t, network.Lab, s.ID, "%v", err)
			}
			hostUntouched(t, s.ID, before)
			if s.ID == "02" {
				hostDeviceNames(t)
			}
		})
	}
}

// hostDeviceNames reads the host's /proc/net/dev with the learner's
// DeviceNames and compares it with the standard library's list of links.
func hostDeviceNames(t *testing.T) {
	f, err := os.Open("/proc/net/dev")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	got, err := network.DeviceNames(f)
	if err != nil {
		labtest.Failf(t, network.Lab, "02", "DeviceNames(/proc/net/dev) on the host: %v", err)
	}
	if want := hostLinks(t); !slices.Equal(got, want) {
		labtest.Failf(t, network.Lab, "02", "DeviceNames(/proc/net/dev) on the host = %v; want %v, the host's links", got, want)
	}
}

// hostLinks lists the host's links, sorted.
func hostLinks(t *testing.T) []string {
	t.Helper()
	ifs, err := net.Interfaces()
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, ifc := range ifs {
		names = append(names, ifc.Name)
	}
	slices.Sort(names)
	return names
}

// hostUntouched checks that the host holds no lab link and no lab address.
func hostUntouched(t *testing.T, id string, before []string) {
	t.Helper()
	ifs, err := net.Interfaces()
	if err != nil {
		t.Fatal(err)
	}
	for _, ifc := range ifs {
		if strings.HasPrefix(ifc.Name, network.LinkPrefix) && !slices.Contains(before, ifc.Name) {
			labtest.Failf(t, network.Lab, id, "the host's network namespace holds %s, a link of the lab; want every lab link in the lab's namespaces", ifc.Name)
		}
		addrs, _ := ifc.Addrs()
		for _, a := range addrs {
			if ipn, ok := a.(*net.IPNet); ok && (ipn.IP.Equal(network.BastionAddr.Addr().AsSlice()) || ipn.IP.Equal(network.ContainerAddr.Addr().AsSlice())) {
				labtest.Failf(t, network.Lab, id, "the host's link %s has the lab's address %s; the host must never receive an address", ifc.Name, ipn)
			}
		}
	}
}

// logWriter sends the narration to the test log, one call per line.
type logWriter struct{ t *testing.T }

func (w logWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}
