//go:build linux

package grade

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nslab/nslab/labs/uts"
	"github.com/nslab/nslab/pkg/lab"
)

// TestCasesParse reads every case of the catalogues: they must be well
// formed, and a forgery must expect what the honest solution behind it
// scores (0 on the starter edition, full marks on the reference).
func TestCasesParse(t *testing.T) {
	for _, dir := range []string{"forgeries", "regrade"} {
		cases, err := ReadCases(filepath.Join("testdata", dir))
		if err != nil || len(cases) == 0 {
			t.Fatalf("ReadCases(%s) = %d cases, %v", dir, len(cases), err)
		}
		for _, c := range cases {
			full := uts.Lab.Points()
			if dir == "forgeries" && c.Score != 0 && c.Score != full && len(c.Steps) == 0 {
				t.Errorf("%s/%s: score %d; a forgery scores what its base scores (0 or %d) unless a step says why", dir, c.Name, c.Score, full)
			}
		}
	}
	if _, err := ParseCase("x", []byte("-- meta --\nbase: mine\nlab: uts\n")); err == nil {
		t.Error("ParseCase accepted base: mine")
	}
}

// TestCatalogue grades every case of testdata/forgeries and
// testdata/regrade as a class, by transplant into the module's own tree,
// in parallel (go tool mage forgeries runs it; it needs root or sudo -n).
// Each must get its score, its steps' messages and its tampered files; the
// workflow log must hold no command a learner printed; and the results
// files must hold what the grader wrote, also after the learners' daemons
// had time to write.
func TestCatalogue(t *testing.T) {
	if os.Getenv("NSLAB_CATALOGUE") != "1" {
		t.Skip("skip: set NSLAB_CATALOGUE=1 (go tool mage forgeries)")
	}
	root, _ := filepath.Abs(filepath.Join("..", ".."))
	if p := os.Getenv("NSLAB_CATALOGUE_PRISTINE"); p != "" {
		root = p
	}
	ref, err := ReadTree(root)
	if err != nil {
		t.Fatal(err)
	}
	st, err := Starter(ref)
	if err != nil {
		t.Fatal(err)
	}
	cases := readCatalogue(t)
	base := visibleTempDir(t)
	repos := writeRepos(t, filepath.Join(base, "repos"), cases, ref, st)
	labs := []*lab.Lab{uts.Lab}
	var progress bytes.Buffer
	rg := &Regrading{
		Config:   Config{Labs: labs, Exec: SudoExec(), Env: []string{"NSLAB_STEP_TIMEOUT=3s", "NSLAB_FORGERY_DIR=" + filepath.Join(base, "out")}},
		Pristine: root, Jobs: 2, RepoTimeout: 5 * time.Minute, Progress: &progress,
	}
	start := time.Now()
	gs := Regrade(context.Background(), rg, repos)
	t.Logf("regraded %d repositories in %.1fs:\n%s", len(gs), time.Since(start).Seconds(), progress.String())
	written := map[string][]byte{}
	for i, g := range gs {
		c := cases[i]
		if g.Err != nil {
			t.Errorf("%s: %v", c.Name, g.Err)
			continue
		}
		for _, bad := range c.Check(g.Report) {
			t.Errorf("%s: %s", c.Name, bad)
		}
		publishChecked(t, c.Name, g.Report, filepath.Join(base, "out", c.Name), written)
	}
	checkTables(t, filepath.Join(base, "grades"), gs, labs, len(cases))
	time.Sleep(6 * time.Second) // the daemons wake after 4s, if they live
	for path, want := range written {
		if got, _ := os.ReadFile(path); !bytes.Equal(got, want) {
			t.Errorf("%s changed after the grade:\n%s", path, got)
		}
	}
}

// readCatalogue reads the forgeries and the regrade cases.
func readCatalogue(t *testing.T) []Case {
	var cases []Case
	for _, dir := range []string{"forgeries", "regrade"} {
		cs, err := ReadCases(filepath.Join("testdata", dir))
		if err != nil {
			t.Fatal(err)
		}
		cases = append(cases, cs...)
	}
	return cases
}

// writeRepos writes each case's repository, made from the reference and
// its starter edition, under dir, and returns their paths.
func writeRepos(t *testing.T, dir string, cases []Case, ref, st Tree) []string {
	var repos []string
	for _, c := range cases {
		tree, err := c.Apply(ref, st)
		if err != nil {
			t.Fatalf("%s: %v", c.Name, err)
		}
		repo := filepath.Join(dir, c.Name)
		if err := os.MkdirAll(repo, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := WriteTree(repo, tree); err != nil {
			t.Fatal(err)
		}
		repos = append(repos, repo)
	}
	return repos
}

// visibleTempDir is a temporary directory outside /tmp, which lab hosts
// replace by a tmpfs of their own, so that learner code sees the files in
// it (and may try to write them).
func visibleTempDir(t *testing.T) string {
	parent := "/var/cache"
	if os.Geteuid() != 0 {
		parent = ""
	}
	dir, err := os.MkdirTemp(parent, "nslab-catalogue-")
	if err != nil {
		t.Fatal(err)
	}
	os.Chmod(dir, 0o755)
	t.Cleanup(func() { os.RemoveAll(dir) })
	return dir
}

// publishChecked publishes r as in GitHub Actions into out and checks the
// log, and records what was written.
func publishChecked(t *testing.T, name string, r *Report, out string, written map[string][]byte) {
	t.Helper()
	if err := os.MkdirAll(out, 0o755); err != nil {
		t.Fatal(err)
	}
	env := Env{Results: filepath.Join(out, "results.json"), Actions: true, Summary: filepath.Join(out, "summary.md"), Output: filepath.Join(out, "output")}
	var log bytes.Buffer
	if err := Publish(&log, r, env); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	for _, c := range runnerCommands(log.String()) {
		if !strings.HasPrefix(c, "::group::") && c != "::endgroup::" && !strings.HasPrefix(c, "::error ") {
			t.Errorf("%s: the runner would act on %q", name, c)
		}
	}
	for _, p := range []string{env.Results, env.Summary, env.Output} {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		written[p] = b
	}
}

func checkTables(t *testing.T, base string, gs []Graded, labs []*lab.Lab, repos int) {
	t.Helper()
	rows := Rows(gs, labs)
	if err := WriteTables(base, rows); err != nil {
		t.Fatal(err)
	}
	csv, err := os.ReadFile(base + ".csv")
	if n := strings.Count(string(csv), "\n"); err != nil || n < 1+repos*len(labs[0].Steps) {
		t.Errorf("%s.csv has %d lines (%v); want a header and %d rows", base, n, err, repos*len(labs[0].Steps))
	}
	var back []Row
	b, err := os.ReadFile(base + ".json")
	if err != nil || json.Unmarshal(b, &back) != nil || len(back) != len(rows) {
		t.Errorf("%s.json does not hold the %d rows (%v)", base, len(rows), err)
	}
}
