//go:build !linux

package lab

import (
	"context"
	"errors"
	"time"
)

const EnvTimeout = "NSLAB_STEP_TIMEOUT"

const DefaultTimeout = 30 * time.Second

// Exec needs Linux: lab hosts are made of Linux namespaces.
func Exec(ctx context.Context, l *Lab, s *Step, n *Narrator) Outcome {
	return Outcome{Err: errors.New("lab: steps run only on Linux")}
}

// Hosts lends lab hosts on Linux; elsewhere it has none to lend.
type Hosts struct{}

func NewHosts() *Hosts              { return &Hosts{} }
func (p *Hosts) Close() error       { return nil }
func (p *Hosts) Counts() (int, int) { return 0, 0 }
func (p *Hosts) Exec(ctx context.Context, l *Lab, s *Step, n *Narrator) Outcome {
	return Exec(ctx, l, s, n)
}
