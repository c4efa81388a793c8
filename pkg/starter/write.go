package starter

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// Dropped returns the tracked paths the starter edition leaves out: the
// project's own CI, which checks the reference solutions and would fail on
// every push of a learner. A path ending in / drops a directory.
func Dropped() []string { return []string{".ci/", ".github/workflows/ci.yml"} }

// Write makes the starter edition of the repository at src in dst, which
// must be empty or not exist yet: every file git tracks in src (as it is in
// the work tree), but the Dropped ones, with the .go files under labs/
// stripped. It returns the regions, their File relative to dst.
func Write(src, dst string) ([]Region, error) {
	files, err := tracked(src)
	if err != nil {
		return nil, err
	}
	if err := emptyDir(dst); err != nil {
		return nil, err
	}
	var regions []Region
	for _, rel := range files {
		if dropped(rel) {
			continue
		}
		rs, err := copyFile(src, dst, rel)
		if err != nil {
			return nil, err
		}
		regions = append(regions, rs...)
	}
	return regions, nil
}

// tracked lists the files git tracks in src, relative to it.
func tracked(src string) ([]string, error) {
	cmd := exec.Command("git", "-C", src, "ls-files", "-z")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("git ls-files in %s: %w: %s", src, err, strings.TrimSpace(stderr.String()))
	}
	var files []string
	for _, f := range strings.Split(string(out), "\x00") {
		if f != "" {
			files = append(files, f)
		}
	}
	return files, nil
}

func emptyDir(dir string) error {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return os.MkdirAll(dir, 0o755)
	}
	if err != nil {
		return err
	}
	if len(entries) > 0 {
		return fmt.Errorf("write the starter edition to %s: the directory is not empty", dir)
	}
	return nil
}

func dropped(rel string) bool {
	for _, d := range Dropped() {
		if rel == d || (strings.HasSuffix(d, "/") && strings.HasPrefix(rel, d)) {
			return true
		}
	}
	return false
}

// copyFile copies src/rel to dst/rel, stripped when it is a lab's Go file.
// A tracked file deleted from the work tree is left out.
func copyFile(src, dst, rel string) ([]Region, error) {
	from, to := filepath.Join(src, rel), filepath.Join(dst, rel)
	info, err := os.Lstat(from)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Dir(to), 0o755); err != nil {
		return nil, err
	}
	switch {
	case info.Mode()&fs.ModeSymlink != 0:
		target, err := os.Readlink(from)
		if err != nil {
			return nil, err
		}
		return nil, os.Symlink(target, to)
	case !info.Mode().IsRegular():
		return nil, nil // a submodule: not part of the edition
	}
	data, err := os.ReadFile(from)
	if err != nil {
		return nil, err
	}
	var regions []Region
	if name, ok := LabOf(rel); ok && strings.HasSuffix(rel, ".go") {
		abs, err := filepath.Abs(from)
		if err != nil {
			return nil, err
		}
		if data, regions, err = Strip(abs, data, name); err != nil {
			return nil, err
		}
		for i := range regions {
			regions[i].File = rel
		}
	}
	return regions, os.WriteFile(to, data, info.Mode().Perm())
}

// ErrNoGit is returned by Commit when git is not installed.
var ErrNoGit = errors.New("git is not installed")

// Commit makes dir, a starter edition just written, a git repository with
// one commit of every file, so that a learner's git diff and git checkout
// work from the first minute. Without git it returns ErrNoGit and leaves
// dir as it is. The learner's own git identity is used when set; else the
// commit is signed "nslab starter".
func Commit(dir string) error {
	if _, err := exec.LookPath("git"); err != nil {
		return ErrNoGit
	}
	git := func(args ...string) error {
		cmd := exec.Command("git", append([]string{"-C", dir}, args...)...)
		cmd.Env = append(os.Environ(), "GIT_AUTHOR_NAME=nslab starter", "GIT_AUTHOR_EMAIL=starter@nslab.invalid",
			"GIT_COMMITTER_NAME=nslab starter", "GIT_COMMITTER_EMAIL=starter@nslab.invalid")
		if who, _ := exec.Command("git", "-C", dir, "config", "user.email").Output(); len(bytes.TrimSpace(who)) > 0 {
			cmd.Env = os.Environ()
		}
		out, err := cmd.CombinedOutput()
		if err != nil {
			return fmt.Errorf("git %s in %s: %w: %s", strings.Join(args, " "), dir, err, strings.TrimSpace(string(out)))
		}
		return nil
	}
	if err := git("-c", "init.defaultBranch=main", "init", "-q"); err != nil {
		return err
	}
	if err := git("add", "-A"); err != nil {
		return err
	}
	return git("commit", "-q", "--no-verify", "-m", "nslab starter edition")
}
