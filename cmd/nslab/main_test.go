package main

import (
	"os"
	"os/exec"
	"strings"
	"testing"
)

// The test binary links what nslab links, so it is nslab for these runs:
// nslab run, ns, version and help exit from package fast's init, before
// any lab package is initialised (GODEBUG=inittrace=1 lists the
// initialisations). Other arguments go on to main (here: the tests), after
// the labs' initialisation.
func TestCommandsSkipTheLabs(t *testing.T) {
	for _, tt := range []struct {
		args     []string
		wantLabs bool
	}{
		{[]string{"version"}, false},
		{[]string{"ns", "self"}, false},
		{[]string{"run", "--", "true"}, false},
		{[]string{"help", "lab"}, false},
		{[]string{"-test.run=^$"}, true}, // the test binary itself: the trace does show the labs
	} {
		cmd := exec.Command(os.Args[0], tt.args...)
		cmd.Env = append(os.Environ(), "GODEBUG=inittrace=1")
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Errorf("nslab %q: %v\n%s", tt.args, err, out)
			continue
		}
		if got := strings.Contains(string(out), "init github.com/nslab/nslab/labs/"); got != tt.wantLabs {
			t.Errorf("nslab %q initialised the labs: %v, want %v\n%s", tt.args, got, tt.wantLabs, out)
		}
	}
}
