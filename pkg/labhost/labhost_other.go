//go:build !linux

package labhost

import (
	"context"
	"errors"
	"io"
	"os"
)

var errUnsupported = errors.New("labhost: lab hosts exist only on Linux")

const EnvBare = "NSLAB_BARE"

type Options struct {
	Entrypoint     string
	Args           []string
	Stdout, Stderr io.Writer
	ExtraFiles     []*os.File
	Env            []string
	Cgroup         bool
}

type Host struct{}

func Bare() bool                                          { return os.Getenv(EnvBare) == "1" }
func Check() error                                        { return errUnsupported }
func Start(ctx context.Context, o Options) (*Host, error) { return nil, errUnsupported }
func (h *Host) PID() int                                  { return -1 }
func (h *Host) Proc() string                              { return "" }
func (h *Host) ProcDir(pid int) string                    { return "" }
func (h *Host) Wait() error                               { return errUnsupported }
func (h *Host) Stop() error                               { return errUnsupported }

func CheckCgroup() error       { return errUnsupported }
func (h *Host) Cgroup() string { return "" }
func (h *Host) PidsV1() string { return "" }
