package holder

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
)

// ReportAndHold is the child's end of a holder that reports: it writes v
// on standard output as one line of JSON, then waits for the end of
// standard input, so that it stays alive, in its namespaces, while its
// parent looks at it (Holder.Report, then Holder.Stop). It returns the exit
// status for the holder's entrypoint: 0, or 1 when v could not be written
// (said on standard error).
func ReportAndHold(v any) int {
	if err := reportAndHold(os.Stdin, os.Stdout, v); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return 0
}

func reportAndHold(r io.Reader, w io.Writer, v any) error {
	if err := json.NewEncoder(w).Encode(v); err != nil {
		return fmt.Errorf("holder: write the report: %w", err)
	}
	io.Copy(io.Discard, r) // until the parent closes it, or ends
	return nil
}

// A SyncBuffer is a bytes.Buffer that one goroutine may write while others
// read it: the stderr of a child, written by os/exec's copying goroutine
// while the child runs. The zero value is an empty buffer ready to use.
type SyncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

// Write appends p to the buffer.
func (s *SyncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

// String returns what was written so far, without surrounding white space.
func (s *SyncBuffer) String() string { return strings.TrimSpace(s.Raw()) }

// Raw returns what was written so far, as it was written.
func (s *SyncBuffer) Raw() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
