package cli

import (
	"errors"
	"flag"
	"reflect"
	"testing"

	"github.com/nslab/nslab/pkg/ns"
)

func TestRunConfig(t *testing.T) {
	all := func(ns.Kind) bool { return true }
	noTime := func(k ns.Kind) bool { return k != ns.Time }
	tests := []struct {
		name      string
		args      []string
		supported func(ns.Kind) bool
		wantNew   []ns.Kind
		wantArgs  []string
		hostname  string
		mapRoot   bool
		mountProc bool
		noAuto    bool
	}{
		{name: "no namespaces", args: []string{"--", "true"}, wantArgs: []string{"true"}},
		{name: "uts", args: []string{"--uts", "hostname"}, wantNew: []ns.Kind{ns.UTS}, wantArgs: []string{"hostname"}},
		{name: "hostname implies uts", args: []string{"--hostname", "x", "--", "hostname"}, wantNew: []ns.Kind{ns.UTS}, wantArgs: []string{"hostname"}, hostname: "x"},
		{name: "mount-proc implies mount", args: []string{"--pid", "--mount-proc", "ps"}, wantNew: []ns.Kind{ns.Mnt, ns.PID}, wantArgs: []string{"ps"}, mountProc: true},
		{name: "map-root implies user", args: []string{"--map-root", "id"}, wantNew: []ns.Kind{ns.User}, wantArgs: []string{"id"}, mapRoot: true},
		{name: "user alone stays unmapped", args: []string{"--user", "id"}, wantNew: []ns.Kind{ns.User}, wantArgs: []string{"id"}},
		{name: "user with mount stays unmapped, as with unshare", args: []string{"--user", "--mount", "id"}, wantNew: []ns.Kind{ns.Mnt, ns.User}, wantArgs: []string{"id"}},
		{name: "user=false forbids the automatic user namespace", args: []string{"--net", "--user=false", "ip"}, wantNew: []ns.Kind{ns.Net}, wantArgs: []string{"ip"}, noAuto: true},
		{name: "all", args: []string{"--all", "sh"}, supported: all, wantNew: []ns.Kind{ns.Cgroup, ns.IPC, ns.Mnt, ns.Net, ns.PID, ns.Time, ns.User, ns.UTS}, wantArgs: []string{"sh"}, mapRoot: true},
		{name: "all without time on this kernel", args: []string{"--all", "sh"}, supported: noTime, wantNew: []ns.Kind{ns.Cgroup, ns.IPC, ns.Mnt, ns.Net, ns.PID, ns.User, ns.UTS}, wantArgs: []string{"sh"}, mapRoot: true},
		{name: "all but user", args: []string{"--all", "--user=false", "sh"}, supported: all, wantNew: []ns.Kind{ns.Cgroup, ns.IPC, ns.Mnt, ns.Net, ns.PID, ns.Time, ns.UTS}, wantArgs: []string{"sh"}, noAuto: true},
		{name: "no command runs the shell", args: []string{"--uts"}, wantNew: []ns.Kind{ns.UTS}, wantArgs: []string{"/bin/zsh"}},
		{name: "flags after the command are the command's", args: []string{"ls", "--uts"}, wantArgs: []string{"ls", "--uts"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := RunConfig(tt.args, runEnv{Shell: "/bin/zsh", Supported: tt.supported})
			if err != nil {
				t.Fatalf("RunConfig(%q) error: %v", tt.args, err)
			}
			if !reflect.DeepEqual(cfg.New, tt.wantNew) || !reflect.DeepEqual(cfg.Args, tt.wantArgs) {
				t.Errorf("RunConfig(%q) = New %v Args %q, want New %v Args %q", tt.args, cfg.New, cfg.Args, tt.wantNew, tt.wantArgs)
			}
			if cfg.Hostname != tt.hostname || cfg.MapRoot != tt.mapRoot || cfg.MountProc != tt.mountProc || cfg.NoAutoUser != tt.noAuto {
				t.Errorf("RunConfig(%q) = Hostname %q MapRoot %v MountProc %v NoAutoUser %v, want %q %v %v %v", tt.args,
					cfg.Hostname, cfg.MapRoot, cfg.MountProc, cfg.NoAutoUser, tt.hostname, tt.mapRoot, tt.mountProc, tt.noAuto)
			}
		})
	}
}

func TestRunConfigDefaultShell(t *testing.T) {
	cfg, err := RunConfig(nil, runEnv{})
	if err != nil || !reflect.DeepEqual(cfg.Args, []string{"/bin/sh"}) {
		t.Errorf("RunConfig(nil) with no $SHELL = %q, %v, want [/bin/sh]", cfg.Args, err)
	}
}

