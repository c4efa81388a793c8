package holder_test

import (
	"errors"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/nslab/nslab/pkg/holder"
	"github.com/nslab/nslab/pkg/lab"
	"github.com/nslab/nslab/pkg/ns"
	"github.com/nslab/nslab/pkg/spawn"
	"golang.org/x/sys/unix"
)

const entry = "holdertest.holder"

var commands = holder.Commands{
	"echo":     func(args []string) ([]string, error) { return args, nil },
	"stat":     func(args []string) ([]string, error) { _, err := os.Stat(args[0]); return nil, err },
	"hostname": func([]string) ([]string, error) { h, err := os.Hostname(); return []string{h}, err },
	"todo":     func([]string) ([]string, error) { panic(lab.TODO("holdertest", "01")) },
}

func init() {
	spawn.Register(entry, func([]string) int { return holder.Serve(commands.Answer) })
}

func TestMain(m *testing.M) {
	spawn.Init()
	os.Exit(m.Run())
}

// start starts a running holder (StartRunning) in new namespaces of kinds,
// stopped when t ends.
func start(t *testing.T, kinds ...ns.Kind) *holder.Holder {
	t.Helper()
	if err := spawn.Check(kinds...); err != nil {
		t.Skipf("skip: %v", err)
	}
	h, err := holder.StartRunning(t.Context(), spawn.Config{New: kinds, Entrypoint: entry, Hostname: hostname(kinds)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(h.Stop)
	if c := h.Child(); c == nil || !c.Released() {
		t.Fatalf("StartRunning: Child() = %v; want a released child", c)
	}
	return h
}

func hostname(kinds []ns.Kind) string {
	if slices.Contains(kinds, ns.UTS) {
		return "holdertest"
	}
	return ""
}

func TestRoundTrip(t *testing.T) {
	h := start(t)
	if got, err := h.Do("echo %s %d", "a", 2); err != nil || !slices.Equal(got, []string{"a", "2"}) {
		t.Errorf("Do(echo a 2) = %q, %v; want [a 2]", got, err)
	}
	_, err := h.Do("stat /nonexistent-%d", os.Getpid())
	var ce *holder.CommandError
	if !errors.As(err, &ce) || !errors.Is(err, unix.ENOENT) || !strings.Contains(ce.Msg, "no such file") {
		t.Errorf("Do(stat /nonexistent) error = %#v; want a *CommandError for ENOENT", err)
	}
	if line, err := h.Line("bogus"); err != nil || line != `err - unknown command "bogus"` {
		t.Errorf("Line(bogus) = %q, %v; want the raw err line", line, err)
	}
	if err := h.Close(); err != nil {
		t.Errorf("Close() = %v; want nil, the holder ends when its stdin closes", err)
	}
	if _, err := h.Do("echo"); err == nil {
		t.Error("Do after Close worked; want a not-running error")
	}
}

func TestHolderKeepsItsNamespaces(t *testing.T) {
	h := start(t, ns.UTS)
	if got, err := h.Do("hostname"); err != nil || !slices.Equal(got, []string{"holdertest"}) {
		t.Errorf("Do(hostname) in a new UTS namespace = %q, %v; want [holdertest]", got, err)
	}
	set, err := h.Namespaces()
	if err != nil {
		t.Fatal(err)
	}
	self, err := ns.Of(ns.Self)
	if err != nil {
		t.Fatal(err)
	}
	if err := lab.CheckNewKinds(self, set, ns.UTS); err != nil {
		t.Error(err)
	}
	if set.PID != h.PID() || h.Child().PID() != h.PID() {
		t.Errorf("namespaces of PID %d, child PID %d; want the holder's, %d", set.PID, h.Child().PID(), h.PID())
	}
}

func TestDeadHolderSaysWhy(t *testing.T) {
	h := start(t)
	_, err := h.Do("todo")
	var ee *spawn.ExitError
	if !errors.As(err, &ee) || ee.Code != 3 {
		t.Fatalf("Do(todo) error = %v; want the holder's exit status 3 (an unwritten step)", err)
	}
	if !strings.Contains(err.Error(), "holdertest step 01 is not written yet") || !strings.Contains(err.Error(), `no answer to "todo"`) {
		t.Errorf("Do(todo) error = %q; want the command and the holder's stderr in it", err)
	}
	if _, err := h.Do("echo"); err == nil {
		t.Error("Do on a dead holder worked; want an error")
	}
}
