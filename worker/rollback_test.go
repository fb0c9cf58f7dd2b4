package worker

import (
	"strings"
	"testing"

	"github.com/tidings-mail/tidings/internal/journal"
)

// TestRollbackCountsTheJournalBeforeRedis: the journal count rollback
// compares with Redis's is the one taken before Redis was read. Messages
// the other connections journal between the two reads are not messages
// Redis forgot (a 1,000,000-recipient bench paused itself for state loss
// when the journal was counted after Redis: 74 over at 5,500 msg/s), while
// a Redis that really lost writes is still caught.
func TestRollbackCountsTheJournalBeforeRedis(t *testing.T) {
	j, err := journal.Open(journal.Config{Dir: t.TempDir(), Worker: "w1"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = j.Close() })
	w := &Worker{cfg: Config{Concurrency: 8, ClaimWindow: 4, WorkerID: "w1", Host: "h"}, journal: j}
	cs := &campaignState{name: "c", run: "r1"}
	sent := func(n int) {
		for range n {
			if err := j.Append(journal.Entry{Campaign: "c", Run: "r1", ID: "x", Email: "x@example.com", Outcome: "sent"}); err != nil {
				t.Fatal(err)
			}
		}
	}
	sent(1000)
	if got := w.journaled(cs); got != 1000 {
		t.Fatalf("journaled = %d, want 1000", got)
	}
	mine := w.journaled(cs)
	redis := int64(1000) // Redis read now: it has every outcome journaled so far
	sent(200)            // the other connections go on sending meanwhile
	if why := w.rollback(cs, mine, redis); why != "" {
		t.Errorf("messages journaled after Redis was read count as lost: %s", why)
	}
	if why := w.rollback(cs, w.journaled(cs), redis); !strings.Contains(why, "state loss suspected") {
		t.Errorf("Redis 200 behind the journal (slack 64) not caught: %q", why)
	}
	if why := w.rollback(cs, w.journaled(cs), 1200-64); why != "" {
		t.Errorf("outcomes within one window per connection (64) count as lost: %s", why)
	}
	if why := w.rollback(nil, w.journaled(nil), 0); why != "" {
		t.Errorf("no campaign state: %s", why)
	}
}
