package host

import (
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
)

func TestParseMountinfo(t *testing.T) {
	text := "22 1 0:21 / / rw,relatime shared:1 - ext4 /dev/sda1 rw\n" +
		"35 22 0:5 / /proc rw,nosuid - proc proc rw\n" +
		"40 22 0:50 /sub /mnt/a\\040b ro master:3 shared:7 - tmpfs my\\040tmp rw,size=1024k\n" +
		"garbage\n"
	want := []Mount{
		{ID: 22, Parent: 1, Dev: "0:21", Root: "/", Target: "/", Options: "rw,relatime", Propagation: "shared:1", FSType: "ext4", Source: "/dev/sda1", SuperOptions: "rw"},
		{ID: 35, Parent: 22, Dev: "0:5", Root: "/", Target: "/proc", Options: "rw,nosuid", FSType: "proc", Source: "proc", SuperOptions: "rw"},
		{ID: 40, Parent: 22, Dev: "0:50", Root: "/sub", Target: "/mnt/a b", Options: "ro", Propagation: "master:3 shared:7", FSType: "tmpfs", Source: "my tmp", SuperOptions: "rw,size=1024k"},
	}
	if got := ParseMountinfo(text); !reflect.DeepEqual(got, want) {
		t.Errorf("ParseMountinfo =\n%+v\nwant\n%+v", got, want)
	}
}

