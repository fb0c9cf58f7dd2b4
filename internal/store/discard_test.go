package store_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/tidings-mail/tidings/internal/redistest"
	"github.com/tidings-mail/tidings/internal/store"
)

// TestCancelDropsAnUnfinishedFirstStaging: a first staging abandoned for
// good (its send interrupted, and nobody will run it again) kept its
// record in tidings:stagings and its partial keys for ever, so the list of
// its environment showed it staging-interrupted for ever. Cancel drops
// it: nothing was ever sent (a campaign with no definition has no worker),
// so every key of the campaign goes but its audit log, which records the
// cancel, and the name is free. A staging that runs, and a campaign that
// was staged, are not dropped: the cancel of the one is refused, of the
// other cancels as always. Another campaign's keys are left alone.
func TestCancelDropsAnUnfinishedFirstStaging(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	add := func(t *testing.T, sg *store.Stager, n int) {
		t.Helper()
		for i := range n {
			r := store.Recipient{Line: i + 2, ID: fmt.Sprint("r", i), Email: fmt.Sprintf("r%d@x.example", i), Lang: "de"}
			if err := sg.Add(ctx, r, 0, false); err != nil {
				t.Fatal(err)
			}
		}
	}
	tests := []struct {
		name  string
		stage func(t *testing.T, st *store.Store, c string) // leaves c's first staging as the case says
		// dropped: the cancel drops the staging; else refused (wantErr)
		// or a cancel of a staged campaign.
		dropped bool
		wantErr string
	}{
		{"interrupted before its first row", func(t *testing.T, st *store.Store, c string) {
			begin(t, st, c).Abort(ctx)
		}, true, ""},
		{"interrupted after 16 chunks, paused meanwhile", func(t *testing.T, st *store.Store, c string) {
			sg := begin(t, st, c)
			add(t, sg, 120) // chunks of 7, written 16 at a time
			if n, err := st.Client().Exists(ctx, "tidings:{"+c+"}:chunk:0").Result(); err != nil || n != 1 {
				t.Fatalf("chunk 0 of the staging: %d, %v; want it written", n, err)
			}
			if _, err := st.Pause(ctx, c, store.Actor{Who: "bob", Host: "ops"}, "hold on"); err != nil {
				t.Fatal(err)
			}
			sg.Abort(ctx)
		}, true, ""},
		// Its ledger has the row skipped as delivered (Reject): an
		// ordinary first staging's ledger goes with it (only one after a
		// staging whose meta Redis lost keeps it).
		{"interrupted after a row skipped as delivered", func(t *testing.T, st *store.Store, c string) {
			sg := begin(t, st, c)
			if err := sg.Reject(ctx, store.Reject{Line: 200, ID: "r-del", Email: "del@x.example", Outcome: store.OutcomeSkipped, Code: "delivered", Reason: "delivered in an earlier run"}); err != nil {
				t.Fatal(err)
			}
			add(t, sg, 120)
			if n, err := st.Client().HLen(ctx, "tidings:{"+c+"}:ledger").Result(); err != nil || n != 1 {
				t.Fatalf("ledger of the staging: %d entries, %v; want the skipped row's", n, err)
			}
			sg.Abort(ctx)
		}, true, ""},
		{"interrupted, then a worker rebuilt the campaign sets", func(t *testing.T, st *store.Store, c string) {
			begin(t, st, c).Abort(ctx)
			if err := st.RebuildActive(ctx); err != nil {
				t.Fatal(err)
			}
		}, true, ""},
		{"being staged", func(t *testing.T, st *store.Store, c string) {
			sg := begin(t, st, c)
			add(t, sg, 1)
			t.Cleanup(func() { sg.Abort(context.Background()) })
		}, false, "its first staging has not ended"},
		{"staged", func(t *testing.T, st *store.Store, c string) {
			sg := begin(t, st, c)
			add(t, sg, 1)
			if _, err := sg.Finish(ctx, false); err != nil {
				t.Fatal(err)
			}
		}, false, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			rdb := startRedis(t)
			st := store.NewWithConfig(rdb, store.Config{Env: "test"})
			stage(t, st, "c-other", stageOpts{n: 3, size: 2}) // staged, and left alone
			tt.stage(t, st, "c")
			before, err := rdb.Keys(ctx, "tidings:{c}:*").Result()
			if err != nil {
				t.Fatal(err)
			}
			otherKeys, _ := rdb.Keys(ctx, "tidings:{c-other}:*").Result()
			carol := store.Actor{Who: "carol", Host: "ops", Env: "test"}
			done, _, err := st.Cancel(ctx, "c", carol, "abandoned: wrong list")
			switch {
			case tt.wantErr != "":
				var te *store.TransitionError
				if !errors.As(err, &te) || !te.FirstStaging || done.Dropped {
					t.Fatalf("cancel of a campaign %s: %v (dropped %v); want a refusal, its first staging not ended", tt.name, err, done.Dropped)
				}
				after, _ := rdb.Keys(ctx, "tidings:{c}:*").Result()
				if slices.Sort(before); true {
					slices.Sort(after)
				}
				if !slices.Equal(before, after) {
					t.Errorf("a refused cancel changed the keys: %v, then %v", before, after)
				}
				return
			case err != nil:
				t.Fatalf("cancel: %v", err)
			case done.Dropped != tt.dropped:
				t.Fatalf("cancel of a campaign %s: dropped %v, want %v", tt.name, done.Dropped, tt.dropped)
			case !tt.dropped:
				if s, err := st.Status(ctx, "c"); err != nil || s.State != store.StateCancelled {
					t.Fatalf("status after the cancel of a staged campaign: %v, %v; want cancelled", s, err)
				}
				return
			}
			if !strings.Contains(done.Say(""), "nothing was sent") {
				t.Errorf("what the cancel says: %q; want that nothing was sent", done.Say(""))
			}
			left, err := rdb.Keys(ctx, "tidings:{c}:*").Result()
			if err != nil || !slices.Equal(left, []string{"tidings:{c}:audit"}) {
				t.Errorf("keys of the campaign left: %v, %v; want its audit log alone (before: %v)", left, err, before)
			}
			if n, _ := rdb.HExists(ctx, "tidings:stagings", "c").Result(); n {
				t.Error("its record in tidings:stagings is still there")
			}
			for _, set := range []string{"tidings:campaigns", "tidings:active"} {
				if in, _ := rdb.SIsMember(ctx, set, "c").Result(); in {
					t.Errorf("still listed in %s", set)
				}
			}
			names, err := st.List(ctx, "test")
			if err != nil || !slices.Equal(names, []string{"c-other"}) {
				t.Errorf("campaigns of environment test: %v, %v; want [c-other]", names, err)
			}
			if _, err := st.Status(ctx, "c"); !errors.Is(err, store.ErrNotFound) || errors.As(err, new(*store.UnfinishedStagingError)) {
				t.Errorf("status after the drop: %v; want not found (no staging left)", err)
			}
			audit, _ := rdb.LRange(ctx, "tidings:{c}:audit", -1, -1).Result()
			var e store.AuditEntry
			if len(audit) != 1 || json.Unmarshal([]byte(audit[0]), &e) != nil || e.Action != "drop-staging" || e.Who != "carol" || e.Env != "test" || !strings.Contains(e.Reason, "abandoned: wrong list") {
				t.Errorf("last audit entry: %v; want drop-staging by carol, with the reason", audit)
			}
			if got, _ := rdb.Keys(ctx, "tidings:{c-other}:*").Result(); len(got) != len(otherKeys) {
				t.Errorf("keys of another campaign: %d, then %d", len(otherKeys), len(got))
			}
			// The name is free: staged anew, the cancel's entry stays in
			// its audit log.
			sg := begin(t, st, "c")
			add(t, sg, 2)
			if _, err := sg.Finish(ctx, false); err != nil {
				t.Fatalf("stage the name again: %v", err)
			}
			if s, err := st.Status(ctx, "c"); err != nil || s.State != store.StateStaged || s.Staged != 2 {
				t.Errorf("status of the campaign staged again: %+v, %v; want staged, 2 recipients", s, err)
			}
		})
	}
}

