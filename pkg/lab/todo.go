package lab

import (
	"errors"
	"fmt"
)

// NotImplemented is what a learner's unwritten step panics with in the
// starter edition: the stub is panic(lab.TODO("uts", "01")).
type NotImplemented struct {
	Lab, Step string
}

func (e *NotImplemented) Error() string {
	return fmt.Sprintf("%s step %s is not written yet: fill in the code between BEGIN SOLUTION and END SOLUTION (see docs/labs/%s.md#step-%s)",
		e.Lab, e.Step, e.Lab, e.Step)
}

// NotImplementedStep marks the error for the spawn shim, which recovers it in a child.
func (e *NotImplemented) NotImplementedStep() {}

// TODO returns the panic value of an unwritten step.
func TODO(lab, step string) error { return &NotImplemented{Lab: lab, Step: step} }

// Recover turns a NotImplemented panic of fn into an error; other panics go on.
func Recover(fn func() error) (err error) {
	defer func() {
		if r := recover(); r != nil {
			e, ok := r.(error)
			var ni *NotImplemented
			if !ok || !errors.As(e, &ni) {
				panic(r)
			}
			err = ni
		}
	}()
	return fn()
}
