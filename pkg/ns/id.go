package ns

import (
	"fmt"
	"strconv"
	"strings"
)

// ID identifies one namespace: the device and inode number of its nsfs file.
// The zero ID identifies no namespace.
type ID struct {
	Kind  Kind   // the kind asked for (pid_for_children stays pid_for_children)
	Dev   uint64 // st_dev of the nsfs file
	Inode uint64 // st_ino of the nsfs file; the number in the link text
}

// String returns the kernel's link text, as readlink /proc/PID/ns/KIND prints it:
// "uts:[4026531838]". A *_for_children kind prints with its base name, as the
// kernel does.
func (id ID) String() string {
	if id.IsZero() {
		return ""
	}
	return fmt.Sprintf("%s:[%d]", id.Kind.Base(), id.Inode)
}

// Equal reports whether id and o are the same namespace: same device and same
// inode. The kinds pid and pid_for_children compare equal when they name the
// same namespace.
func (id ID) Equal(o ID) bool {
	return !id.IsZero() && id.Dev == o.Dev && id.Inode == o.Inode
}

// IsZero reports whether id names no namespace.
func (id ID) IsZero() bool { return id.Dev == 0 && id.Inode == 0 }

// ParseLink parses the kernel's link text "KIND:[INODE]" into its base kind and
// inode number. It is what readlink(2) of /proc/PID/ns/KIND returns.
func ParseLink(s string) (Kind, uint64, error) {
	name, rest, ok := strings.Cut(s, ":[")
	if !ok || !strings.HasSuffix(rest, "]") {
		return "", 0, fmt.Errorf("parse namespace link %q: want KIND:[INODE]", s)
	}
	k, err := ParseKind(name)
	if err != nil {
		return "", 0, fmt.Errorf("parse namespace link %q: %w", s, err)
	}
	ino, err := strconv.ParseUint(strings.TrimSuffix(rest, "]"), 10, 64)
	if err != nil {
		return "", 0, fmt.Errorf("parse namespace link %q: bad inode: %w", s, err)
	}
	return k, ino, nil
}
