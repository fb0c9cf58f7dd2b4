package store_test

import (
	"context"
	"encoding/json"
	"errors"
	"maps"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/tidings-mail/tidings/internal/redistest"
	"github.com/tidings-mail/tidings/internal/store"
)

// campaignKeysIn lists, by their names after the campaign's prefix, the
// keys of campaign c that Redis holds (every master of a Cluster).
func campaignKeysIn(t *testing.T, rdb redis.UniversalClient, c string) []string {
	t.Helper()
	ctx := context.Background()
	var mu sync.Mutex
	var out []string
	scan := func(ctx context.Context, cl *redis.Client) error {
		it := cl.Scan(ctx, 0, "tidings:{"+c+"}:*", 1000).Iterator()
		for it.Next(ctx) {
			mu.Lock()
			out = append(out, strings.TrimPrefix(it.Val(), "tidings:{"+c+"}:"))
			mu.Unlock()
		}
		return it.Err()
	}
	var err error
	if cc, ok := rdb.(*redis.ClusterClient); ok {
		err = cc.ForEachMaster(ctx, scan)
	} else {
		err = scan(ctx, rdb.(*redis.Client))
	}
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(out)
	return out
}

// TestFreeKeepsOnlyTheLedgerAndAuditLog: `tidings free` of a cancelled
// campaign (a recipient in flight when it was cancelled, so that it is
// listed in tidings:doubted) unlinks every key of the campaign but its
// ledger, whose entries stay as they were, and its audit log, which
// records the free; and takes it off every list that names campaigns.
// WhatFreeFrees (the dry run) names the keys Free unlinks and changes
// nothing. On a single Redis and on Redis Cluster (the keys are on the
// master of the campaign's slot).
func TestFreeKeepsOnlyTheLedgerAndAuditLog(t *testing.T) {
	t.Parallel()
	for _, name := range []string{"single", "cluster"} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			var rdb redis.UniversalClient
			if name == "cluster" {
				rdb = redistest.StartCluster(t, redistest.ClusterOptions{}).ClusterClient()
			} else {
				rdb = startRedis(t)
			}
			st := store.New(rdb)
			c, n := "c-free", 6
			sum := stage(t, st, c, stageOpts{n: n, size: n})
			if r := tick(t, st, c, sum, store.TickParams{}); r.Code != store.TickReleased {
				t.Fatalf("first tick %+v", r)
			}
			l := st.Ledger(c, sum.Stage)
			sendAll(t, l, 0, 3)
			p := store.Policy{MaxAttempts: 3, Sender: "run|w9"}
			if _, err := l.Step(ctx, nil, []store.Claim{{ID: "r3", Lang: "de", Token: "w9/3"}}, p, time.Now()); err != nil {
				t.Fatal(err)
			}
			if _, _, err := st.Cancel(ctx, c, who, "enough"); err != nil {
				t.Fatal(err)
			}
			if d, _ := st.Doubted(ctx); !slices.Contains(d, c) {
				t.Fatalf("tidings:doubted = %v; the cancel of a campaign with a recipient in flight lists it", d)
			}
			ledger := rdb.HGetAll(ctx, "tidings:{"+c+"}:ledger").Val()
			before := campaignKeysIn(t, rdb, c)
			plan, err := st.WhatFreeFrees(ctx, c, "test")
			if err != nil {
				t.Fatal(err)
			}
			if now := campaignKeysIn(t, rdb, c); !slices.Equal(now, before) {
				t.Fatalf("the dry run changed the keys: %v, before %v", now, before)
			}
			f, err := st.Free(ctx, c, "test", who)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(f.Keys, plan.Keys) || len(f.Keys) != len(before)-2 {
				t.Errorf("freed %v; the dry run said %v, of %v", f.Keys, plan.Keys, before)
			}
			if f.State != store.StateCancelled || f.Ledger != int64(len(ledger)) || f.At.IsZero() {
				t.Errorf("freed %+v; want cancelled, its ledger's %d entries kept, a time", f, len(ledger))
			}
			if left := campaignKeysIn(t, rdb, c); !slices.Equal(left, []string{"audit", "ledger"}) {
				t.Errorf("keys left: %v, want [audit ledger]", left)
			}
			if now := rdb.HGetAll(ctx, "tidings:{"+c+"}:ledger").Val(); !maps.Equal(now, ledger) {
				t.Errorf("the ledger changed: %v, was %v", now, ledger)
			}
			var last store.AuditEntry
			_ = json.Unmarshal([]byte(rdb.LIndex(ctx, "tidings:{"+c+"}:audit", -1).Val()), &last)
			if last.Action != "free" || last.Who != who.Who {
				t.Errorf("the audit log's last entry %+v; want the free, by %s", last, who.Who)
			}
			for _, set := range []string{"tidings:campaigns", "tidings:active", "tidings:doubted"} {
				if rdb.SIsMember(ctx, set, c).Val() {
					t.Errorf("%s still lists %s", set, c)
				}
			}
			if rdb.HExists(ctx, "tidings:stagings", c).Val() {
				t.Errorf("tidings:stagings still names %s", c)
			}
			var nf *store.NotFoundError
			if _, err := st.Status(ctx, c); !errors.As(err, &nf) || nf.Ledger != int64(len(ledger)) {
				t.Errorf("status once freed: %v; want not found, its ledger kept said", err)
			}
		})
	}
}

