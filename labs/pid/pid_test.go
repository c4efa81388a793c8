//go:build linux

package pid_test

import (
	"testing"

	"github.com/nslab/nslab/labs/pid"
	"github.com/nslab/nslab/pkg/lab/labtest"
)

func TestMain(m *testing.M) { labtest.Main(m) }

// TestPID grades the lab: each step's code runs in a lab host, its check here.
func TestPID(t *testing.T) { labtest.Grade(t, pid.Lab) }
