//go:build !linux

package loop

import (
	"context"
	"errors"
)

// Inotify is Linux's: the labs run on Linux only (docs/setup.md says how to
// get one on macOS and Windows).
func Inotify(ctx context.Context, dirs []string) (<-chan string, error) {
	return nil, errors.New("watch needs Linux, where the labs run: see docs/setup.md for macOS and Windows")
}
