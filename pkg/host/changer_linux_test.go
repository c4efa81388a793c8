package host

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"unsafe"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// changer runs in new uts, ipc, net and mount namespaces (fd 5: go, fd 6:
// its reports): it furnishes them, says "ready", waits for a byte, makes
// each change of the test's list, says "done", and waits for EOF.
func changer([]string) int {
	goR, report := os.NewFile(5, "go"), os.NewFile(6, "report")
	if err := furnish(); err != nil {
		fmt.Fprintf(report, "furnish: %v\n", err)
		return 1
	}
	fmt.Fprintln(report, "ready")
	var b [1]byte
	goR.Read(b[:])
	if err := makeChanges(); err != nil {
		fmt.Fprintf(report, "change: %v\n", err)
		return 1
	}
	fmt.Fprintln(report, "done")
	goR.Read(b[:])
	return 0
}

// furnish makes the state the changes start from.
func furnish() error {
	steps := []func() error{
		func() error { return setUp("lo") },
		func() error { return netlink.LinkAdd(&netlink.Bridge{LinkAttrs: netlink.LinkAttrs{Name: "br0"}}) },
		func() error { return setUp("br0") },
		func() error {
			return netlink.LinkAdd(&netlink.Veth{LinkAttrs: netlink.LinkAttrs{Name: "nv1", MTU: 1500}, PeerName: "nv2"})
		},
		func() error { return mount("nslab-root", "/mnt", 0) },
		func() error { return mkdirs("/mnt/a", "/mnt/b", "/mnt/c") },
		func() error { return mount("nslab-a", "/mnt/a", 0) },
		func() error { return mount("nslab-b", "/mnt/b", 0) },
		func() error { return mount("nslab-c", "/mnt/c", 0) },
	}
	return run(steps)
}

// makeChanges makes the changes the test expects, in its order.
func makeChanges() error {
	steps := []func() error{
		func() error { return unix.Sethostname([]byte("after-host")) },
		func() error { return msgget(4242) },
		func() error { return mqOpen("nslab-test") },
		func() error { return sysctl("net/ipv4/ip_forward", "1") },
		func() error { return bumpSysctl("kernel/msgmni") },
		func() error {
			return netlink.LinkAdd(&netlink.Veth{LinkAttrs: netlink.LinkAttrs{Name: "nv0"}, PeerName: "nv3"})
		},
		func() error {
			return withLink("nv1", func(l netlink.Link) error { return netlink.LinkSetMTU(l, 1400) })
		},
		func() error {
			return withLink("br0", func(br netlink.Link) error {
				return withLink("nv1", func(l netlink.Link) error { return netlink.LinkSetMaster(l, br) })
			})
		},
		func() error { return addAddress("br0", "198.51.100.1/24") },
		func() error { return addRoute("br0", "203.0.113.0/24") },
		func() error { return withLink("lo", netlink.LinkSetDown) },
		func() error { return unix.Unmount("/mnt/a", 0) },
		func() error { return mount("nslab-a", "/mnt/a", 0) },
		func() error { return unix.Mount("", "/mnt/b", "", unix.MS_SHARED, "") },
		func() error { return unix.Mount("", "/mnt/b", "", unix.MS_REMOUNT|unix.MS_BIND|unix.MS_RDONLY, "") },
		func() error { return unix.Unmount("/mnt/c", 0) },
	}
	return run(steps)
}

func run(steps []func() error) error {
	for i, step := range steps {
		if err := step(); err != nil {
			return fmt.Errorf("step %d: %w", i+1, err)
		}
	}
	return nil
}

func setUp(name string) error { return withLink(name, netlink.LinkSetUp) }

func withLink(name string, fn func(netlink.Link) error) error {
	l, err := netlink.LinkByName(name)
	if err != nil {
		return fmt.Errorf("link %s: %w", name, err)
	}
	return fn(l)
}

func addAddress(dev, cidr string) error {
	a, err := netlink.ParseAddr(cidr)
	if err != nil {
		return err
	}
	return withLink(dev, func(l netlink.Link) error { return netlink.AddrAdd(l, a) })
}

func addRoute(dev, cidr string) error {
	a, err := netlink.ParseIPNet(cidr)
	if err != nil {
		return err
	}
	return withLink(dev, func(l netlink.Link) error {
		return netlink.RouteAdd(&netlink.Route{LinkIndex: l.Attrs().Index, Dst: a, Scope: netlink.SCOPE_LINK})
	})
}

func mount(source, target string, flags uintptr) error {
	return unix.Mount(source, target, "tmpfs", flags, "")
}

func mkdirs(dirs ...string) error {
	for _, d := range dirs {
		if err := os.Mkdir(d, 0o755); err != nil {
			return err
		}
	}
	return nil
}

func sysctl(path, value string) error {
	return os.WriteFile("/proc/sys/"+path, []byte(value), 0o644)
}

func bumpSysctl(path string) error {
	b, err := os.ReadFile("/proc/sys/" + path)
	if err != nil {
		return err
	}
	n, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		return err
	}
	return sysctl(path, strconv.Itoa(n+1))
}

func msgget(key int) error {
	_, _, errno := unix.Syscall(unix.SYS_MSGGET, uintptr(key), unix.IPC_CREAT|0o600, 0)
	if errno != 0 {
		return fmt.Errorf("msgget: %w", errno)
	}
	return nil
}

func mqOpen(name string) error {
	p, err := unix.BytePtrFromString(name)
	if err != nil {
		return err
	}
	fd, _, errno := unix.Syscall6(unix.SYS_MQ_OPEN, uintptr(unsafe.Pointer(p)), unix.O_CREAT|unix.O_RDWR, 0o600, 0, 0, 0)
	if errno != 0 {
		return fmt.Errorf("mq_open %s: %w", name, errno)
	}
	return unix.Close(int(fd))
}
