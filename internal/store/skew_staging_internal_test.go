package store

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/tidings-mail/tidings/internal/redistest"
)

// TestStagingTimesAreRedisClock: the end of a staging (the control's `at`
// and its audit entry's, lua/stage_end.lua) and the cancel that drops an
// interrupted first staging (its audit entry, dropStaging) are written in
// Redis's clock, as the controls and a tick write theirs, not in the clock
// of the host that runs send or cancel: status compares the control's `at`
// with Redis's now (the ETA, the stall) and the audit log is read in
// order. Before, a host 3 hours behind staged a campaign 3 hours ago.
func TestStagingTimesAreRedisClock(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	behind := func() time.Time { return time.Now().Add(-3 * time.Hour) }
	near := func(t *testing.T, what string, got time.Time) {
		t.Helper()
		if now := time.Now(); got.Before(now.Add(-time.Hour)) || got.After(now.Add(time.Hour)) {
			t.Errorf("%s %v, %v from now; want Redis's clock (this host's: now, give or take the test's time)", what, got, got.Sub(now).Round(time.Second))
		}
	}
	lastAudit := func(t *testing.T, s *Store, c, action string) {
		t.Helper()
		raw, err := s.rdb.LIndex(ctx, keysFor(c).audit, -1).Result()
		if err != nil {
			t.Fatalf("the audit log of %s: %v", c, err)
		}
		var e AuditEntry
		if err := json.Unmarshal([]byte(raw), &e); err != nil || e.Action != action {
			t.Fatalf("last audit entry %s (%v): want the %s", raw, err, action)
		}
		near(t, "the audit's "+action+" at", e.At)
	}
	t.Run("staged by a host 3 hours behind", func(t *testing.T) {
		t.Parallel()
		s := New(redistest.Start(t).Client())
		s.hostClock = behind
		stageTwoChunks(t, s, "skewstage")
		ctl, err := s.Control(ctx, "skewstage")
		if err != nil {
			t.Fatal(err)
		}
		near(t, "started at", ctl.At)
		lastAudit(t, s, "skewstage", "start")
	})
	t.Run("its interrupted first staging dropped by a host 3 hours behind", func(t *testing.T) {
		t.Parallel()
		s := New(redistest.Start(t).Client())
		s.hostClock = behind
		sg, err := s.NewStager(ctx, StageConfig{Campaign: "skewdrop", Definition: []byte(`{}`), Hash: "h", Env: "test", Who: "t", ChunkSize: 1})
		if err != nil {
			t.Fatal(err)
		}
		if err := sg.Add(ctx, Recipient{Line: 2, ID: "r0", Email: "r0@x.example", Locale: "de", Lang: "de"}, 0, false); err != nil {
			t.Fatal(err)
		}
		if err := sg.flush(ctx); err != nil {
			t.Fatal(err)
		}
		sg.Abort(ctx)
		if dropped, _, err := s.dropStaging(ctx, "skewdrop", Actor{Who: "op", Host: "laptop", Env: "test"}, "abandoned"); err != nil || !dropped {
			t.Fatalf("drop the interrupted staging: dropped %v, %v", dropped, err)
		}
		lastAudit(t, s, "skewdrop", "drop-staging")
	})
}
