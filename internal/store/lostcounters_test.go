package store_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/tidings-mail/tidings/internal/store"
)

// TestTickPausesOnLostCounters: Redis loses a running campaign's counts
// (or its batch counters, bstats) mid-send, and a ledger step's increments
// make the hash again without the field staging wrote in it. Before, its
// outcomes never added up to its total: the campaign stayed running for
// ever, without a word. Now the tick pauses it as state loss, naming what
// was lost and what to do, and resume refuses it. Both lost (or both
// without the field) pause it too: before, tick.lua took that for a
// campaign staged by an earlier build, and it ran on for ever; every
// campaign a worker of this build ticks is of its stored format, whose
// staging wrote the field.
func TestTickPausesOnLostCounters(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		lost []string // the hashes Redis lost (UNLINK); "_" alone: the field of both (HDEL)
		says string   // what the pause's reason says
	}{
		{lost: []string{"counts"}, says: "Redis lost this campaign's counts"},
		{lost: []string{"bstats"}, says: "Redis lost this campaign's batch counters"},
		{lost: []string{"counts", "bstats"}, says: "Redis lost this campaign's counts (how many recipients have each outcome) and batch counters"},
		{lost: []string{"_"}, says: "Redis lost this campaign's counts (how many recipients have each outcome) and batch counters"},
	} {
		t.Run(strings.Join(tc.lost, ","), func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			rdb := startRedis(t)
			st := store.New(rdb)
			c := "c-lost-" + strings.Join(tc.lost, "-")
			const n = 6
			sum := stage(t, st, c, stageOpts{n: n, size: n})
			if r := tick(t, st, c, sum, store.TickParams{}); r.Code != store.TickReleased {
				t.Fatalf("first tick %+v", r)
			}
			l := st.Ledger(c, sum.Stage)
			sendAll(t, l, 0, 2)
			prefix := "tidings:{" + c + "}:"
			if tc.lost[0] == "_" {
				for _, k := range []string{"counts", "bstats"} {
					if err := rdb.HDel(ctx, prefix+k, "_").Err(); err != nil {
						t.Fatal(err)
					}
				}
			} else {
				keys := make([]string, len(tc.lost))
				for i, k := range tc.lost {
					keys[i] = prefix + k
				}
				if got, err := rdb.Unlink(ctx, keys...).Result(); err != nil || got != int64(len(keys)) {
					t.Fatalf("unlink %v: %d, %v", tc.lost, got, err)
				}
			}
			sendAll(t, l, 2, n) // every recipient mailed: the lost hash made again by the steps
			r := tick(t, st, c, sum, store.TickParams{})
			s, err := st.Status(ctx, c)
			if err != nil {
				t.Fatal(err)
			}
			if r.Code != store.TickStateLoss || s.State != store.StatePaused || s.Action != "state-loss" || !strings.Contains(s.Reason, tc.says) || !strings.Contains(s.Reason, "stage it again excluding the deliveries") {
				t.Fatalf("tick %+v; status %s, action %q, reason %q; want paused as state-loss saying %q", r, s.State, s.Action, s.Reason, tc.says)
			}
			if _, err := st.Resume(ctx, c, who, ""); err == nil {
				t.Error("resume of a campaign paused for lost counters went through")
			}
			if r := tick(t, st, c, sum, store.TickParams{}); r.Code == store.TickDone {
				t.Errorf("tick after the pause: %+v", r)
			}
		})
	}
}

// sendAll claims recipients r<from> to r<to-1> of ledger l (language de,
// as stage gives them) and records them sent, in two ledger steps.
func sendAll(t *testing.T, l *store.Ledger, from, to int) {
	t.Helper()
	ctx := context.Background()
	p := store.Policy{MaxAttempts: 3, Sender: "run|w1"}
	var cls []store.Claim
	var recs []store.Record
	for i := from; i < to; i++ {
		id, tok := fmt.Sprintf("r%d", i), fmt.Sprintf("w1/%d", i)
		cls = append(cls, store.Claim{ID: id, Lang: "de", Token: tok})
		recs = append(recs, store.Record{ID: id, Lang: "de", Kind: store.KindSent, Code: "250", Token: tok})
	}
	if _, err := l.Step(ctx, nil, cls, p, time.Now()); err != nil {
		t.Fatal(err)
	}
	if _, err := l.Step(ctx, recs, nil, p, time.Now()); err != nil {
		t.Fatal(err)
	}
}
