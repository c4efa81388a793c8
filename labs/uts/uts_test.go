//go:build linux

package uts_test

import (
	"testing"

	"github.com/nslab/nslab/labs/uts"
	"github.com/nslab/nslab/pkg/lab/labtest"
)

func TestMain(m *testing.M) { labtest.Main(m) }

// TestUTS grades the lab: each step's code runs in a lab host, its check here.
func TestUTS(t *testing.T) { labtest.Grade(t, uts.Lab) }
