package progress_test

import (
	"bytes"
	"testing"

	"github.com/tidings-mail/tidings/internal/progress"
)

// TestNoBarOffTerminal: output that is no terminal (a pipe, a log file)
// gets no bar, however long the work.
func TestNoBarOffTerminal(t *testing.T) {
	t.Parallel()
	var w bytes.Buffer
	b := progress.New(&w, 20000, "staging")
	for range 20000 {
		b.Add()
	}
	b.Finish()
	if w.Len() != 0 {
		t.Errorf("wrote %q, want nothing", w.String())
	}
}
