package ns

// Self stands for the calling process wherever a PID is expected ("/proc/self").
const Self = 0

// Set is every namespace of one process, as read at one moment.
type Set struct {
	PID    int         // the process, or Self
	IDs    map[Kind]ID // one entry per kind the kernel has
	Absent []Kind      // kinds the running kernel lacks
}

// Get returns the namespace of kind k, and false when the kernel lacks that kind.
func (s Set) Get(k Kind) (ID, bool) {
	id, ok := s.IDs[k]
	return id, ok
}

// Diff returns, in the order of [Kinds], the kinds whose namespaces differ
// between a and b. A kind present in only one of the sets counts as different.
func Diff(a, b Set) []Kind {
	var diff []Kind
	for _, k := range kinds {
		x, okx := a.IDs[k]
		y, oky := b.IDs[k]
		if okx != oky || (okx && !x.Equal(y)) {
			diff = append(diff, k)
		}
	}
	return diff
}

// Same returns the kinds, in the order of [Kinds], that a and b share.
func Same(a, b Set) []Kind {
	var same []Kind
	for _, k := range kinds {
		x, okx := a.IDs[k]
		y, oky := b.IDs[k]
		if okx && oky && x.Equal(y) {
			same = append(same, k)
		}
	}
	return same
}
