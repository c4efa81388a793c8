package lab_test

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nslab/nslab/pkg/lab"
	"github.com/nslab/nslab/pkg/ns"
	"github.com/nslab/nslab/pkg/spawn"
	"golang.org/x/sys/unix"
)

func init() { spawn.Register("lab-test.readonly", readOnlyChild) }

// readOnlyChild, in a mount namespace of its own: binds /usr read-only on a
// tmpfs directory, and reports whether a file can be made there, then
// tries a source that does not exist.
func readOnlyChild([]string) int {
	if err := unix.Mount("", "/", "", unix.MS_REC|unix.MS_PRIVATE, ""); err != nil {
		fmt.Println("private:", err)
		return 1
	}
	dir, err := os.MkdirTemp("", "nslab-ro-")
	if err != nil {
		fmt.Println(err)
		return 1
	}
	defer os.RemoveAll(dir)
	if err := unix.Mount("tmpfs", dir, "tmpfs", 0, ""); err != nil {
		fmt.Println("tmpfs:", err)
		return 1
	}
	defer unix.Unmount(dir, unix.MNT_DETACH)
	target := filepath.Join(dir, "usr")
	if err := os.Mkdir(target, 0o755); err != nil {
		fmt.Println(err)
		return 1
	}
	if err := lab.ReadOnlyTree("/usr", target); err != nil {
		fmt.Println("bind:", err)
		return 1
	}
	_, err = os.Create(filepath.Join(target, "x"))
	fmt.Println("create:", lab.ErrnoName(err))
	err = lab.ReadOnlyTree("/nonexistent", target)
	fmt.Println("missing:", errors.Is(err, unix.ENOENT), strings.Contains(lab.ErrText(err), "/nonexistent"))
	return 0
}

func TestReadOnlyTree(t *testing.T) {
	kinds := []ns.Kind{ns.Mnt} // and, not as root, the user namespace spawn adds with the caller mapped
	if err := spawn.Check(kinds...); err != nil {
		t.Skipf("skip: %v", err)
	}
	var out strings.Builder
	child, err := spawn.Start(t.Context(), spawn.Config{Entrypoint: "lab-test.readonly", New: kinds, Stdout: &out, Stderr: &out})
	if err != nil {
		t.Fatal(err)
	}
	if err := child.Release(); err != nil {
		t.Fatal(err)
	}
	if err := child.Wait(); err != nil {
		t.Fatalf("child: %v: %s", err, out.String())
	}
	if want := "create: EROFS\nmissing: true true\n"; out.String() != want {
		t.Errorf("the child printed %q; want %q (a read-only bind, and ENOENT naming the source)", out.String(), want)
	}
}
