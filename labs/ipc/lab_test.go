//go:build linux

package ipc_test

import (
	"testing"

	"github.com/nslab/nslab/labs/ipc"
	"github.com/nslab/nslab/pkg/lab/labtest"
)

// TestLabShape checks the steps and the docs page (labtest.CheckLab).
func TestLabShape(t *testing.T) { labtest.CheckLab(t, ipc.Lab, 100) }
