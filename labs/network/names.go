package network

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/netip"
)

// The lab's addresses: TEST-NET-2 of RFC 5737, reserved for documentation
// and never routed on the Internet. They exist only inside the lab's own
// network namespaces. Each end gets a /32, so that nothing is reachable
// until a route says which link leads there.
var (
	LabNet        = netip.MustParsePrefix("198.51.100.0/24")
	BastionAddr   = netip.MustParsePrefix("198.51.100.1/32")
	ContainerAddr = netip.MustParsePrefix("198.51.100.2/32")
)

// LinkPrefix starts the name of every link the lab makes.
const LinkPrefix = "nsl"

// LinkNames returns two new link names for one run, "nsl3fa2c1b" and
// "nsl3fa2c1c" (the bastion's end and the container's), so that runs in
// parallel never collide. Link names are at most 15 bytes (IFNAMSIZ-1).
func LinkNames() (bastion, container string) {
	var b [3]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(fmt.Sprintf("read random bytes: %v", err)) // crypto/rand never fails on Linux
	}
	base := LinkPrefix + hex.EncodeToString(b[:])
	return base + "b", base + "c"
}

// Allowed reports whether the lab may talk to addr: loopback, or an address
// of LabNet. Holders refuse any other destination and any other address to give.
func Allowed(addr netip.Addr) bool {
	return addr.IsLoopback() || LabNet.Contains(addr)
}

// AllowedPrefix reports whether the lab may give prefix to a link or route it:
// inside LabNet only.
func AllowedPrefix(p netip.Prefix) bool {
	return p.IsValid() && LabNet.Contains(p.Addr()) && p.Bits() >= LabNet.Bits()
}
