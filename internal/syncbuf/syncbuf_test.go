package syncbuf_test

import (
	"strings"
	"sync"
	"testing"

	"github.com/tidings-mail/tidings/internal/syncbuf"
)

// TestConcurrentWritesAndReads: writers and readers at once (run with
// -race), and every write is kept whole.
func TestConcurrentWritesAndReads(t *testing.T) {
	t.Parallel()
	var b syncbuf.Buffer
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for range 100 {
				_, _ = b.Write([]byte("line\n"))
				_ = b.String()
			}
		})
	}
	wg.Wait()
	if got := strings.Count(b.String(), "line\n"); got != 400 || b.Len() != 400*5 {
		t.Errorf("%d lines, %d bytes; want 400 lines, 2000 bytes", got, b.Len())
	}
	mark := b.Len()
	_, _ = b.Write([]byte("after"))
	if got := b.From(mark); got != "after" {
		t.Errorf("From(%d) = %q, want %q", mark, got, "after")
	}
}
