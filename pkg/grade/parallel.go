package grade

import (
	"runtime"
	"sync"
)

// parallel calls do(i) for each i in [0, n), at most jobs at once (the
// number of CPUs when jobs <= 0), and returns when every call has.
func parallel(n, jobs int, do func(i int)) {
	if jobs <= 0 {
		jobs = runtime.NumCPU()
	}
	sem := make(chan struct{}, jobs)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			do(i)
		}()
	}
	wg.Wait()
}
