package spawn

import (
	"fmt"
	"os"
	"sort"
	"sync"
)

// An Entrypoint is Go code run as the child, after its namespaces are set up.
// It receives the arguments of Config.Args and returns the exit status.
type Entrypoint func(args []string) int

var registry = struct {
	sync.Mutex
	m map[string]Entrypoint
}{m: map[string]Entrypoint{}}

// Register makes fn startable by name as a child of this binary. Call it from
// an init function, so that the re-executed binary knows the name before
// [Init] runs. Registering a name twice is a programming error and panics.
func Register(name string, fn Entrypoint) {
	registry.Lock()
	defer registry.Unlock()
	if _, dup := registry.m[name]; dup {
		panic(fmt.Sprintf("spawn: entrypoint %q registered twice", name))
	}
	registry.m[name] = fn
}

// Fail ends an Entrypoint on err: it writes err on standard error and
// returns the exit status 1.
func Fail(err error) int {
	fmt.Fprintln(os.Stderr, err)
	return 1
}

func lookup(name string) (Entrypoint, bool) {
	registry.Lock()
	defer registry.Unlock()
	fn, ok := registry.m[name]
	return fn, ok
}

// Entrypoints returns the registered names, sorted.
func Entrypoints() []string {
	registry.Lock()
	defer registry.Unlock()
	names := make([]string, 0, len(registry.m))
	for n := range registry.m {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}
