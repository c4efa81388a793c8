//go:build linux

package labhost

import (
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"os/signal"
	"sync"
	"time"

	"github.com/nslab/nslab/pkg/spawn"
	"golang.org/x/sys/unix"
)

// A resident lab host's init starts no entrypoint of its own: it starts one
// on each request that comes over its control socket (Host.Exec), with the
// files that come with the request, tells the PID, and later the status
// when that process ends. It reaps every orphan meanwhile, and ends when the
// caller closes the socket or stops it.

// request asks a resident init to start an entrypoint; its files come as
// SCM_RIGHTS: stdout, stderr, then the extra files (fds 3, 4, … of the entrypoint).
type request struct {
	Entrypoint string
	Args       []string
}

// reply answers a request (PID or Error), and later tells how that PID ended (Status).
type reply struct {
	PID    int
	Status *int   `json:",omitempty"` // set once PID has ended: its exit code, or -1 when a signal ended it
	Signal int    `json:",omitempty"` // the signal that ended PID
	Error  string `json:",omitempty"`
}

const maxMessage = 64 << 10

// serve is the resident init's loop on its control socket ctl.
func serve(ctl *net.UnixConn) int {
	chld := make(chan os.Signal, 1)
	signal.Notify(chld, unix.SIGCHLD)
	var mu sync.Mutex // orders each PID's reply before its status
	started := map[int]bool{}
	go func() {
		for range chld {
			reapAll(func(pid int, ws unix.WaitStatus) {
				mu.Lock()
				defer mu.Unlock()
				if started[pid] {
					delete(started, pid)
					r := reply{PID: pid, Status: new(ws.ExitStatus())}
					if ws.Signaled() {
						r.Signal = int(ws.Signal())
					}
					send(ctl, r, nil)
				}
			})
		}
	}()
	for {
		req, files, err := receive(ctl)
		if err != nil {
			return 0 // the caller is done with this lab host
		}
		mu.Lock()
		pid, err := startFiles(req, files)
		if err != nil {
			send(ctl, reply{Error: err.Error()}, nil)
		} else {
			started[pid] = true
			send(ctl, reply{PID: pid}, nil)
		}
		mu.Unlock()
	}
}

// reapAll reaps every process that has ended, telling each one's status.
func reapAll(ended func(pid int, ws unix.WaitStatus)) {
	for {
		var ws unix.WaitStatus
		pid, err := unix.Wait4(-1, &ws, unix.WNOHANG, nil)
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if err != nil || pid <= 0 {
			return
		}
		ended(pid, ws)
	}
}

// startFiles starts the requested entrypoint with files as its stdout,
// stderr and fds 3, 4, …, then closes the init's copies of them.
func startFiles(req request, files []*os.File) (int, error) {
	defer func() {
		for _, f := range files {
			f.Close()
		}
	}()
	if len(files) < 2 {
		return 0, fmt.Errorf("start %s: %d files came with the request, want stdout and stderr at least", req.Entrypoint, len(files))
	}
	cmd, err := spawn.EntrypointCommand(req.Entrypoint, req.Args)
	if err != nil {
		return 0, err
	}
	cmd.Stdout, cmd.Stderr, cmd.Dir, cmd.ExtraFiles = files[0], files[1], "/", files[2:]
	if err := cmd.Start(); err != nil {
		return 0, fmt.Errorf("start %s: %w", req.Entrypoint, err)
	}
	return cmd.Process.Pid, nil
}

// send writes one message, with files passed as SCM_RIGHTS.
func send(c *net.UnixConn, v any, files []*os.File) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	var oob []byte
	if len(files) > 0 {
		fds := make([]int, len(files))
		for i, f := range files {
			fds[i] = int(f.Fd())
		}
		oob = unix.UnixRights(fds...)
	}
	_, _, err = c.WriteMsgUnix(b, oob, nil)
	return err
}

// receive reads one request and the files that came with it.
func receive(c *net.UnixConn) (request, []*os.File, error) {
	var req request
	b, files, err := readMessage(c)
	if err == nil {
		err = json.Unmarshal(b, &req)
	}
	if err != nil {
		for _, f := range files {
			f.Close()
		}
	}
	return req, files, err
}

// readMessage reads one message; io.EOF once the other end is closed.
func readMessage(c *net.UnixConn) ([]byte, []*os.File, error) {
	b := make([]byte, maxMessage)
	oob := make([]byte, unix.CmsgSpace(16*4))
	n, oobn, _, _, err := c.ReadMsgUnix(b, oob)
	if err != nil {
		return nil, nil, err
	}
	files, ferr := filesOf(oob[:oobn])
	if n == 0 && oobn == 0 {
		return nil, nil, errEOF
	}
	return b[:n], files, ferr
}

var errEOF = errors.New("the other end closed the lab host's control socket")

