//go:build linux

package uts

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"golang.org/x/sys/unix"
)

// Names are the two strings a UTS namespace holds.
type Names struct {
	Hostname   string `json:"hostname"`   // sethostname(2), uname -n, hostname(1)
	Domainname string `json:"domainname"` // setdomainname(2), the NIS domain name; "(none)" when unset
}

func (n Names) String() string {
	return fmt.Sprintf("hostname %q, domain name %q", n.Hostname, n.Domainname)
}

// uname reads the names of the calling thread's UTS namespace with uname(2).
// It is the lab's own reader, used to check the learner's code.
func uname() (Names, error) {
	var u unix.Utsname
	if err := unix.Uname(&u); err != nil {
		return Names{}, fmt.Errorf("uname: %w", err)
	}
	return Names{Hostname: unix.ByteSliceToString(u.Nodename[:]), Domainname: unix.ByteSliceToString(u.Domainname[:])}, nil
}

// LabNames returns names no other process uses: uts-lab-<random>, so that
// tests running in parallel (and a host with another lab running) never see
// each other's names by accident.
func LabNames() Names {
	var b [4]byte
	rand.Read(b[:]) // never returns an error (crypto/rand)
	tag := hex.EncodeToString(b[:])
	return Names{Hostname: "uts-lab-" + tag, Domainname: "lab-" + tag + ".nslab.test"}
}

// writeNames prints n as one JSON line: the children's report to their parent.
func writeNames(w io.Writer, n Names) error {
	b, _ := json.Marshal(n) // two strings always marshal
	_, err := fmt.Fprintf(w, "%s\n", b)
	return err
}

// ParseNames reads the one-line JSON report written by a lab child.
func ParseNames(line string) (Names, error) {
	var n Names
	if err := json.Unmarshal([]byte(strings.TrimSpace(line)), &n); err != nil {
		return Names{}, fmt.Errorf("parse the child's report %q: %w", strings.TrimSpace(line), err)
	}
	return n, nil
}

// setHostname is the lab's own sethostname(2), for the peers of step 05.
func setHostname(name string) error {
	if err := unix.Sethostname([]byte(name)); err != nil {
		return fmt.Errorf("sethostname %q: %w", name, err)
	}
	return nil
}
