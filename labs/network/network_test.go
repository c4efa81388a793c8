//go:build linux

package network_test

import (
	"testing"

	"github.com/nslab/nslab/labs/network"
	"github.com/nslab/nslab/pkg/lab/labtest"
)

func TestMain(m *testing.M) { labtest.Main(m) }

// TestNetwork grades the lab: each step's code runs in a lab host, its check here.
func TestNetwork(t *testing.T) { labtest.Grade(t, network.Lab) }
