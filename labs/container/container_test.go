//go:build linux

package container_test

import (
	"testing"

	"github.com/nslab/nslab/labs/container"
	"github.com/nslab/nslab/pkg/lab/labtest"
)

func TestMain(m *testing.M) { labtest.Main(m) }

// TestContainer grades the lab: each step's code runs in a lab host, its check here.
func TestContainer(t *testing.T) { labtest.Grade(t, container.Lab) }
