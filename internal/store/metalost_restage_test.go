package store_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/tidings-mail/tidings/internal/store"
)

// TestStagingAgainOfCampaignWhoseMetaRedisLost: Redis lost the meta of a
// campaign staged and sent in part, and it was not cancelled: running,
// paused as state loss by a worker, paused by an operator, or staged again
// by a send that died before its end (its lease ran out). Before, send
// --resume-existing staged it as a first staging on top of what the lost
// staging left (its counts added to the lost staging's, its chunks beyond
// the new ones kept), and the cancel of the one whose staging again died
// was refused as a staging under way, which left the operator no way out.
// Now the staging is refused, writing nothing, with what to run (cancel it
// first), the cancel goes through, and the staging after it is the
// campaign's own.
func TestStagingAgainOfCampaignWhoseMetaRedisLost(t *testing.T) {
	t.Parallel()
	for _, tc := range []string{"running", "state-loss", "paused", "restaging-died"} {
		t.Run(tc, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			rdb := startRedis(t)
			st := store.New(rdb)
			c, n := "c-meta-lost-again-"+tc, 6
			sum := stage(t, st, c, stageOpts{n: n, size: n, chunk: 2})
			if r := tick(t, st, c, sum, store.TickParams{}); r.Code != store.TickReleased {
				t.Fatalf("first tick %+v", r)
			}
			sendAll(t, st.Ledger(c, sum.Stage), 0, 2)
			if tc == "paused" || tc == "restaging-died" {
				if _, err := st.Pause(ctx, c, who, "on-call"); err != nil {
					t.Fatal(err)
				}
			}
			if tc == "restaging-died" { // a send stages it again and dies: its lease runs out
				sg, err := st.NewStager(ctx, store.StageConfig{Campaign: c, Definition: []byte(`{}`), Hash: "h", Env: "test", Who: "bob", Columns: []string{"posts"}, ChunkSize: 7, ResumeExisting: true})
				if err != nil {
					t.Fatal(err)
				}
				if err := sg.Add(ctx, store.Recipient{Line: 2, ID: "r0", Email: "r0@x.example", Locale: "de", Lang: "de", Fields: map[string]string{"posts": "1"}}, 0, false); err != nil {
					t.Fatal(err)
				}
				sg.Abort(ctx)
			}
			loseMeta(t, st, c, sum.Stage, tc == "state-loss")
			before, err := rdb.HGetAll(ctx, "tidings:{"+c+"}:control").Result()
			if err != nil {
				t.Fatal(err)
			}
			// send --resume-existing before the cancel.
			sg, err := st.NewStager(ctx, store.StageConfig{Campaign: c, Definition: []byte(`{}`), Hash: "h", Env: "test", Who: "bob", Columns: []string{"posts"}, ChunkSize: 7, ResumeExisting: true})
			var ml *store.MetaLostError
			if !errors.As(err, &ml) || !strings.Contains(err.Error(), `tidings cancel `+c+` --env test --reason "state loss"`) || !strings.Contains(err.Error(), "--exclude-delivered") {
				if sg != nil {
					sg.Abort(ctx)
				}
				t.Fatalf("staging again before its cancel: %v; want a *MetaLostError naming the cancel to run, then the send", err)
			}
			after, err := rdb.HGetAll(ctx, "tidings:{"+c+"}:control").Result()
			if err != nil || len(after) != len(before) || after["stage"] != before["stage"] || after["state"] != before["state"] {
				t.Errorf("the refused staging wrote the control: %v, was %v (%v)", after, before, err)
			}
			if done, _, err := st.Cancel(ctx, c, who, "state loss"); err != nil || !done.MetaLost {
				t.Fatalf("cancel: %+v, %v; want cancelled, meta lost", done, err)
			}
			stage(t, st, c, stageOpts{n: n, size: n, resume: true})
			s, err := st.Status(ctx, c)
			if err != nil {
				t.Fatal(err)
			}
			if s.MetaLost || s.Counts[store.OutcomePending] != int64(n-2) || s.Counts[store.OutcomeSent] != 2 || s.Counts[store.OutcomeInvalid] != 1 {
				t.Errorf("staged after the cancel: %v, meta lost %v; want %d pending, 2 sent (the ledger's), 1 invalid, its own", s.Counts, s.MetaLost, n-2)
			}
			// The lost staging's chunks beyond the new staging's are gone.
			if left, err := rdb.Exists(ctx, "tidings:{"+c+"}:chunk:2").Result(); err != nil || left != 0 {
				t.Errorf("a chunk of the lost staging is left: %d, %v", left, err)
			}
		})
	}
}
