package console_test

import (
	"context"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/tidings-mail/tidings/internal/console"
	"github.com/tidings-mail/tidings/internal/console/consoletest"
)

// ledgerReads counts the ledger fields a client asks Redis for (HMGET,
// HGET), and the reads of a whole ledger (HGETALL, HSCAN, HVALS).
type ledgerReads struct{ fields, whole atomic.Int64 }

func (l *ledgerReads) count(cmd redis.Cmder) {
	args := cmd.Args()
	if len(args) < 2 {
		return
	}
	if key, _ := args[1].(string); !strings.HasSuffix(key, "}:ledger") {
		return
	}
	switch strings.ToLower(cmd.Name()) {
	case "hmget", "hget":
		l.fields.Add(int64(len(args) - 2))
	case "hgetall", "hscan", "hvals":
		l.whole.Add(1)
	}
}

func (l *ledgerReads) DialHook(next redis.DialHook) redis.DialHook { return next }

func (l *ledgerReads) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error { l.count(cmd); return next(ctx, cmd) }
}

func (l *ledgerReads) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		for _, c := range cmds {
			l.count(c)
		}
		return next(ctx, cmds)
	}
}

// TestRecipientsPageReadsTheOutcomesItShows: a page of the recipients
// list shows 200 rows, and reads the ledger entries of those rows only,
// not of every recipient of the campaign: at 1,000,000 recipients a page
// read every entry (5,000 HMGETs, about 2 s of Redis's time, at each
// click on "Next"; docs/benchmarks.md). A filter by outcome still reads
// every entry (which rows match is in the ledger). What is counted is
// the ledger fields asked of Redis, and the page is still right.
func TestRecipientsPageReadsTheOutcomesItShows(t *testing.T) {
	t.Parallel()
	w := consoletest.New(t, nil)
	w.Stage(t, consoletest.Spec{Name: "many", N: 1000, Locales: []string{"en", "fr"}})
	var reads ledgerReads
	v := newSiteWith(t, w, func(c *console.Config) { c.Store = hookedStore(t, w, &reads) }).signIn(t, viewerToken)
	for _, tc := range []struct {
		query, want, first string
		maxFields          int64
	}{
		{"", "1000 matches; showing 200 from #1.", consoletest.Email(0, "en"), 200},
		{"?offset=300", "1000 matches; showing 200 from #301.", consoletest.Email(300, "en"), 200},
		{"?offset=900", "1000 matches; showing 100 from #901.", consoletest.Email(900, "en"), 100},
		{"?lang=fr&offset=100", "500 matches; showing 200 from #101.", consoletest.Email(201, "fr"), 200},
		{"?q=r00999", "1 match; showing 1 from #1.", consoletest.Email(999, "fr"), 1},
		{"?outcome=pending&offset=300", "1000 matches; showing 200 from #301.", consoletest.Email(300, "en"), 1000},
	} {
		reads.fields.Store(0)
		code, body, _ := v.get("/c/many/recipients" + tc.query)
		if code != 200 || !strings.Contains(body, tc.want) {
			t.Errorf("%s: %d, want %q in\n%s", tc.query, code, tc.want, body)
			continue
		}
		if i := strings.Index(body, `<td data-label="Email"`); i < 0 || !strings.Contains(body[i:i+200], tc.first) {
			t.Errorf("%s: the first row is not %s", tc.query, tc.first)
		}
		if n := strings.Count(body, `<td data-label="Outcome"`); n > 0 && strings.Count(body, ">pending<") < n {
			t.Errorf("%s: %d rows, %d of them pending: every row's outcome is pending", tc.query, n, strings.Count(body, ">pending<"))
		}
		if got := reads.fields.Load(); got > tc.maxFields {
			t.Errorf("%s: the page asked Redis for %d ledger entries, want at most %d (the rows it shows)", tc.query, got, tc.maxFields)
		}
	}
	if reads.whole.Load() > 0 {
		t.Errorf("a page read a whole ledger %d times", reads.whole.Load())
	}
}
