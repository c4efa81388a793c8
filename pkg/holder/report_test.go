package holder

import (
	"bytes"
	"strings"
	"sync"
	"testing"
)

func TestReportAndHold(t *testing.T) {
	var out bytes.Buffer
	in := strings.NewReader("anything the parent sends is read and dropped\n")
	if err := reportAndHold(in, &out, map[string]int{"pid": 7}); err != nil {
		t.Fatal(err)
	}
	if got := out.String(); got != "{\"pid\":7}\n" {
		t.Errorf("reportAndHold wrote %q; want one line of JSON", got)
	}
	if in.Len() != 0 {
		t.Errorf("reportAndHold returned with %d bytes of input unread; want it to wait for the end", in.Len())
	}
	if err := reportAndHold(strings.NewReader(""), &out, make(chan int)); err == nil || !strings.Contains(err.Error(), "write the report") {
		t.Errorf("reportAndHold(a channel) = %v; want an error", err)
	}
}

func TestSyncBuffer(t *testing.T) {
	var b SyncBuffer // the zero value is ready
	if b.String() != "" {
		t.Errorf("zero SyncBuffer = %q; want empty", b.String())
	}
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for range 100 {
				b.Write([]byte("x"))
				_ = b.String()
			}
		})
	}
	wg.Wait()
	b.Write([]byte("\n"))
	if got := b.String(); got != strings.Repeat("x", 400) {
		t.Errorf("String() = %q; want 400 x and no white space around them", got)
	}
	if got := b.Raw(); got != strings.Repeat("x", 400)+"\n" {
		t.Errorf("Raw() = %q; want 400 x and the newline", got)
	}
}
