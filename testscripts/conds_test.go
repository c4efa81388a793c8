//go:build linux

package testscripts

import (
	"fmt"
	"os"
	"sort"
	"strings"

	"github.com/nslab/nslab/pkg/ns"
	"github.com/nslab/nslab/pkg/spawn"
)

// A cond decides one script condition; arg is what follows the colon in
// kind:time, empty for conditions without one.
type cond struct {
	summary string
	eval    func(arg string) (bool, error)
}

// conds are the conditions scripts may test, by name (the part before a colon).
var conds = map[string]cond{
	"kind":   {"the running kernel has namespaces of KIND (kind:time, kind:cgroup)", condKind},
	"root":   {"the tests run as root", noArg(func() bool { return os.Geteuid() == 0 })},
	"userns": {"user namespaces can be created here: as root, or unprivileged ones are allowed", noArg(canUserNS)},
}

// condition is Params.Condition: an unknown condition is an error, not false.
func condition(c string) (bool, error) {
	name, arg, _ := strings.Cut(c, ":")
	cd, ok := conds[name]
	if !ok {
		return false, fmt.Errorf("unknown condition %q (nslab's are: %s)", c, condNames())
	}
	return cd.eval(arg)
}

func condKind(arg string) (bool, error) {
	if arg == "" {
		return false, fmt.Errorf("condition kind needs a kind: kind:uts, kind:time, ...")
	}
	k, err := ns.ParseKind(arg)
	if err != nil {
		return false, fmt.Errorf("condition kind:%s: %w", arg, err)
	}
	return ns.Supported(k), nil
}

// noArg turns a test without argument into a cond that rejects one.
func noArg(f func() bool) func(string) (bool, error) {
	return func(arg string) (bool, error) {
		if arg != "" {
			return false, fmt.Errorf("condition takes no argument, got %q", arg)
		}
		return f(), nil
	}
}

func canUserNS() bool { return os.Geteuid() == 0 || spawn.CheckUserNS() == nil }

func condNames() string {
	names := make([]string, 0, len(conds))
	for n := range conds {
		if n == "kind" {
			n = "kind:KIND"
		}
		names = append(names, n)
	}
	sort.Strings(names)
	return strings.Join(names, " ")
}
