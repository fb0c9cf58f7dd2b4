package store_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/tidings-mail/tidings/internal/store"
)

// TestCancelOfCampaignWhoseMetaRedisLost: Redis lost the meta of a
// campaign staged and sent in part, running, paused as state loss by a
// worker, or paused by an operator before. Before, its cancel (the
// recovery status advises) was refused: "the campaign is running
// (staging)", the transition taking the meta's missing staging for one
// under way. Now it is cancelled and says that it could record no
// recipient (its chunks are unknown), and staging it again is a fresh
// staging whose counts are not added to the lost staging's. A staging of
// it under way (a send holding its lease) is still refused, and so is a
// cancel from another environment.
func TestCancelOfCampaignWhoseMetaRedisLost(t *testing.T) {
	t.Parallel()
	for _, tc := range []string{"running", "state-loss", "paused", "being-staged", "other-env"} {
		t.Run(tc, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			rdb := startRedis(t)
			st := store.New(rdb)
			c, n := "c-meta-lost-"+tc, 6
			sum := stage(t, st, c, stageOpts{n: n, size: n})
			if r := tick(t, st, c, sum, store.TickParams{}); r.Code != store.TickReleased {
				t.Fatalf("first tick %+v", r)
			}
			sendAll(t, st.Ledger(c, sum.Stage), 0, 2)
			if tc == "paused" {
				if _, err := st.Pause(ctx, c, who, "on-call"); err != nil {
					t.Fatal(err)
				}
			}
			loseMeta(t, st, c, sum.Stage, tc == "state-loss")
			if tc == "being-staged" { // a send holds its staging lease (lease.take's value)
				if err := rdb.Set(ctx, "tidings:{"+c+"}:staging", "s1|bob@box", time.Minute).Err(); err != nil {
					t.Fatal(err)
				}
			}
			a := who
			if tc == "other-env" {
				a.Env = "production"
			}
			done, _, err := st.Cancel(ctx, c, a, "state loss")
			switch tc {
			case "being-staged":
				if !errors.As(err, new(*store.TransitionError)) {
					t.Fatalf("cancel while a send stages it again: %+v, %v; want refused (staging)", done, err)
				}
				return
			case "other-env":
				if !errors.As(err, new(*store.EnvError)) {
					t.Fatalf("cancel from another environment: %+v, %v; want an *EnvError", done, err)
				}
				if p, _ := st.Probe(ctx, c); p.State == store.StateCancelled {
					t.Fatal("cancelled from another environment")
				}
				return
			}
			if err != nil {
				t.Fatalf("cancel of a campaign whose meta Redis lost: %v", err)
			}
			if !done.MetaLost || done.Recipients != 0 || !strings.Contains(done.Say(""), "no recipient could be recorded") {
				t.Errorf("cancel recorded %+v (%q); want: meta lost, no recipient recorded", done, done.Say(""))
			}
			s, err := st.Status(ctx, c)
			if err != nil || s.State != store.StateCancelled || !s.MetaLost {
				t.Fatalf("status after the cancel: %+v, %v; want cancelled, meta lost", s, err)
			}
			if again, ctl, err := st.Cancel(ctx, c, who, "again"); err != nil || ctl == nil || again.MetaLost {
				t.Errorf("cancel again: %+v, %+v, %v; want the cancel in force", again, ctl, err)
			}
			// Staged again (send --resume-existing --exclude-delivered): a
			// fresh staging, its counts its own: the lost staging's are
			// cleared, and r0 and r1, which the ledger has as sent, are
			// kept as sent (keepLost), not added on top.
			stage(t, st, c, stageOpts{n: n, size: n, resume: true})
			s, err = st.Status(ctx, c)
			if err != nil {
				t.Fatal(err)
			}
			if s.MetaLost || s.Counts[store.OutcomePending] != int64(n-2) || s.Counts[store.OutcomeInvalid] != 1 || s.Counts[store.OutcomeSent] != 2 {
				t.Errorf("staged again: %v, meta lost %v; want %d pending, 2 sent (kept from the ledger), 1 invalid, its own", s.Counts, s.MetaLost, n-2)
			}
			for _, l := range s.Languages {
				if l.Staged != int64(n/3) {
					t.Errorf("language %s: %d staged, want %d", l.Lang, l.Staged, n/3)
				}
			}
		})
	}
}

// loseMeta unlinks the meta of campaign c (staged as stage), as Redis
// loses it, and with stateLoss pauses it as the worker does then
// (worker.metaLost).
func loseMeta(t *testing.T, st *store.Store, c, stage string, stateLoss bool) {
	t.Helper()
	ctx := context.Background()
	if err := st.Client().Unlink(ctx, "tidings:{"+c+"}:meta").Err(); err != nil {
		t.Fatal(err)
	}
	if stateLoss {
		if _, moved, err := st.Transition(ctx, c, store.TransitionParams{From: []store.State{store.StateRunning}, To: store.StatePaused,
			Actor: who, Action: "state-loss", Reason: "state loss", Stage: stage, WhileStaging: true}); err != nil || !moved {
			t.Fatalf("pause as state loss: %v, %v", moved, err)
		}
	}
}
