//go:build !linux

package labhost

import (
	"context"
	"errors"
)

var errUnsupported = errors.New("labhost: lab hosts exist only on Linux")

type Host struct{}

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
