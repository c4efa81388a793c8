package spawn

import (
	"fmt"
	"os"
	"strings"

	"github.com/nslab/nslab/pkg/ns"
)

// sysctl files that decide whether an unprivileged user may create a user namespace.
const (
	maxUserNS        = "/proc/sys/user/max_user_namespaces"
	debianUserNS     = "/proc/sys/kernel/unprivileged_userns_clone"
	apparmorUserNS   = "/proc/sys/kernel/apparmor_restrict_unprivileged_userns"
	fixRoot          = "run as root"
	fixAppArmor      = "run as root, or allow them: sudo sysctl -w kernel.apparmor_restrict_unprivileged_userns=0 (see docs/troubleshooting.md#apparmor)"
	fixDebian        = "run as root, or allow them: sudo sysctl -w kernel.unprivileged_userns_clone=1 (see docs/troubleshooting.md#eperm)"
	fixMaxNamespaces = "run as root, or raise the limit: sudo sysctl -w user.max_user_namespaces=15000 (see docs/troubleshooting.md#eperm)"
)

// Check reports whether the caller can create namespaces of the given kinds
// with Start, and when not, returns a *PrivilegeError that says what to do.
// A kind the kernel lacks is an error too.
func Check(kinds ...ns.Kind) error {
	for _, k := range kinds {
		if !ns.Supported(k.Base()) {
			return &PrivilegeError{Op: "create a " + string(k) + " namespace", Reason: "the running kernel has no " + string(k.Base()) + " namespaces", Fix: "see docs/troubleshooting.md#missing-kind"}
		}
	}
	if os.Geteuid() == 0 || len(kinds) == 0 {
		return nil
	}
	return CheckUserNS()
}

// CheckUserNS reports whether this unprivileged caller may create a user
// namespace, reading the sysctls that decide it.
func CheckUserNS() error {
	op := fmt.Sprintf("create a user namespace as UID %d", os.Geteuid())
	if !ns.Supported(ns.User) {
		return &PrivilegeError{Op: op, Reason: "the kernel has no user namespaces", Fix: fixRoot}
	}
	if readSysctl(maxUserNS) == "0" {
		return &PrivilegeError{Op: op, Reason: "user.max_user_namespaces is 0", Fix: fixMaxNamespaces}
	}
	if readSysctl(debianUserNS) == "0" {
		return &PrivilegeError{Op: op, Reason: "kernel.unprivileged_userns_clone is 0", Fix: fixDebian}
	}
	if readSysctl(apparmorUserNS) == "1" {
		return &PrivilegeError{Op: op, Reason: "AppArmor restricts unprivileged user namespaces (Ubuntu 24.04 default)", Fix: fixAppArmor}
	}
	return nil
}

func readSysctl(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(b))
}
