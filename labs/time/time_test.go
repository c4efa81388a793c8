//go:build linux

package timens_test

import (
	"testing"

	timens "github.com/nslab/nslab/labs/time"
	"github.com/nslab/nslab/pkg/lab/labtest"
	"github.com/nslab/nslab/pkg/ns"
)

func TestMain(m *testing.M) { labtest.Main(m) }

// TestTime grades the lab: each step's code runs in a lab host, its check here.
func TestTime(t *testing.T) {
	if !ns.Supported(ns.Time) {
		t.Skip("skip: this kernel has no time namespaces (Linux 5.6 or later, CONFIG_TIME_NS)")
	}
	labtest.Grade(t, timens.Lab)
}
