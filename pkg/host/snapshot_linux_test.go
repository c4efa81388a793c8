package host

import (
	"os/exec"
	"testing"
)

func TestTakeSeesAChildProcess(t *testing.T) {
	before, err := Take()
	if err != nil {
		t.Fatal(err)
	}
	if before.Hostname == "" || len(before.Mounts) == 0 || len(before.Links) == 0 {
		t.Fatalf("snapshot misses the basics: %+v", before)
	}
	cmd := exec.Command("sleep", "30")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	during, err := Take()
	cmd.Process.Kill()
	cmd.Wait()
	if err != nil {
		t.Fatal(err)
	}
	diff := Diff(before, during)
	if len(diff) != 1 {
		t.Fatalf("Diff with a child running = %q; want one line about the sleep child", diff)
	}
}
