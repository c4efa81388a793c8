//go:build mage

// Course entry points, listed by `go tool mage -l`. lab:* runs labs narrated as
// the caller; test:* runs their graded tests, through `sudo -n` when not root.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"

	"github.com/magefile/mage/mg"
	"github.com/magefile/mage/sh"

	_ "github.com/nslab/nslab/labs/all" // registers every lab with pkg/lab
	"github.com/nslab/nslab/pkg/host"
	"github.com/nslab/nslab/pkg/lab"
	"github.com/nslab/nslab/pkg/spawn"
)

// The labs start their children by re-executing this binary (/proc/self/exe):
// in such a child, Init runs the spawn shim and never returns.
func init() { spawn.Init() }

type Lab mg.Namespace

// Uts runs the UTS lab narrated, step by step.
func (Lab) Uts(ctx context.Context) error { return runLabs(ctx, "uts") }

// Ipc runs the IPC lab narrated, step by step.
func (Lab) Ipc(ctx context.Context) error { return runLabs(ctx, "ipc") }

// Mount runs the mount lab narrated, step by step.
func (Lab) Mount(ctx context.Context) error { return runLabs(ctx, "mount") }

// Pid runs the PID lab narrated, step by step.
func (Lab) Pid(ctx context.Context) error { return runLabs(ctx, "pid") }

// Network runs the network lab narrated, step by step.
func (Lab) Network(ctx context.Context) error { return runLabs(ctx, "network") }

// User runs the user lab narrated, step by step.
func (Lab) User(ctx context.Context) error { return runLabs(ctx, "user") }

// All runs every lab of the course that exists, in course order.
func (Lab) All(ctx context.Context) error { return runLabs(ctx, labNames()...) }

type Test mg.Namespace

// Uts runs the UTS lab's graded tests and scenarios.
func (Test) Uts() error { return testLabs("uts") }

// Ipc runs the IPC lab's graded tests and scenarios.
func (Test) Ipc() error { return testLabs("ipc") }

// Mount runs the mount lab's graded tests and scenarios.
func (Test) Mount() error { return testLabs("mount") }

// Pid runs the PID lab's graded tests and scenarios.
func (Test) Pid() error { return testLabs("pid") }

// Network runs the network lab's graded tests and scenarios.
func (Test) Network() error { return testLabs("network") }

// User runs the user lab's graded tests and scenarios.
func (Test) User() error { return testLabs("user") }

// All runs the graded tests and scenarios of every lab.
func (Test) All() error { return testLabs(labNames()...) }

// Check vets, checks formatting and runs every test of the module.
func Check() error {
	if err := sh.RunV("go", "vet", "./..."); err != nil {
		return err
	}
	out, err := sh.Output("gofmt", "-l", ".")
	if err != nil {
		return err
	}
	if out != "" {
		return fmt.Errorf("files not formatted (run gofmt -w):\n%s", out)
	}
	return sh.RunV("go", "test", "./...")
}

func labNames() []string {
	var names []string
	for _, l := range lab.All() {
		names = append(names, l.Name)
	}
	return names
}

// runLabs runs the named labs narrated and fails if a step failed or the host changed.
func runLabs(ctx context.Context, names ...string) error {
	before, err := host.Take()
	if err != nil {
		return err
	}
	failed := 0
	for _, name := range names {
		n, err := runLab(ctx, name)
		if err != nil {
			return err
		}
		failed += n
	}
	after, err := host.Take()
	if err != nil {
		return err
	}
	if diff := host.Diff(before, after); len(diff) > 0 {
		return fmt.Errorf("the lab changed the host (see docs/troubleshooting.md#host-changed):\n  %s", strings.Join(diff, "\n  "))
	}
	if failed > 0 {
		return fmt.Errorf("%d step(s) failed", failed)
	}
	return nil
}

func runLab(ctx context.Context, name string) (failed int, err error) {
	l, err := lab.Get(name)
	if err != nil {
		return 0, err
	}
	results, err := lab.Run(ctx, l, os.Stdout, "")
	fmt.Println()
	return lab.Failed(results), err
}

// testLabs runs the graded tests and the scenarios of the named labs.
func testLabs(names ...string) error {
	var errs []error
	for _, name := range names {
		errs = append(errs, goTest("-count=1", "./labs/"+name+"/..."))
		if _, err := os.Stat("testscripts"); err != nil {
			fmt.Println("no testscripts/ here: scenarios not run")
			continue
		}
		errs = append(errs, goTest("-count=1", "./testscripts", "-run", "TestScripts/"+name+"_"))
	}
	return errors.Join(errs...)
}

// goTest runs go test, through sudo -n when the caller is not root and may use it.
func goTest(args ...string) error {
	if os.Geteuid() != 0 && exec.Command("sudo", "-n", "true").Run() == nil {
		args = append([]string{"-exec", "sudo -n"}, args...)
	}
	return sh.RunV("go", append([]string{"test"}, args...)...)
}
