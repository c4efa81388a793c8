package host

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// ParseMountinfo reads the text of /proc/PID/mountinfo (proc(5)); malformed
// lines are skipped.
func ParseMountinfo(text string) []Mount {
	var out []Mount
	for _, line := range strings.Split(text, "\n") {
		if m, ok := ParseMountLine(line); ok {
			out = append(out, m)
		}
	}
	return out
}

// ParseMountLine reads one line of mountinfo, "36 35 98:0 /mnt1 /mnt2
// rw,noatime master:1 - ext3 /dev/root rw,errors=continue"; false for
// a malformed one.
func ParseMountLine(line string) (Mount, bool) {
	f := strings.Fields(line)
	sep := slices.Index(f, "-")
	if len(f) < 6 || sep < 6 || sep+2 >= len(f) {
		return Mount{}, false
	}
	id, err1 := strconv.Atoi(f[0])
	parent, err2 := strconv.Atoi(f[1])
	if err1 != nil || err2 != nil {
		return Mount{}, false
	}
	m := Mount{
		ID: id, Parent: parent, Dev: f[2], Root: Unescape(f[3]), Target: Unescape(f[4]), Options: f[5],
		Propagation: strings.Join(f[6:sep], " "), FSType: f[sep+1], Source: Unescape(f[sep+2]),
	}
	if sep+3 < len(f) {
		m.SuperOptions = f[sep+3]
	}
	return m, true
}

// Unescape undoes the octal escapes of mountinfo (proc(5)): "\040" is a
// space, "\011" a tab, "\012" a newline, "\134" a backslash.
func Unescape(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+4 <= len(s) {
			if n, err := strconv.ParseUint(s[i+1:i+4], 8, 8); err == nil {
				b.WriteByte(byte(n))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// PropagationWords describes the optional fields of a mount as mount(8)'s
// --make-* words: "private", "shared (peer group 5)", "slave (of peer group 3)", "unbindable".
func PropagationWords(fields string) string {
	var out []string
	for _, f := range strings.Fields(fields) {
		k, v, _ := strings.Cut(f, ":")
		switch k {
		case "shared":
			out = append(out, "shared (peer group "+v+")")
		case "master":
			out = append(out, "slave (of peer group "+v+")")
		case "unbindable":
			out = append(out, "unbindable")
		}
	}
	if len(out) == 0 {
		return "private"
	}
	return strings.Join(out, ", ")
}

// mountKeys names each mount by its target; a mount stacked on another at
// the same target is named "/mnt (stacked 2)".
func mountKeys(ms []Mount) map[string]Mount {
	out := map[string]Mount{}
	count := map[string]int{}
	for _, m := range ms {
		count[m.Target]++
		key := m.Target
		if n := count[m.Target]; n > 1 {
			key = fmt.Sprintf("%s (stacked %d)", m.Target, n)
		}
		out[key] = m
	}
	return out
}

// identity is what a mount is: another mount at the same place, with another
// identity (or unique ID), replaced it.
func (m Mount) identity() string {
	return fmt.Sprintf("%s from %s (dev %s, root %s, mount ID %d)", m.FSType, m.Source, m.Dev, m.Root, m.ID)
}

// replacement says how the mount a replaced the mount b.
func replacement(b, a Mount) string {
	if b.identity() != a.identity() {
		return fmt.Sprintf("%s -> %s", b.identity(), a.identity())
	}
	return fmt.Sprintf("a new mount of the same %s from %s (unique mount ID %d -> %d)", a.FSType, a.Source, b.Unique, a.Unique)
}

func (m Mount) summary() string {
	return fmt.Sprintf("%s (%s from %s, %s, %s)", m.Target, m.FSType, m.Source, m.Options, PropagationWords(m.Propagation))
}

func diffMounts(before, after []Mount) []change {
	return diffByKey(mountKeys(before), mountKeys(after), keyedDiff[Mount]{
		added: func(_ string, m Mount) change {
			return change{"mount added: " + m.summary(), "umount " + quote(m.Target)}
		},
		kept: diffMount,
		removed: func(_ string, m Mount) change {
			return change{"mount removed: " + m.summary(), fmt.Sprintf("mount -t %s -o %s %s %s", m.FSType, m.Options, quote(m.Source), quote(m.Target))}
		},
	})
}

// diffMount compares two mounts at the same place: another file system (a
// replacement), or the same one.
func diffMount(key string, b, a Mount) []change {
	if b.identity() != a.identity() || b.Unique != a.Unique && b.Unique != 0 && a.Unique != 0 {
		return []change{{fmt.Sprintf("mount %s replaced: %s", key, replacement(b, a)),
			fmt.Sprintf("umount %s, then mount %s from %s there again", quote(b.Target), b.FSType, b.Source)}}
	}
	var out []change
	if pb, pa := PropagationWords(b.Propagation), PropagationWords(a.Propagation); pb != pa {
		out = append(out, change{fmt.Sprintf("mount %s: propagation %s -> %s", key, pb, pa), propagationHint(b, pa)})
	}
	if b.Options != a.Options {
		out = append(out, change{fmt.Sprintf("mount %s: options %s -> %s", key, b.Options, a.Options),
			fmt.Sprintf("mount -o remount,%s %s", b.Options, quote(b.Target))})
	}
	if b.SuperOptions != a.SuperOptions {
		out = append(out, change{fmt.Sprintf("mount %s: super block options %s -> %s", key, b.SuperOptions, a.SuperOptions),
			fmt.Sprintf("mount -o remount,%s %s", b.SuperOptions, quote(b.Target))})
	}
	return out
}

func propagationHint(b Mount, now string) string {
	was := PropagationWords(b.Propagation)
	switch {
	case strings.HasPrefix(was, "shared"):
		return "mount --make-shared " + quote(b.Target)
	case strings.HasPrefix(was, "slave"):
		return "mount --make-slave " + quote(b.Target) + " (a slave of its former peer group needs a bind mount from it)"
	case was == "unbindable":
		return "mount --make-unbindable " + quote(b.Target)
	}
	return "mount --make-private " + quote(b.Target)
}

// quote puts a path in single quotes when a shell would split it.
func quote(s string) string {
	if s != "" && !strings.ContainsAny(s, " \t\n'\"\\$`*?[]{}();&|<>!#~") {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// keyedDiff says what changed of a thing found by its key: added, kept (in
// both states, changed or not) or removed.
type keyedDiff[V any] struct {
	added   func(key string, now V) change
	kept    func(key string, before, now V) []change
	removed func(key string, before V) change
}

// diffByKey compares two states of things by key: those of after in key
// order, added or kept, then those removed.
func diffByKey[V any](before, after map[string]V, d keyedDiff[V]) []change {
	var out []change
	for _, k := range sortedKeys(after) {
		if old, ok := before[k]; ok {
			out = append(out, d.kept(k, old, after[k])...)
		} else {
			out = append(out, d.added(k, after[k]))
		}
	}
	for _, k := range sortedKeys(before) {
		if _, ok := after[k]; !ok {
			out = append(out, d.removed(k, before[k]))
		}
	}
	return out
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
