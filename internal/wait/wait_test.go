package wait_test

import (
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tidings-mail/tidings/internal/wait"
)

func TestForReturnsOnceTheConditionHolds(t *testing.T) {
	t.Parallel()
	var n atomic.Int32
	go func() {
		for range 3 {
			n.Add(1)
		}
	}()
	calls := 0
	wait.For(t, time.Minute, "three increments", func() bool { calls++; return n.Load() == 3 })
	if n.Load() != 3 || calls < 1 {
		t.Errorf("returned with n = %d after %d calls", n.Load(), calls)
	}
}

// recorder is a testing.TB that records Fatal instead of stopping the test.
type recorder struct {
	testing.TB
	failed string
}

func (r *recorder) Helper() {}
func (r *recorder) Fatal(args ...any) {
	for _, a := range args {
		r.failed += a.(string)
	}
}

func TestForFailsWithWhatAndDump(t *testing.T) {
	t.Parallel()
	r := &recorder{TB: t}
	held := false
	wait.For(r, 0, "a condition that never holds", func() bool {
		if r.failed != "" {
			held = true // Fatal of the recorder returns: stop the loop
		}
		return held
	}, func() string { return "the last log line" })
	for _, want := range []string{"timed out after 0s waiting for a condition that never holds", "\nthe last log line"} {
		if !strings.Contains(r.failed, want) {
			t.Errorf("failure %q lacks %q", r.failed, want)
		}
	}
}
