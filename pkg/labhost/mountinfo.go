package labhost

import (
	"bufio"
	"io"
	"slices"
	"strings"
)

// V2Mount returns the mount point of the first cgroup2 mount whose root is
// the hierarchy's root, from mountinfo text.
func V2Mount(mountinfo io.Reader) (string, bool) {
	sc := bufio.NewScanner(mountinfo)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		sep := -1
		for i, x := range f {
			if x == "-" {
				sep = i
				break
			}
		}
		if sep < 0 || sep+1 >= len(f) || len(f) < 5 {
			continue
		}
		if f[sep+1] == "cgroup2" && f[3] == "/" {
			return f[4], true
		}
	}
	return "", false
}

// V1Mount returns the mount point of the cgroup v1 hierarchy of controller,
// with its root visible, from mountinfo text.
func V1Mount(mountinfo io.Reader, controller string) (string, bool) {
	sc := bufio.NewScanner(mountinfo)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		i := slices.Index(f, "-")
		if i < 0 || i+3 >= len(f) || len(f) < 5 || f[i+1] != "cgroup" || f[3] != "/" {
			continue
		}
		if slices.Contains(strings.Split(f[i+3], ","), controller) {
			return f[4], true
		}
	}
	return "", false
}
