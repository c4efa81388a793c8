#!/usr/bin/env bash
# Records the go test -json streams the grader's tests read. Each scenario is
# a tiny module with one lab package, labs/demo, whose graded test TestDemo
# has the three subtests of the demo lab in grade_test.go:
# 01_first (10 points), 02_second (20), 03_third (5).
# Run from this directory: bash record.sh
set -euo pipefail
here=$(pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

scenario() { # name, test body, extra go test flags
  local name=$1 body=$2; shift 2
  mkdir -p "$work/$name/labs/demo"
  printf 'module example.com/course\n\ngo 1.26\n' >"$work/$name/go.mod"
  printf 'package demo\n\n// Answer is step 01.\nfunc Answer() int { return 42 }\n' >"$work/$name/labs/demo/demo.go"
  printf '%s\n' "package demo" "" "import \"testing\"" "" "$body" >"$work/$name/labs/demo/demo_test.go"
  (cd "$work/$name" && go test -json -count=1 "$@" ./labs/... >"$here/$name.json" 2>"$here/$name.stderr" || true)
  [ -s "$here/$name.stderr" ] || rm -f "$here/$name.stderr"
  # Paths and timings vary between runs; the grader reads neither from the stream's framing.
  sed -i "s#$work/$name#/tmp/course#g" "$here/$name.json"
}

scenario pass '
func TestDemo(t *testing.T) {
	t.Run("01_first", func(t *testing.T) { t.Parallel(); t.Log("started a child") })
	t.Run("02_second", func(t *testing.T) { t.Parallel() })
	t.Run("03_third", func(t *testing.T) { t.Parallel() })
}
func TestOther(t *testing.T) {}'

scenario fail '
import "fmt"
func TestDemo(t *testing.T) {
	t.Run("01_first", func(t *testing.T) { t.Parallel() })
	t.Run("02_second", func(t *testing.T) {
		fmt.Println("::notice title=Autograding complete::Points 100/100")
		t.Fatalf("child uts namespace uts:[4026531838] is the host'"'"'s; want a new one\nsecond line (see docs/labs/demo.md#step-02)")
	})
	t.Run("03_third", func(t *testing.T) {
		t.Fatalf("demo step 03 is not written yet: fill in the code between BEGIN SOLUTION and END SOLUTION (see docs/labs/demo.md#step-03)")
	})
}'

scenario skip '
func TestDemo(t *testing.T) {
	t.Skipf("skip: creating a demo namespace needs root or user namespaces: operation not permitted")
	t.Run("01_first", func(t *testing.T) {})
}'

scenario build '
func TestDemo(t *testing.T) {
	var unused int
	t.Run("01_first", func(t *testing.T) { Answer(1) })
}'

scenario panic '
func TestDemo(t *testing.T) {
	t.Run("01_first", func(t *testing.T) {})
	t.Run("02_second", func(t *testing.T) { var m map[string]int; m["x"] = 1 })
	t.Run("03_third", func(t *testing.T) {})
}'

scenario timeout '
func TestDemo(t *testing.T) {
	t.Run("01_first", func(t *testing.T) {})
	t.Run("02_second", func(t *testing.T) { select {} })
	t.Run("03_third", func(t *testing.T) {})
}' -timeout 2s
