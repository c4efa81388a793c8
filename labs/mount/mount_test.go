//go:build linux

package mount_test

import (
	"testing"

	"github.com/nslab/nslab/labs/mount"
	"github.com/nslab/nslab/pkg/lab/labtest"
)

func TestMain(m *testing.M) { labtest.Main(m) }

// TestMount grades the lab: each step's code runs in a lab host, its check here.
func TestMount(t *testing.T) { labtest.Grade(t, mount.Lab) }
