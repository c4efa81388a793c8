//go:build linux

package user_test

import (
	"testing"

	"github.com/nslab/nslab/labs/user"
	"github.com/nslab/nslab/pkg/lab/labtest"
)

func TestMain(m *testing.M) { labtest.Main(m) }

// TestUser grades the lab: each step's code runs in a lab host, its check here.
func TestUser(t *testing.T) { labtest.Grade(t, user.Lab) }
