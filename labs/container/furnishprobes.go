//go:build linux

package container

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"
)

// Step 04 calls Furnish more than once, in its container, after the call
// on the container's root: on scratch roots where the kernel refuses a
// piece (a mount point that cannot be made, a mount point in another
// mount namespace, no file descriptor left for a device's file, no device
// to bind). This file holds those calls (run half; the check is
// checkEach of the refusals).

// furnishProbes makes those calls in dir (the tmpfs of the container's
// root, in its own mount namespace) and returns what Furnish did.
func furnishProbes(dir string) ([]refusal, error) {
	var out []refusal
	scratch := func(name string) (string, error) {
		root := filepath.Join(dir, "probe-"+name)
		return root, os.Mkdir(root, 0o755)
	}
	// A dangling link where a mount point goes: mkdir(2) says EEXIST.
	for _, name := range []string{"proc", "dev", "sys", "tmp"} {
		root, err := scratch("link-" + name)
		if err != nil {
			return out, err
		}
		if err := os.Symlink("/nonexistent/nslab", filepath.Join(root, name)); err != nil {
			return out, err
		}
		what := fmt.Sprintf("Furnish(%s), where %s is a link to nothing", root, filepath.Join(root, name))
		out = append(out, refused(what, "EEXIST", filepath.Join(root, name), callFurnish(root)))
	}
	other, err := otherMountNS(dir)
	if err != nil {
		return out, err
	}
	defer other.Wait()
	defer other.Process.Kill()
	proc, err := procPID()
	if err != nil {
		return out, err
	}
	root := filepath.Join(proc, "root", dir, "probe-other")
	if err := os.Mkdir(root, 0o755); err != nil {
		return out, err
	}
	what := fmt.Sprintf("Furnish(%s), a directory of another mount namespace (mount(2) refuses: EINVAL)", root)
	out = append(out, refused(what, "EINVAL", filepath.Join(root, "proc"), callFurnish(root)))
	if root, err = scratch("sys-other"); err != nil {
		return out, err
	}
	sys := filepath.Join(proc, "root", dir, "probe-sys-target")
	if err := os.Mkdir(sys, 0o755); err != nil {
		return out, err
	}
	if err := os.Symlink(sys, filepath.Join(root, "sys")); err != nil {
		return out, err
	}
	what = fmt.Sprintf("Furnish(%s), whose sys links to a directory of another mount namespace (mount(2) refuses sysfs there: EINVAL)", root)
	out = append(out, refused(what, "EINVAL", filepath.Join(root, "sys"), callFurnish(root)))
	return furnishDev(out, scratch)
}

// furnishDev calls Furnish where the file of a device cannot be made (no
// file descriptor left: EMFILE), and where the device to bind is missing
// (a tmpfs over the container's own /dev: ENOENT).
func furnishDev(out []refusal, scratch func(string) (string, error)) ([]refusal, error) {
	root, err := scratch("emfile")
	if err != nil {
		return out, err
	}
	var ferr error
	if err := withFiles(0, func() error { ferr = callFurnish(root); return nil }); err != nil {
		return out, err
	}
	what := fmt.Sprintf("Furnish(%s) while the process could open no more files", root)
	out = append(out, refused(what, "EMFILE", filepath.Join(root, "dev", DevNodes()[0]), ferr))
	if root, err = scratch("nodev"); err != nil {
		return out, err
	}
	if err := unix.Mount("tmpfs", "/dev", "tmpfs", 0, "mode=0755"); err != nil {
		return out, fmt.Errorf("mount a tmpfs on the container's /dev: %w", err)
	}
	ferr = callFurnish(root)
	if err := unix.Unmount("/dev", unix.MNT_DETACH); err != nil {
		return out, fmt.Errorf("unmount the tmpfs on the container's /dev: %w", err)
	}
	what = fmt.Sprintf("Furnish(%s) where the container's /dev is an empty tmpfs (no /dev/%s to bind)", root, DevNodes()[0])
	return append(out, refused(what, "ENOENT", "/dev/"+DevNodes()[0], ferr)), nil
}

// callFurnish calls Furnish, a panic turned into an error.
func callFurnish(root string) (err error) {
	o := call(func() error { err = Furnish(root); return nil })
	if o.Err != "" {
		return fmt.Errorf("%s", o.Err)
	}
	return err
}

// otherMountNS starts a process of the container in a mount namespace of
// its own, which sees dir (the same tmpfs) at the same place.
func otherMountNS(dir string) (*exec.Cmd, error) {
	cmd := exec.Command("/usr/bin/sleep", "1000")
	cmd.SysProcAttr = &syscall.SysProcAttr{Cloneflags: unix.CLONE_NEWNS, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start a process in a mount namespace of its own: %w", err)
	}
	return cmd, nil
}

// procPID is the /proc directory of the caller's only child: the caller's
// /proc before the switch is the lab host's, which numbers processes in
// the lab host's PID namespace.
func procPID() (string, error) {
	files, _ := filepath.Glob("/proc/self/task/*/children")
	var kids []string
	for _, f := range files {
		b, _ := os.ReadFile(f)
		kids = append(kids, strings.Fields(string(b))...)
	}
	if len(kids) != 1 {
		return "", fmt.Errorf("the container has children %v; want one, in a mount namespace of its own", kids)
	}
	return filepath.Join("/proc", kids[0]), nil
}
