package labhost

import (
	"bufio"
	"io"
	"strconv"
	"strings"
)

// Size is how many IDs a lab host maps when the caller is root: 0 (root) to
// 65534 (nobody) inside, so that the user lab can map IDs of its own.
const Size = 65536

// FallbackBase is the first machine ID of the lab host's range when root has
// no subordinate range in /etc/subuid or /etc/subgid: an ID far above those
// that distributions hand to users (useradd starts subordinate ranges at 100000).
const FallbackBase = 1_000_000_000

// Range is a block of machine IDs: Size IDs from Base.
type Range struct {
	Base, Size int
}

// SubordinateRange returns root's first range of at least Size IDs in the
// text of /etc/subuid or /etc/subgid ("root:100000:65536" lines), and false
// when there is none.
func SubordinateRange(r io.Reader, user string) (Range, bool) {
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		f := strings.Split(strings.TrimSpace(sc.Text()), ":")
		if len(f) != 3 || (f[0] != user && f[0] != "0") {
			continue
		}
		base, err1 := strconv.Atoi(f[1])
		size, err2 := strconv.Atoi(f[2])
		if err1 == nil && err2 == nil && base > 0 && size >= Size {
			return Range{Base: base, Size: Size}, true
		}
	}
	return Range{}, false
}
