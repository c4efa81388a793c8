//go:build !unix

package grade

import "os/exec"

func killGroup(*exec.Cmd) {}
