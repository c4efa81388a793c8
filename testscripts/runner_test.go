//go:build linux

package testscripts

import (
	"slices"
	"strings"
	"testing"

	"github.com/nslab/nslab/pkg/ns"
)

func TestCondition(t *testing.T) {
	tests := []struct {
		name    string
		cond    string
		wantErr string // empty: no error
	}{
		{name: "root", cond: "root"},
		{name: "userns", cond: "userns"},
		{name: "kind", cond: "kind:uts"},
		{name: "kind by learner's word", cond: "kind:network"},
		{name: "unknown condition", cond: "rooot", wantErr: "unknown condition"},
		{name: "kind without kind", cond: "kind", wantErr: "needs a kind"},
		{name: "unknown kind", cond: "kind:bogus", wantErr: "unknown namespace kind"},
		{name: "argument to root", cond: "root:yes", wantErr: "takes no argument"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := condition(tt.cond)
			switch {
			case tt.wantErr == "" && err != nil:
				t.Errorf("condition(%q) = %v, want no error", tt.cond, err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Errorf("condition(%q) = %v, want an error containing %q", tt.cond, err, tt.wantErr)
			}
		})
	}
}

func TestConditionKindUTS(t *testing.T) {
	got, err := condition("kind:uts")
	if err != nil || got != ns.Supported(ns.UTS) {
		t.Errorf("condition(kind:uts) = %v, %v; want %v, nil", got, err, ns.Supported(ns.UTS))
	}
}

func TestParseRunFlags(t *testing.T) {
	tests := []struct {
		name     string
		args     []string
		wantNew  []ns.Kind
		wantHost string
		wantArgs []string // nil: the idler
		wantErr  bool
	}{
		{name: "idler", args: nil},
		{name: "kinds", args: []string{"--uts", "--ipc"}, wantNew: []ns.Kind{ns.UTS, ns.IPC}},
		{name: "hostname", args: []string{"--uts", "--hostname", "box"}, wantNew: []ns.Kind{ns.UTS}, wantHost: "box"},
		{name: "hostname=", args: []string{"--uts", "--hostname=box"}, wantNew: []ns.Kind{ns.UTS}, wantHost: "box"},
		{name: "command", args: []string{"--pid", "--", "sleep", "9"}, wantNew: []ns.Kind{ns.PID}, wantArgs: []string{"sleep", "9"}},
		{name: "command flags are its own", args: []string{"--", "ls", "--uts"}, wantArgs: []string{"ls", "--uts"}},
		{name: "unknown flag", args: []string{"--bogus"}, wantErr: true},
		{name: "hostname without name", args: []string{"--hostname"}, wantErr: true},
		{name: "empty command", args: []string{"--uts", "--"}, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := parseRunFlags(tt.args)
			if (err != nil) != tt.wantErr {
				t.Fatalf("parseRunFlags(%q) error = %v, want error %v", tt.args, err, tt.wantErr)
			}
			if tt.wantErr {
				return
			}
			if !slices.Equal(cfg.New, tt.wantNew) || cfg.Hostname != tt.wantHost || !slices.Equal(cfg.Args, tt.wantArgs) {
				t.Errorf("parseRunFlags(%q) = New %v, Hostname %q, Args %q; want %v, %q, %q",
					tt.args, cfg.New, cfg.Hostname, cfg.Args, tt.wantNew, tt.wantHost, tt.wantArgs)
			}
			if idle := cfg.Entrypoint == idler; idle != (tt.wantArgs == nil) {
				t.Errorf("parseRunFlags(%q) runs the idler: %v, want %v", tt.args, idle, tt.wantArgs == nil)
			}
		})
	}
}