func TestRunConfigErrors(t *testing.T) {
	tests := []struct {
		name  string
		args  []string
		usage bool // a usageError; otherwise a flag error
		help  bool
	}{
		{name: "unknown flag", args: []string{"--nope", "true"}},
		{name: "missing hostname", args: []string{"--hostname"}},
		{name: "help", args: []string{"--help"}, help: true},
		{name: "map-root without user", args: []string{"--map-root", "--user=false", "id"}, usage: true},
		{name: "long hostname", args: []string{"--hostname", string(make([]byte, 65)), "true"}, usage: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := RunConfig(tt.args, runEnv{})
			var ue *usageError
			switch {
			case err == nil:
				t.Fatalf("RunConfig(%q) succeeded, want an error", tt.args)
			case tt.help != errors.Is(err, flag.ErrHelp):
				t.Errorf("RunConfig(%q) = %v, want help %v", tt.args, err, tt.help)
			case tt.usage != errors.As(err, &ue):
				t.Errorf("RunConfig(%q) = %v (%T), want usage error %v", tt.args, err, err, tt.usage)
			}
		})
	}
}

func TestParsePID(t *testing.T) {
	tests := []struct {
		in      string
		want    int
		wantErr bool
	}{
		{"self", ns.Self, false}, {"1", 1, false}, {"4242", 4242, false},
		{"0", 0, true}, {"-5", 0, true}, {"abc", 0, true}, {"", 0, true}, {"12x", 0, true},
	}
	for _, tt := range tests {
		got, err := parsePID(tt.in)
		if got != tt.want || (err != nil) != tt.wantErr {
			t.Errorf("parsePID(%q) = %d, %v, want %d, error %v", tt.in, got, err, tt.want, tt.wantErr)
		}
	}
}

func TestParseInterspersed(t *testing.T) {
	tests := []struct {
		name     string
		args     []string
		wantPos  []string
		wantJSON bool
	}{
		{"flag first", []string{"--json", "1", "2"}, []string{"1", "2"}, true},
		{"flag last", []string{"1", "2", "--json"}, []string{"1", "2"}, true},
		{"negative number is positional", []string{"-5", "--json"}, []string{"-5"}, true},
		{"after --", []string{"1", "--", "--json"}, []string{"1", "--json"}, false},
		{"none", nil, nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fs := newFlagSet("test")
			j := fs.Bool("json", false, "")
			pos, err := parseInterspersed(fs, tt.args)
			if err != nil || !reflect.DeepEqual(pos, tt.wantPos) || *j != tt.wantJSON {
				t.Errorf("parseInterspersed(%q) = %q, json %v, %v; want %q, json %v", tt.args, pos, *j, err, tt.wantPos, tt.wantJSON)
			}
		})
	}
}

func TestParseKinds(t *testing.T) {
	got, err := parseKinds("uts, mount,network")
	want := []ns.Kind{ns.UTS, ns.Mnt, ns.Net}
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("parseKinds = %v, %v, want %v", got, err, want)
	}
	if _, err := parseKinds("uts,bogus"); err == nil {
		t.Errorf("parseKinds(uts,bogus) succeeded, want an error")
	}
}

func TestOneLine(t *testing.T) {
	if got := oneLine("a\n  b\r\n\nc\n"); got != "a; b; c" {
		t.Errorf("oneLine = %q, want %q", got, "a; b; c")
	}
}

func TestParsePasswd(t *testing.T) {
	text := "root:x:0:0:root:/root:/bin/bash\n" +
		"# a comment:x:5:5\n" +
		"nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n" +
		"toor:x:0:0::/root:/bin/sh\n" +
		"broken line\n" +
		"bad:x:notanumber:0::/:/bin/sh\n"
	want := map[int]string{0: "root", 65534: "nobody"}
	if got := parsePasswd(text); !reflect.DeepEqual(got, want) {
		t.Errorf("parsePasswd = %v, want %v", got, want)
	}
}

func TestPrintable(t *testing.T) {
	tests := []struct{ in, want string }{
		{"sleep 30", "sleep 30"},
		{"evil\x1b]0;owned\x07", `evil\x1b]0;owned\x07`},
		{"a\xffb", `a\xffb`},
		{"tab\there", `tab\x09here`},
		{`back\slash`, `back\x5cslash`},
		{"café ünïcode", "café ünïcode"},
		{"c1\u009b31m", `c1\xc2\x9b31m`},
		{"", ""},
	}
	for _, tc := range tests {
		if got := Printable(tc.in); got != tc.want {
			t.Errorf("Printable(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
