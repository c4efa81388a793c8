//go:build linux

package cgroup

import "fmt"

// NoLimit is Pids.Max when pids.max reads "max".
const NoLimit = -1

// Pids is what the pids controller shows of one cgroup.
type Pids struct {
	Max     int64 `json:"max"`     // pids.max: the most tasks the cgroup and its descendants may hold; NoLimit for "max"
	Current int64 `json:"current"` // pids.current: the tasks they hold now
}

func (p Pids) String() string {
	max := fmt.Sprint(p.Max)
	if p.Max == NoLimit {
		max = "max"
	}
	return fmt.Sprintf("pids.max %s, pids.current %d", max, p.Current)
}
