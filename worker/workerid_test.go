package worker_test

import (
	"strings"
	"testing"

	"github.com/tidings-mail/tidings/worker"
)

// TestWorkerIDHoldsNoSeparator: a worker id is part of its claim tokens
// (store.Ledger.Step refuses a token with '|', the ledger's separator) and
// of its journal's file names: WithDefaults replaces '|', '/', '\' and '.'
// with '_', in an id given and in one made from the host name.
func TestWorkerIDHoldsNoSeparator(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		cfg  worker.Config
		want string // the id, or "" when made: then it must hold none of them
	}{
		{worker.Config{WorkerID: "w|||a"}, "w___a"},
		{worker.Config{WorkerID: `a/b\c.d|e`}, "a_b_c_d_e"},
		{worker.Config{Host: "mail|01.example"}, ""},
	} {
		got := tt.cfg.WithDefaults().WorkerID
		if tt.want != "" && got != tt.want || tt.want == "" && (got == "" || strings.ContainsAny(got, `|/\.`)) {
			t.Errorf("WithDefaults of id %q, host %q: worker id %q, want %q (none of | / \\ .)", tt.cfg.WorkerID, tt.cfg.Host, got, tt.want)
		}
	}
}
