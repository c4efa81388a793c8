package spawn

import (
	"strings"
	"testing"

	"github.com/nslab/nslab/pkg/ns"
)

// Registered once, not in the test: -count=2 would register it twice.
func init() { Register("configtest.noop", func([]string) int { return 0 }) }

func TestValidate(t *testing.T) {
	tests := []struct {
		name string
		cfg  Config
		err  string
	}{
		{name: "command", cfg: Config{Args: []string{"true"}}},
		{name: "entrypoint", cfg: Config{Entrypoint: "configtest.noop"}},
		{name: "hostname with uts", cfg: Config{New: []ns.Kind{ns.UTS}, Hostname: "x", Args: []string{"true"}}},
		{name: "nothing to run", cfg: Config{}, err: "no command"},
		{name: "unknown kind", cfg: Config{New: []ns.Kind{"bogus"}, Args: []string{"true"}}, err: `unknown namespace kind "bogus"`},
		{name: "hostname without uts", cfg: Config{Hostname: "x", Args: []string{"true"}}, err: "needs a new UTS namespace"},
		{name: "long hostname", cfg: Config{New: []ns.Kind{ns.UTS}, Hostname: strings.Repeat("h", 65), Args: []string{"true"}}, err: "longer than 64 bytes"},
		{name: "unregistered entrypoint", cfg: Config{Entrypoint: "nope"}, err: `no entrypoint "nope"`},
		{name: "join mnt", cfg: Config{Join: map[ns.Kind]int{ns.Mnt: 1}, Args: []string{"true"}}, err: "cannot join a mnt namespace"},
		{name: "join time", cfg: Config{Join: map[ns.Kind]int{ns.Time: 1}, Args: []string{"true"}}, err: "setns(2) of a time namespace needs a single-threaded process"},
		{name: "join and new", cfg: Config{New: []ns.Kind{ns.UTS}, Join: map[ns.Kind]int{ns.UTS: 1}, Args: []string{"true"}}, err: "both a new uts namespace"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.cfg.validate()
			if tt.err == "" && err != nil || tt.err != "" && (err == nil || !strings.Contains(err.Error(), tt.err)) {
				t.Fatalf("validate() = %v, want error containing %q", err, tt.err)
			}
		})
	}
}

func TestKindsDeduplicatesAndOrders(t *testing.T) {
	cfg := Config{New: []ns.Kind{ns.UTS, ns.PIDForChildren, ns.PID, ns.IPC}}
	got := cfg.kinds()
	want := []ns.Kind{ns.IPC, ns.PID, ns.UTS}
	if len(got) != len(want) {
		t.Fatalf("kinds() = %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("kinds() = %v, want %v", got, want)
		}
	}
}
