//go:build linux

package pid_test

import (
	"testing"

	"github.com/nslab/nslab/labs/pid"
	"github.com/nslab/nslab/pkg/lab"
	"github.com/nslab/nslab/pkg/lab/labtest"
)

// TestLabShape checks the steps and the docs page (labtest.CheckLab), and
// that the lab is known by its name and test function.
func TestLabShape(t *testing.T) {
	labtest.CheckLab(t, pid.Lab, 100)
	if got, err := lab.Get("pid"); err != nil || got != pid.Lab {
		t.Errorf("lab.Get(\"pid\") = %v, %v; want the registered lab", got, err)
	}
	if pid.Lab.TestFunc() != "TestPID" {
		t.Errorf("TestFunc() = %q, want TestPID", pid.Lab.TestFunc())
	}
}
