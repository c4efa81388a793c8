//go:build !linux

package spawn

import (
	"context"
	"errors"
	"os/exec"

	"github.com/nslab/nslab/pkg/ns"
)

var errUnsupported = errors.New("spawn: namespaces exist only on Linux")

// Child is a started child; on this system none can be started.
type Child struct{}

func Init()                                                           {}
func Check(kinds ...ns.Kind) error                                    { return errUnsupported }
func CheckUserNS() error                                              { return errUnsupported }
func Start(ctx context.Context, cfg Config) (*Child, error)           { return nil, errUnsupported }
func Run(ctx context.Context, cfg Config) error                       { return errUnsupported }
func EntrypointCommand(name string, args []string) (*exec.Cmd, error) { return nil, errUnsupported }
func (c *Child) PID() int                                             { return -1 }
func (c *Child) Namespaces() (ns.Set, error)                          { return ns.Set{}, errUnsupported }
func (c *Child) Release() error                                       { return errUnsupported }
func (c *Child) Wait() error                                          { return errUnsupported }
func (c *Child) ExitCode() int                                        { return -1 }
func (c *Child) Stop() error                                          { return errUnsupported }
