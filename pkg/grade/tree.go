package grade

import (
	"archive/tar"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// ModulePath is the course's module.
const ModulePath = "github.com/nslab/nslab"

// ReadTree reads the course tree in dir: in a git work tree the files git
// tracks and the untracked ones it does not ignore, elsewhere (the Go
// module cache) every regular file but under .git.
func ReadTree(dir string) (Tree, error) {
	paths, err := gitFiles(dir)
	if err != nil {
		if paths, err = walkFiles(dir); err != nil {
			return nil, err
		}
	}
	t := Tree{}
	for _, p := range paths {
		info, err := os.Lstat(filepath.Join(dir, p))
		if errors.Is(err, fs.ErrNotExist) || err == nil && !info.Mode().IsRegular() {
			continue // deleted from the work tree, a symlink, a submodule
		}
		if err != nil {
			return nil, err
		}
		data, err := os.ReadFile(filepath.Join(dir, p))
		if err != nil {
			return nil, err
		}
		t[filepath.ToSlash(p)] = File{Data: data, Exec: info.Mode()&0o111 != 0}
	}
	return t, nil
}

func gitFiles(dir string) ([]string, error) {
	if _, err := os.Stat(filepath.Join(dir, ".git")); err != nil {
		return nil, err
	}
	out, err := run(dir, "git", "ls-files", "-z", "--cached", "--others", "--exclude-standard")
	if err != nil {
		return nil, err
	}
	var paths []string
	for _, p := range strings.Split(string(out), "\x00") {
		if p != "" {
			paths = append(paths, p)
		}
	}
	return paths, nil
}

func walkFiles(dir string) ([]string, error) {
	var paths []string
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && d.Name() == ".git" {
			return filepath.SkipDir
		}
		if d.Type().IsRegular() {
			rel, err := filepath.Rel(dir, path)
			paths = append(paths, rel)
			return err
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read the course tree in %s: %w", dir, err)
	}
	return paths, nil
}

// ReadRef reads the tree of a git commit of the repository in dir.
func ReadRef(dir, ref string) (Tree, error) {
	if _, err := run(dir, "git", "rev-parse", "--verify", "--quiet", ref+"^{commit}"); err != nil {
		return nil, fmt.Errorf("%s is neither a directory nor a commit of the git repository in %s", ref, dir)
	}
	out, err := run(dir, "git", "archive", "--format=tar", ref)
	if err != nil {
		return nil, err
	}
	t := Tree{}
	tr := tar.NewReader(bytes.NewReader(out))
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return t, nil
		}
		if err != nil {
			return nil, fmt.Errorf("read git archive %s in %s: %w", ref, dir, err)
		}
		if h.Typeflag != tar.TypeReg {
			continue
		}
		data, err := io.ReadAll(tr)
		if err != nil {
			return nil, fmt.Errorf("read git archive %s in %s: %w", ref, dir, err)
		}
		t[h.Name] = File{Data: data, Exec: h.Mode&0o111 != 0}
	}
}

// ModuleDir downloads the course module at version into the module cache
// (go mod download) and returns its directory: a pristine copy of the course.
func ModuleDir(version string) (string, error) {
	out, err := run("", "go", "mod", "download", "-json", ModulePath+"@"+version)
	var m struct{ Dir, Error string }
	if jerr := json.Unmarshal(out, &m); jerr == nil && m.Error != "" {
		return "", fmt.Errorf("go mod download %s@%s: %s", ModulePath, version, m.Error)
	}
	if err != nil {
		return "", err
	}
	if m.Dir == "" {
		return "", fmt.Errorf("go mod download %s@%s printed no directory", ModulePath, version)
	}
	return m.Dir, nil
}

// Pristine reads the pristine copy spec names for the learner's repository
// in dir: a directory, or a commit of that repository (a tag, a hash).
func Pristine(spec, dir string) (Tree, error) {
	if info, err := os.Stat(spec); err == nil && info.IsDir() {
		return ReadTree(spec)
	}
	return ReadRef(dir, spec)
}

// WriteTree writes t into dir, which must exist.
func WriteTree(dir string, t Tree) error {
	for _, p := range t.Paths() {
		f := t[p]
		to := filepath.Join(dir, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(to), 0o755); err != nil {
			return err
		}
		mode := os.FileMode(0o644)
		if f.Exec {
			mode = 0o755
		}
		if err := os.WriteFile(to, f.Data, mode); err != nil {
			return err
		}
	}
	return nil
}

// run runs a command in dir and returns its standard output; the error
// names the command, the directory and what it printed on stderr.
func run(dir, name string, args ...string) ([]byte, error) {
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return out, fmt.Errorf("%s %s in %s: %w: %s", name, strings.Join(args, " "), dirName(dir), err, strings.TrimSpace(stderr.String()))
	}
	return out, nil
}

func dirName(dir string) string {
	if dir == "" {
		return "."
	}
	return dir
}
