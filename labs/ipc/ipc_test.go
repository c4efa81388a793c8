//go:build linux

package ipc_test

import (
	"testing"

	"github.com/nslab/nslab/labs/ipc"
	"github.com/nslab/nslab/pkg/lab/labtest"
)

func TestMain(m *testing.M) { labtest.Main(m) }

// TestIPC grades the lab: each step's code runs in a lab host, its check here.
func TestIPC(t *testing.T) { labtest.Grade(t, ipc.Lab) }
