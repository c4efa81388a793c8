//go:build linux

package loop

import (
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"unsafe"

	"golang.org/x/sys/unix"
)

const inotifyMask = unix.IN_CLOSE_WRITE | unix.IN_MOVED_TO | unix.IN_MOVED_FROM | unix.IN_DELETE |
	unix.IN_CREATE | unix.IN_ATTRIB

// Inotify reports the files changed under dirs and their subdirectories
// (new ones included) through inotify(7), until ctx is done.
func Inotify(ctx context.Context, dirs []string) (<-chan string, error) {
	fd, err := unix.InotifyInit1(unix.IN_NONBLOCK | unix.IN_CLOEXEC)
	if err != nil {
		return nil, os.NewSyscallError("inotify_init1", err)
	}
	// A non-blocking descriptor is read through Go's poller, so that Close
	// ends a Read in progress.
	in := &inotify{fd: fd, f: os.NewFile(uintptr(fd), "inotify"), wds: map[int]string{}}
	for _, d := range dirs {
		if err := in.add(d); err != nil {
			in.f.Close()
			return nil, err
		}
	}
	ch := make(chan string, 256)
	stop := context.AfterFunc(ctx, func() { in.f.Close() })
	go func() {
		defer close(ch)
		defer stop()
		in.read(ctx, ch)
	}()
	return ch, nil
}

// inotify is one inotify descriptor and the directories it watches, by
// watch descriptor.
type inotify struct {
	fd  int
	f   *os.File
	wds map[int]string
}

// add watches root and every directory under it.
func (in *inotify) add(root string) error {
	return filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || !d.IsDir() {
			return err
		}
		wd, err := unix.InotifyAddWatch(in.fd, p, inotifyMask)
		if err != nil {
			return &fs.PathError{Op: "inotify_add_watch", Path: p, Err: err}
		}
		in.wds[wd] = p
		return nil
	})
}

// read sends the files changed to ch until the descriptor is closed or ctx
// is done.
func (in *inotify) read(ctx context.Context, ch chan<- string) {
	buf := make([]byte, 64*1024)
	for {
		n, err := in.f.Read(buf)
		if err != nil {
			return
		}
		for off := 0; off+unix.SizeofInotifyEvent <= n; {
			ev := (*unix.InotifyEvent)(unsafe.Pointer(&buf[off]))
			name := buf[off+unix.SizeofInotifyEvent : off+unix.SizeofInotifyEvent+int(ev.Len)]
			off += unix.SizeofInotifyEvent + int(ev.Len)
			p, ok := in.event(ev, name)
			if !ok {
				continue
			}
			select {
			case ch <- p:
			case <-ctx.Done():
				return
			}
		}
	}
}

// event is the file one event is about, and whether it is a file to
// report: a directory created or moved in is watched instead.
func (in *inotify) event(ev *unix.InotifyEvent, name []byte) (string, bool) {
	dir, ok := in.wds[int(ev.Wd)]
	if !ok {
		return "", false
	}
	p := filepath.Join(dir, cString(name))
	if ev.Mask&unix.IN_ISDIR != 0 {
		if ev.Mask&(unix.IN_CREATE|unix.IN_MOVED_TO) != 0 {
			_ = in.add(p) // a directory it cannot watch is left out
		}
		return "", false
	}
	return p, true
}

func cString(b []byte) string {
	for i, c := range b {
		if c == 0 {
			return string(b[:i])
		}
	}
	return string(b)
}