// TestCancelDropsAnUnfinishedFirstStagingInACluster: in Redis Cluster, the
// keys of the staging given up are found and removed on the master of
// the campaign's slot, and the global record and sets on theirs.
func TestCancelDropsAnUnfinishedFirstStagingInACluster(t *testing.T) {
	t.Parallel()
	cl := redistest.StartCluster(t, redistest.ClusterOptions{Replicas: -1})
	rdb := cl.ClusterClient()
	ctx := context.Background()
	st := store.NewWithConfig(rdb, store.Config{Env: "test"})
	stage(t, st, "c-other", stageOpts{n: 3, size: 2})
	sg := begin(t, st, "c")
	for i := range 120 { // chunks of 7, written 16 at a time
		if err := sg.Add(ctx, store.Recipient{Line: i + 2, ID: fmt.Sprint("r", i), Email: fmt.Sprintf("r%d@x.example", i), Lang: "de"}, 0, false); err != nil {
			t.Fatal(err)
		}
	}
	sg.Abort(ctx)
	keysOf := func(c string) []string {
		t.Helper()
		m, err := rdb.MasterForKey(ctx, "tidings:{"+c+"}:control")
		if err != nil {
			t.Fatal(err)
		}
		ks, err := m.Keys(ctx, "tidings:{"+c+"}:*").Result()
		if err != nil {
			t.Fatal(err)
		}
		slices.Sort(ks)
		return ks
	}
	if ks := keysOf("c"); !slices.Contains(ks, "tidings:{c}:chunk:0") {
		t.Fatalf("keys of the interrupted staging: %v; want its chunk 0 among them", ks)
	}
	other := keysOf("c-other")
	done, _, err := st.Cancel(ctx, "c", store.Actor{Who: "carol", Host: "ops", Env: "test"}, "abandoned")
	if err != nil || !done.Dropped {
		t.Fatalf("cancel: %+v, %v; want it dropped", done, err)
	}
	if ks := keysOf("c"); !slices.Equal(ks, []string{"tidings:{c}:audit"}) {
		t.Errorf("keys left: %v; want its audit log alone", ks)
	}
	if names, err := st.List(ctx, "test"); err != nil || !slices.Equal(names, []string{"c-other"}) {
		t.Errorf("campaigns: %v, %v; want [c-other]", names, err)
	}
	if ks := keysOf("c-other"); !slices.Equal(ks, other) {
		t.Errorf("keys of another campaign: %v, then %v", other, ks)
	}
}