func TestPropagationWords(t *testing.T) {
	tests := map[string]string{
		"":                  "private",
		"shared:5":          "shared (peer group 5)",
		"master:3":          "slave (of peer group 3)",
		"shared:7 master:3": "shared (peer group 7), slave (of peer group 3)",
		"unbindable":        "unbindable",
		"propagate_from:2":  "private",
	}
	for in, want := range tests {
		if got := PropagationWords(in); got != want {
			t.Errorf("PropagationWords(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestParseSysVIPC(t *testing.T) {
	text := "       key      msqid perms      cbytes       qnum\n" +
		"      4660          0   644           0          0\n"
	want := []string{"msg 4660 0"}
	if got := ParseSysVIPC("msg", text); !reflect.DeepEqual(got, want) {
		t.Errorf("ParseSysVIPC = %q, want %q", got, want)
	}
}

func TestParseStat(t *testing.T) {
	tests := []struct {
		text, comm string
		ppid       int
		ok         bool
	}{
		{text: "42 (sleep) S 7 42 42 0", comm: "sleep", ppid: 7, ok: true},
		{text: "43 (a (b) c) R 9 1", comm: "a (b) c", ppid: 9, ok: true},
		{text: "nonsense", ok: false},
	}
	for _, tt := range tests {
		comm, ppid, ok := ParseStat(tt.text)
		if comm != tt.comm || ppid != tt.ppid || ok != tt.ok {
			t.Errorf("ParseStat(%q) = %q, %d, %v; want %q, %d, %v", tt.text, comm, ppid, ok, tt.comm, tt.ppid, tt.ok)
		}
	}
}

// stat is a /proc/PID/stat line with the fields a snapshot reads.
func stat(pid int, comm, state string, ppid int, start string) string {
	f := []string{state, itoa(ppid), "1", "1", "0", "-1", "4194304", "0", "0", "0", "0", "0", "0", "0", "0", "20", "0", "1", "0", start, "100"}
	return itoa(pid) + " (" + comm + ") " + strings.Join(f, " ")
}

func itoa(n int) string { return strconv.Itoa(n) }

func TestParseProcStat(t *testing.T) {
	tests := []struct {
		text string
		want ProcStat
		ok   bool
	}{
		{stat(42, "sleep", "S", 7, "12345"), ProcStat{PID: 42, Comm: "sleep", State: 'S', PPID: 7, Start: 12345}, true},
		{stat(43, "a) (b", "Z", 1, "9"), ProcStat{PID: 43, Comm: "a) (b", State: 'Z', PPID: 1, Start: 9}, true},
		{"42 (sleep) S 7 42", ProcStat{}, false},
		{stat(44, "x", "S", 1, "notanumber"), ProcStat{}, false},
		{"(x) S 1", ProcStat{}, false},
	}
	for _, tt := range tests {
		got, ok := ParseProcStat(tt.text)
		if got != tt.want || ok != tt.ok {
			t.Errorf("ParseProcStat(%q) = %+v, %v; want %+v, %v", tt.text, got, ok, tt.want, tt.ok)
		}
	}
}

func TestOwned(t *testing.T) {
	const self = 100
	procs := map[int]ProcStat{}
	add := func(pid, ppid int, state byte) {
		procs[pid] = ProcStat{PID: pid, PPID: ppid, State: state, Comm: "p" + itoa(pid)}
	}
	add(1, 0, 'S')
	add(50, 1, 'S')     // go test, our parent
	add(self, 50, 'S')  // the caller
	add(101, self, 'S') // a direct child: Children lists it
	add(102, 101, 'S')  // a grandchild: ours
	add(103, 102, 'Z')  // a zombie grandchild: being reaped
	add(200, 1, 'S')    // an orphan carrying our mark: a double-forked daemon
	add(201, 200, 'S')  // its child, also marked
	add(300, 1, 'S')    // an orphan of another test binary, in namespaces of its own
	add(301, 50, 'S')   // another test binary
	add(302, 301, 'S')  // its child in new namespaces
	add(400, 1, 'Z')    // our orphan, ended, that PID 1 has not reaped yet
	marks := map[int]bool{102: true, 200: true, 201: true, 400: true}
	got := Owned(procs, self, func(p ProcStat) bool { return marks[p.PID] })
	var pids []int
	for _, p := range got {
		pids = append(pids, p.PID)
	}
	slices.Sort(pids)
	if want := []int{102, 200, 201}; !slices.Equal(pids, want) {
		t.Errorf("Owned = %v, want %v", pids, want)
	}
}

func TestEnvHas(t *testing.T) {
	env := []byte("PATH=/bin\x00NSLAB_HOST_OWNER=7:99\x00HOME=/\x00")
	if !EnvHas(env, "NSLAB_HOST_OWNER=7:99") || EnvHas(env, "NSLAB_HOST_OWNER=7:9") || EnvHas(nil, "A=1") {
		t.Error("EnvHas matches other than exactly one entry")
	}
}

func TestTestNamesAndLeftovers(t *testing.T) {
	syms := []string{
		"github.com/nslab/nslab/pkg/host.TestDiff", "github.com/nslab/nslab/pkg/host_test.TestTakeOf_Mounts",
		"github.com/nslab/nslab/pkg/host.TestMain", "github.com/nslab/nslab/pkg/host.Testify",
		"testing.(*T).Run", "github.com/a/b.(*T).TestX", "main.main", "github.com/nslab/nslab/pkg/host.Test",
	}
	names := TestNames(syms)
	if want := []string{"TestDiff", "TestTakeOf_Mounts"}; !slices.Equal(names, want) {
		t.Errorf("TestNames = %q, want %q", names, want)
	}
	dir := []string{"go-build123", "TestDiff4242", "TestOther1", "nslab-x", "go-test-script99", "systemd-private-1"}
	got := TmpLeftovers(dir, append([]string{TestscriptPrefix}, names...))
	if want := []string{"TestDiff4242", "go-test-script99"}; !slices.Equal(got, want) {
		t.Errorf("TmpLeftovers = %q, want %q", got, want)
	}
}

func TestRouteString(t *testing.T) {
	tests := []struct {
		r    Route
		want string
	}{
		{Route{Type: "unicast", Dst: "198.51.100.0/24", Dev: "veth0", Table: "main", Proto: "kernel", Scope: "link", Src: "198.51.100.1"},
			"198.51.100.0/24 dev veth0 table main proto kernel scope link src 198.51.100.1"},
		{Route{Type: "unicast", Via: "10.0.0.1", Dev: "eth0", Table: "main", Proto: "dhcp", Scope: "global", Metric: 100},
			"default via 10.0.0.1 dev eth0 table main proto dhcp metric 100"},
		{Route{IPv6: true, Type: "unicast", Via: "fe80::1", Dev: "eth0", Table: "main", Proto: "ra", Metric: 1024}, "::/0 via fe80::1 dev eth0 table main proto ra metric 1024"},
		{Route{Type: "local", Dst: "127.0.0.1", Dev: "lo", Table: "local", Proto: "kernel", Scope: "host", Src: "127.0.0.1"},
			"local 127.0.0.1 dev lo table local proto kernel scope host src 127.0.0.1"},
		{Route{Type: "unicast", Dst: "10.9.0.0/16", Table: "main", Nexthops: []string{"nexthop via 10.0.0.1 dev a", "nexthop via 10.0.0.2 dev b"}},
			"10.9.0.0/16 table main nexthop via 10.0.0.1 dev a nexthop via 10.0.0.2 dev b"},
	}
	for _, tt := range tests {
		if got := tt.r.String(); got != tt.want {
			t.Errorf("Route.String() = %q, want %q", got, tt.want)
		}
	}
}

func TestLinkFlags(t *testing.T) {
	state, flags := LinkFlags(0x1 | 0x2 | 0x40 | 0x1000 | 0x10000) // UP BROADCAST RUNNING MULTICAST LOWER_UP
	if state != "UP" || flags != "BROADCAST,MULTICAST" {
		t.Errorf("LinkFlags = %q, %q; want UP, BROADCAST,MULTICAST (RUNNING and LOWER_UP follow the carrier)", state, flags)
	}
	if state, _ := LinkFlags(0x8); state != "DOWN" {
		t.Errorf("state of a link without IFF_UP = %q, want DOWN", state)
	}
}

var base = Snapshot{
	Hostname: "box", Domainname: "(none)",
	Mounts: []Mount{
		{ID: 22, Parent: 1, Dev: "8:1", Root: "/", Target: "/", Options: "rw,relatime", Propagation: "shared:1", FSType: "ext4", Source: "/dev/sda1", SuperOptions: "rw"},
		{ID: 40, Parent: 22, Unique: 7, Dev: "0:50", Root: "/", Target: "/mnt", Options: "rw,relatime", FSType: "tmpfs", Source: "tmpfs", SuperOptions: "rw"},
	},
	Links: []Link{
		{Index: 1, Name: "lo", Type: "device", State: "UP", MTU: 65536, Flags: "LOOPBACK", Addrs: []string{"127.0.0.1/8", "::1/128"}},
		{Index: 2, Name: "eth0", Type: "veth", State: "UP", MTU: 1500, Flags: "BROADCAST,MULTICAST", Addrs: []string{"10.0.0.2/24"}},
	},
	Routes:  []string{"default via 10.0.0.1 dev eth0 table main proto static"},
	Sysctls: map[string]string{"net.ipv4.ip_forward": "0", "kernel.msgmni": "32000", "kernel.sem": "32000 1024000000 500 32000"},
	SysVIPC: []string{"msg 4660 0"},
	MQueues: []string{},
}

// edit returns a copy of base changed by fn.
func edit(fn func(s *Snapshot)) Snapshot {
	s := base
	s.Mounts = slices.Clone(base.Mounts)
	s.Links = slices.Clone(base.Links)
	for i := range s.Links {
		s.Links[i].Addrs = slices.Clone(base.Links[i].Addrs)
	}
	s.Routes = slices.Clone(base.Routes)
	s.Sysctls = map[string]string{}
	for k, v := range base.Sysctls {
		s.Sysctls[k] = v
	}
	fn(&s)
	return s
}

// diffCases are changes to the base snapshot, each with the lines Diff and
// Hints must give for it.
var diffCases = []struct {
	name      string
	after     Snapshot
	diff, fix []string
}{
	{"nothing", edit(func(*Snapshot) {}), nil, nil},
	{"hostname", edit(func(s *Snapshot) { s.Hostname = "x" }), []string{"hostname: box -> x"}, []string{"hostname box"}},
	{"propagation", edit(func(s *Snapshot) { s.Mounts[1].Propagation = "shared:9" }),
		[]string{"mount /mnt: propagation private -> shared (peer group 9)"}, []string{"mount --make-private /mnt"}},
	{"remount read-only", edit(func(s *Snapshot) { s.Mounts[1].Options = "ro,relatime" }),
		[]string{"mount /mnt: options rw,relatime -> ro,relatime"}, []string{"mount -o remount,rw,relatime /mnt"}},
	{"replaced, same type and reused ID", edit(func(s *Snapshot) { s.Mounts[1].Dev = "0:51" }),
		[]string{"mount /mnt replaced: tmpfs from tmpfs (dev 0:50, root /, mount ID 40) -> tmpfs from tmpfs (dev 0:51, root /, mount ID 40)"},
		[]string{"umount /mnt, then mount tmpfs from tmpfs there again"}},
	{"replaced, nothing but the unique ID differs", edit(func(s *Snapshot) { s.Mounts[1].Unique = 8 }),
		[]string{"mount /mnt replaced: a new mount of the same tmpfs from tmpfs (unique mount ID 7 -> 8)"},
		[]string{"umount /mnt, then mount tmpfs from tmpfs there again"}},
	{"unique ID unknown", edit(func(s *Snapshot) { s.Mounts[1].Unique = 0 }), nil, nil},
	{"stacked", edit(func(s *Snapshot) {
		s.Mounts = append(s.Mounts, Mount{ID: 41, Parent: 40, Dev: "0:52", Root: "/", Target: "/mnt", Options: "rw", FSType: "tmpfs", Source: "none"})
	}), []string{"mount added: /mnt (tmpfs from none, rw, private)"}, []string{"umount /mnt"}},
	{"unmounted", edit(func(s *Snapshot) { s.Mounts = s.Mounts[:1] }),
		[]string{"mount removed: /mnt (tmpfs from tmpfs, rw,relatime, private)"}, []string{"mount -t tmpfs -o rw,relatime tmpfs /mnt"}},
	{"link down", edit(func(s *Snapshot) { s.Links[0].State = "DOWN" }), []string{"link lo: state UP -> DOWN"}, []string{"ip link set lo up"}},
	{"mtu and master", edit(func(s *Snapshot) { s.Links[1].MTU = 9000; s.Links[1].Master = "br0" }),
		[]string{"link eth0: master none -> br0", "link eth0: mtu 1500 -> 9000"}, []string{"ip link set eth0 mtu 1500", "ip link set eth0 nomaster"}},
	{"address", edit(func(s *Snapshot) { s.Links[1].Addrs = []string{"10.0.0.2/24", "198.51.100.1/24"} }),
		[]string{"link eth0: address added: 198.51.100.1/24"}, []string{"ip address del 198.51.100.1/24 dev eth0"}},
	{"link added", edit(func(s *Snapshot) {
		s.Links = append(s.Links, Link{Index: 7, Name: "veth0", Type: "veth", State: "DOWN", MTU: 1500})
	}),
		[]string{"link added: veth0 (index 7, veth, DOWN, mtu 1500)"}, []string{"ip link delete veth0"}},
	{"link replaced", edit(func(s *Snapshot) { s.Links[1].Index = 9 }),
		[]string{"link eth0 replaced: index 2 veth -> index 9 veth"}, []string{"ip link delete eth0, then make it again: ip link add eth0 type veth"}},
	{"route", edit(func(s *Snapshot) {
		s.Routes = append(s.Routes, "198.51.100.0/24 dev eth0 table main proto boot scope link")
	}),
		[]string{"route added: 198.51.100.0/24 dev eth0 table main proto boot scope link"}, []string{"ip route del 198.51.100.0/24 dev eth0 table main proto boot scope link"}},
	{"route removed", edit(func(s *Snapshot) { s.Routes = nil }),
		[]string{"route removed: default via 10.0.0.1 dev eth0 table main proto static"}, []string{"ip route add default via 10.0.0.1 dev eth0 table main proto static"}},
	{"sysctls", edit(func(s *Snapshot) {
		s.Sysctls["net.ipv4.ip_forward"] = "1"
		s.Sysctls["kernel.sem"] = "1 2 3 4"
		delete(s.Sysctls, "kernel.msgmni")
	}), []string{"sysctl kernel.msgmni: 32000 -> (absent)", "sysctl kernel.sem: 32000 1024000000 500 32000 -> 1 2 3 4", "sysctl net.ipv4.ip_forward: 0 -> 1"},
		[]string{"sysctl -w kernel.msgmni=32000", `sysctl -w kernel.sem="32000 1024000000 500 32000"`, "sysctl -w net.ipv4.ip_forward=0"}},
	{"ipc", edit(func(s *Snapshot) { s.SysVIPC = []string{"msg 4660 0", "shm 0 3"}; s.MQueues = []string{"q"} }),
		[]string{"POSIX message queue added: q", "System V IPC object added: shm 0 3"},
		[]string{"ipcrm -m 3", "mount -t mqueue none /dev/mqueue (if it is not mounted), then rm /dev/mqueue/q"}},
	{"queues unread", edit(func(s *Snapshot) { s.MQueues = nil }), nil, nil},
	{"process left", edit(func(s *Snapshot) {
		s.Processes = []Process{{PID: 4242, Start: 7, Comm: "sleep", NS: "net:[4026532001] uts:[4026532002]"}, {PID: 4243, Start: 8, Comm: "sh"}}
	}), []string{"process left: 4242 sleep (in net:[4026532001] uts:[4026532002])", "process left: 4243 sh (in the caller's namespaces)"},
		[]string{"kill 4242", "kill 4243"}},
	{"tmp", edit(func(s *Snapshot) { s.TmpFiles = []string{"nslab-x1"} }), []string{"left in /tmp: /tmp/nslab-x1"}, []string{"rm -rf /tmp/nslab-x1"}},
}

func TestDiffAndHints(t *testing.T) {
	for _, tt := range diffCases {
		t.Run(tt.name, func(t *testing.T) {
			if got := Diff(base, tt.after); !slices.Equal(got, tt.diff) {
				t.Errorf("Diff =\n%q\nwant\n%q", got, tt.diff)
			}
			if got := Hints(base, tt.after); !slices.Equal(got, tt.fix) {
				t.Errorf("Hints =\n%q\nwant\n%q", got, tt.fix)
			}
		})
	}
}

func TestDiffProcessesByStartTime(t *testing.T) {
	before := Snapshot{Processes: []Process{{PID: 10, Start: 5, Comm: "a"}}}
	same := Snapshot{Processes: []Process{{PID: 10, Start: 5, Comm: "a"}}}
	reused := Snapshot{Processes: []Process{{PID: 10, Start: 6, Comm: "b"}}}
	if d := Diff(before, same); d != nil {
		t.Errorf("Diff with the same process = %q, want nil", d)
	}
	if d := Diff(before, reused); len(d) != 1 {
		t.Errorf("Diff with a reused PID = %q, want the new process", d)
	}
}

func TestUnescape(t *testing.T) {
	tests := []struct{ in, want string }{
		{`/mnt/a\040b`, "/mnt/a b"},
		{`/x\011y\012z`, "/x\ty\nz"},
		{`back\134slash`, `back\slash`},
		{`not\0an\escape`, `not\0an\escape`},
		{`/plain`, "/plain"},
		{`end\04`, `end\04`},
	}
	for _, tc := range tests {
		if got := Unescape(tc.in); got != tc.want {
			t.Errorf("Unescape(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestStatusField(t *testing.T) {
	const status = "Name:\tsh\nUmask:\t0022\nUid:\t0\t1\t2\t3\nNSpid:\t4242\t7\t1\n"
	for _, tt := range []struct {
		name, want string
		ok         bool
	}{
		{"Name", "sh", true},
		{"Uid", "0\t1\t2\t3", true},
		{"NSpid", "4242\t7\t1", true},
		{"Pid", "", false},
		{"Na", "", false},
	} {
		if got, ok := StatusField(status, tt.name); got != tt.want || ok != tt.ok {
			t.Errorf("StatusField(%q) = %q, %v; want %q, %v", tt.name, got, ok, tt.want, tt.ok)
		}
	}
}

func TestNSpid(t *testing.T) {
	tests := []struct {
		name, status string
		want         []int // nil: an error
	}{
		{name: "three levels", status: "Name:\tsh\nNSpid:\t4242\t7\t1\n", want: []int{4242, 7, 1}},
		{name: "one level", status: "Pid:\t7\nNSpid:\t7\n", want: []int{7}},
		{name: "missing", status: "Pid:\t7\n"},
		{name: "empty", status: "NSpid:\t\n"},
		{name: "zero", status: "NSpid:\t0\n"},
		{name: "word", status: "NSpid:\t3\tx\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := NSpid(tt.status)
			if !slices.Equal(got, tt.want) || (err != nil) != (tt.want == nil) {
				t.Errorf("NSpid(%q) = %v, %v; want %v", tt.status, got, err, tt.want)
			}
		})
	}
}

func TestReadInt(t *testing.T) {
	dir := t.TempDir()
	for _, tt := range []struct {
		text string
		want int
		bad  bool
	}{{"4194304\n", 4194304, false}, {" 7 ", 7, false}, {"max\n", 0, true}, {"", 0, true}} {
		path := filepath.Join(dir, "n")
		if err := os.WriteFile(path, []byte(tt.text), 0o600); err != nil {
			t.Fatal(err)
		}
		if got, err := ReadInt(path); got != tt.want || (err != nil) != tt.bad {
			t.Errorf("ReadInt of %q = %d, %v; want %d, error %v", tt.text, got, err, tt.want, tt.bad)
		}
	}
	if _, err := ReadInt(filepath.Join(dir, "absent")); err == nil {
		t.Errorf("ReadInt of a missing file succeeded")
	}
}