// TestFreeRefusesAnUnfinishedCampaign: a campaign running,
// paused or awaiting approval is not freed (a *NotFreeableError naming
// its state), and nothing of it changes.
func TestFreeRefusesAnUnfinishedCampaign(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	for _, want := range []store.State{store.StateRunning, store.StatePaused, store.StateAwaitingApproval} {
		t.Run(string(want), func(t *testing.T) {
			t.Parallel()
			rdb := startRedis(t)
			st := store.New(rdb)
			c := "c-unfinished"
			sum := stage(t, st, c, stageOpts{n: 6, canary: 1, size: 3})
			tp := store.TickParams{ApproveAfterCanary: true, MaxFailureRate: 0.5}
			switch want {
			case store.StateRunning, store.StatePaused, store.StateAwaitingApproval:
				if r := tick(t, st, c, sum, tp); r.Code != store.TickReleased {
					t.Fatalf("first tick %+v", r)
				}
			}
			switch want {
			case store.StatePaused:
				if _, err := st.Pause(ctx, c, who, "looking"); err != nil {
					t.Fatal(err)
				}
			case store.StateAwaitingApproval:
				meta, err := st.Meta(ctx, c, false)
				if err != nil {
					t.Fatal(err)
				}
				l, pol := st.Ledger(c, sum.Stage), store.Policy{MaxAttempts: 1}
				for n := meta.Batches[0].First; n <= meta.Batches[0].Last; n++ {
					recs, err := st.Chunk(ctx, c, n)
					if err != nil {
						t.Fatal(err)
					}
					for _, r := range recs {
						if _, err := l.Step(ctx, nil, []store.Claim{{ID: r.ID, Lang: r.Lang, Token: r.ID}}, pol, time.Now()); err != nil {
							t.Fatal(err)
						}
						if _, err := l.Step(ctx, []store.Record{{ID: r.ID, Lang: r.Lang, Kind: store.KindSent, Code: "250", Token: r.ID}}, nil, pol, time.Now()); err != nil {
							t.Fatal(err)
						}
					}
					if _, err := st.EndChunk(ctx, c, sum.Stage, 0, n, true); err != nil {
						t.Fatal(err)
					}
				}
				if r := tick(t, st, c, sum, tp); r.Code != store.TickAwaiting {
					t.Fatalf("tick after the canary %+v, want awaiting approval", r)
				}
			}
			if ctl, err := st.Control(ctx, c); err != nil || ctl.State != want {
				t.Fatalf("control %+v, %v; want %s", ctl, err, want)
			}
			before := campaignKeysIn(t, rdb, c)
			_, err := st.Free(ctx, c, "test", who)
			var nfe *store.NotFreeableError
			if !errors.As(err, &nfe) || nfe.State != want {
				t.Fatalf("free of a campaign %s: %v; want a *NotFreeableError naming its state", want, err)
			}
			if !strings.Contains(err.Error(), string(want)) {
				t.Errorf("%q does not say %s", err, want)
			}
			if after := campaignKeysIn(t, rdb, c); !slices.Equal(after, before) {
				t.Errorf("keys after the refusal %v, before %v", after, before)
			}
			if !rdb.SIsMember(ctx, "tidings:campaigns", c).Val() {
				t.Errorf("the refusal took %s off tidings:campaigns", c)
			}
		})
	}
}
