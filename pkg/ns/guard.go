package ns

import (
	"fmt"
	"strconv"
	"strings"
)

// Arg is the text that passes a namespace's identity to a child on its
// command line: "DEV:INODE". A child cannot always read its parent's
// /proc/PID/ns (from inside a user namespace it may not), so it is told.
func (id ID) Arg() string { return fmt.Sprintf("%d:%d", id.Dev, id.Inode) }

// ParseArg reads the text of Arg back into an ID of kind k.
func ParseArg(k Kind, s string) (ID, error) {
	dev, ino, ok := strings.Cut(s, ":")
	d, err1 := strconv.ParseUint(dev, 10, 64)
	i, err2 := strconv.ParseUint(ino, 10, 64)
	if !ok || err1 != nil || err2 != nil {
		return ID{}, fmt.Errorf("parse namespace %q: want DEV:INODE, as ID.Arg writes it", s)
	}
	return ID{Kind: k, Dev: d, Inode: i}, nil
}

// NotIn returns an error when own, the caller's namespace, is parent (an
// Arg): the guard of a lab child that must act only in a namespace the lab
// made, never in its parent's. what is the act refused ("sethostname(2)").
func NotIn(own ID, parent, what string) error {
	p, err := ParseArg(own.Kind, parent)
	if err != nil {
		return err
	}
	if own.Equal(p) {
		return fmt.Errorf("refuse to %s: the process is in its parent's %s namespace %s, not one the lab made", what, own.Kind, own)
	}
	return nil
}

// GuardArg is the Arg of the caller's namespace of kind k: what a lab
// passes to a child that checks with NotInParent.
func GuardArg(k Kind) (string, error) {
	id, err := Get(Self, k)
	if err != nil {
		return "", err
	}
	return id.Arg(), nil
}

// NotInParent is NotIn for the caller's own namespace of kind k: an error
// when the calling process is still in parent (from GuardArg), or cannot
// read its own namespace.
func NotInParent(k Kind, parent, what string) error {
	own, err := Get(Self, k)
	if err != nil {
		return err
	}
	return NotIn(own, parent, what)
}
