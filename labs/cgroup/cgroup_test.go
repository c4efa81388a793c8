//go:build linux

package cgroup_test

import (
	"testing"

	"github.com/nslab/nslab/labs/cgroup"
	"github.com/nslab/nslab/pkg/lab/labtest"
)

func TestMain(m *testing.M) { labtest.Main(m) }

// TestCgroup grades the lab: each step's code runs in a lab host, its check here.
func TestCgroup(t *testing.T) { labtest.Grade(t, cgroup.Lab) }
