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