// filesOf turns the SCM_RIGHTS of a message into files.
func filesOf(oob []byte) ([]*os.File, error) {
	msgs, err := unix.ParseSocketControlMessage(oob)
	if err != nil {
		return nil, fmt.Errorf("read the files of a message: %w", err)
	}
	var files []*os.File
	for _, m := range msgs {
		fds, err := unix.ParseUnixRights(&m)
		if err != nil {
			continue
		}
		for _, fd := range fds {
			unix.CloseOnExec(fd)
			files = append(files, os.NewFile(uintptr(fd), "passed"))
		}
	}
	return files, nil
}

// socketPair makes the two ends of a resident lab host's control socket.
func socketPair() (mine *net.UnixConn, theirs *os.File, err error) {
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_SEQPACKET|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, nil, fmt.Errorf("make the lab host's control socket: %w", err)
	}
	f := os.NewFile(uintptr(fds[0]), "control")
	defer f.Close()
	c, err := net.FileConn(f)
	if err != nil {
		unix.Close(fds[1])
		return nil, nil, fmt.Errorf("make the lab host's control socket: %w", err)
	}
	return c.(*net.UnixConn), os.NewFile(uintptr(fds[1]), "control"), nil
}

// controlConn is the resident init's end of its control socket.
func controlConn(fd int) (*net.UnixConn, error) {
	f := os.NewFile(uintptr(fd), "control")
	defer f.Close()
	c, err := net.FileConn(f)
	if err != nil {
		return nil, fmt.Errorf("open the control socket: %w", err)
	}
	uc, ok := c.(*net.UnixConn)
	if !ok {
		c.Close()
		return nil, fmt.Errorf("fd %d is not a unix socket", fd)
	}
	return uc, nil
}

// Proc is a process started in a resident lab host by Host.Exec.
type Proc struct {
	pid   int
	entry string
	done  chan struct{}
	err   error
}

// PID is the process's PID in the lab host.
func (p *Proc) PID() int { return p.pid }

// Wait waits for the process to end: nil when it exited 0.
func (p *Proc) Wait() error {
	<-p.done
	return p.err
}

// Done is closed once the process has ended (or the lab host has).
func (p *Proc) Done() <-chan struct{} { return p.done }

// Exec starts entrypoint name with args in the resident lab host h, with
// stdout and stderr, and files as its fds 3, 4, …; the caller may close its
// copies once Exec returns. One process at a time: wait for it (Proc.Wait)
// before the next Exec.
func (h *Host) Exec(name string, args []string, stdout, stderr *os.File, files ...*os.File) (*Proc, error) {
	if h.ctl == nil {
		return nil, errors.New("labhost: Exec needs a resident lab host (Options.Resident)")
	}
	all := append([]*os.File{stdout, stderr}, files...)
	if err := send(h.ctl, request{Entrypoint: name, Args: args}, all); err != nil {
		return nil, fmt.Errorf("ask the lab host (init PID %d) to start %s: %w", h.PID(), name, err)
	}
	r, err := h.answer()
	if err != nil {
		return nil, fmt.Errorf("start %s in the lab host (init PID %d): %w", name, h.PID(), err)
	}
	p := &Proc{pid: r.PID, entry: name, done: make(chan struct{})}
	go p.await(h)
	return p, nil
}

// await reads the status of p, or learns that the lab host ended first.
func (p *Proc) await(h *Host) {
	defer close(p.done)
	r, err := readReply(h.ctl)
	switch {
	case err != nil:
		p.err = fmt.Errorf("%s (PID %d in the lab host): the lab host ended first: %w", p.entry, p.pid, err)
	case r.PID != p.pid || r.Status == nil:
		p.err = fmt.Errorf("%s (PID %d in the lab host): the lab host's init told of PID %d instead", p.entry, p.pid, r.PID)
	case r.Signal != 0:
		p.err = fmt.Errorf("%s (PID %d in the lab host) was killed by signal %d (%v)", p.entry, p.pid, r.Signal, unix.Signal(r.Signal))
	case *r.Status != 0:
		p.err = fmt.Errorf("%s (PID %d in the lab host) exited with status %d", p.entry, p.pid, *r.Status)
	}
}

// answerTime bounds the wait for a resident init's answer (set up, or a
// process started): it does both in milliseconds.
const answerTime = 30 * time.Second

// awaitFurnished waits for a resident init's word that the lab host is set up.
func (h *Host) awaitFurnished() error {
	if _, err := h.answer(); err != nil {
		return fmt.Errorf("set up a lab host (init PID %d): %w", h.PID(), err)
	}
	return nil
}

// answer reads a resident init's answer, within answerTime; an answer that
// is an error comes back as one.
func (h *Host) answer() (reply, error) {
	h.ctl.SetReadDeadline(time.Now().Add(answerTime))
	defer h.ctl.SetReadDeadline(time.Time{})
	r, err := readReply(h.ctl)
	if err == nil && r.Error != "" {
		err = errors.New(r.Error)
	}
	return r, err
}

func readReply(c *net.UnixConn) (reply, error) {
	var r reply
	b, files, err := readMessage(c)
	for _, f := range files {
		f.Close()
	}
	if err == nil {
		err = json.Unmarshal(b, &r)
	}
	return r, err
}
