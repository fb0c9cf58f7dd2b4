package store_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/tidings-mail/tidings/internal/campaign"
	"github.com/tidings-mail/tidings/internal/store"
)

// TestStatusETA: Status reads the ETA's settings from the staged
// definition. Nothing is sent, so the campaign's rate applies: 30 at 10/s,
// and two batches released 1m apart after batch 0; a canary to approve
// makes it wait for the approval.
func TestStatusETA(t *testing.T) {
	t.Parallel()
	st := store.New(startRedis(t))
	def := func(b campaign.Batches) []byte {
		t.Helper()
		c := campaign.Campaign{Name: "eta", Environment: "test", Template: "t", Recipients: "r.csv", From: "a@example.com",
			Batches: b, Rate: campaign.Rate{Count: 10, Per: time.Second}}.WithDefaults()
		d, err := c.Definition()
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	for _, tt := range []struct {
		name     string
		o        stageOpts
		eta      float64
		waitsFor string
	}{
		{"eta-batches", stageOpts{n: 30, size: 10, def: def(campaign.Batches{Size: 10, Interval: time.Minute})}, 123, ""},
		{"eta-canary", stageOpts{n: 30, canary: 1, size: 10, def: def(campaign.Batches{CanaryPerLocale: 1, Size: 10, ApproveAfterCanary: true})},
			0, store.ETAWaitsForApproval},
	} {
		stage(t, st, tt.name, tt.o)
		s, err := st.Status(context.Background(), tt.name)
		if err != nil {
			t.Fatal(err)
		}
		if s.ETASeconds != tt.eta || s.ETAWaitsFor != tt.waitsFor {
			t.Errorf("%s: eta %v, waits for %q; want %v, %q", tt.name, s.ETASeconds, s.ETAWaitsFor, tt.eta, tt.waitsFor)
		}
	}
}

// TestStatusETABetweenBatches: between two batches of a campaign without a
// rate, nothing was recorded lately, so the ETA takes the rate of the
// batch that just passed: over the time it was sending, from its release
// (its first claim) to its last outcome. Batch 0 (10 recipients) was
// released and claimed a minute ago and passed 20 s later: 0.5 a second, so the 20 pending take 40 s, plus two intervals of an hour
// less the 40 s waited since. Every time is Redis's clock (the test's own
// may differ by milliseconds or more): the expected ETA is taken from the
// now Status read (Status.Now).
func TestStatusETABetweenBatches(t *testing.T) {
	t.Parallel()
	rdb := startRedis(t)
	st := store.New(rdb)
	ctx := context.Background()
	c := campaign.Campaign{Name: "eta-gap", Environment: "test", Template: "t", Recipients: "r.csv", From: "a@example.com",
		Batches: campaign.Batches{Size: 10, Interval: time.Hour}}.WithDefaults()
	def, err := c.Definition()
	if err != nil {
		t.Fatal(err)
	}
	sum := stage(t, st, "eta-gap", stageOpts{n: 30, size: 10, def: def})
	tp := store.TickParams{Stage: sum.Stage, Interval: time.Hour}
	t0, err := rdb.Time(ctx).Result() // Redis's clock, which Status reads (Status.Now)
	if err != nil {
		t.Fatal(err)
	}
	released := t0.Add(-time.Minute).Truncate(time.Millisecond) // as Redis keeps it
	if r, err := st.Tick(ctx, "eta-gap", tp, released); err != nil || r.Code != store.TickReleased {
		t.Fatalf("release: %+v, %v", r, err)
	}
	releasedAt(t, rdb, "eta-gap", released)
	done := released.Add(20 * time.Second)
	l := st.Ledger("eta-gap", sum.Stage)
	langs := []string{"de", "fr", "en"}
	for i := range 10 {
		id := fmt.Sprint("r", i)
		if _, err := l.Step(ctx, nil, []store.Claim{{ID: id, Lang: langs[i%3], Token: id}}, store.Policy{MaxAttempts: 3}, released); err != nil {
			t.Fatal(err)
		}
		if _, err := l.Step(ctx, []store.Record{{ID: id, Lang: langs[i%3], Kind: store.KindSent, Code: "250", Response: "ok", Token: id}}, nil, store.Policy{MaxAttempts: 3}, done); err != nil {
			t.Fatal(err)
		}
	}
	for n := range 2 { // batch 0 is chunks 0 and 1 (chunks of 7)
		if _, err := st.EndChunk(ctx, "eta-gap", sum.Stage, 0, n, true); err != nil {
			t.Fatal(err)
		}
	}
	if r, err := st.Tick(ctx, "eta-gap", tp, done); err != nil || r.Code != store.TickNoop {
		t.Fatalf("tick after batch 0 passed: %+v, %v", r, err)
	}
	// The tick timed the interval from now in Redis's clock: as a tick
	// 40 s ago would have. The first claim came at the release (the idle
	// time the step measured is the test's few milliseconds between
	// releasedAt and it): batch 0 was sending for exactly its 20 s.
	if err := rdb.HSet(ctx, "tidings:{eta-gap}:control", "batch_done_at", done.UnixMilli(), "idle_ms", 0).Err(); err != nil {
		t.Fatal(err)
	}
	s, err := st.Status(ctx, "eta-gap")
	if err != nil {
		t.Fatal(err)
	}
	if s.Rate != 0 || s.Counts[store.OutcomePending] != 20 {
		t.Fatalf("recent rate %v, pending %d: want 0 and 20", s.Rate, s.Counts[store.OutcomePending])
	}
	// 40 s, then two hours less what had passed since batch 0 passed when
	// Status read Redis's clock (s.Now: 40 s and the time this test took),
	// whatever the test's own clock says; the timestamps are whole
	// milliseconds, the ETA a float of seconds.
	want := 40*time.Second + 2*time.Hour - s.Now.Sub(done)
	if got := time.Duration(s.ETASeconds * float64(time.Second)); got < want-time.Millisecond || got > want+time.Millisecond || s.Now.Before(t0) {
		t.Errorf("ETA %v, want %v (20 at the last batch's 0.5/s, then two intervals less the %v waited; Redis's now %v, %v after the test's start)", got, want, s.Now.Sub(done), s.Now, s.Now.Sub(t0))
	}
}

// TestStatusRetriesDue: the recipients waiting for a retry are due by the
// latest of their temporary failures plus the backoff for that attempt
// (10m after a first attempt, 20m after a second), and the ETA waits for
// them: a campaign whose only recipients left wait 30 minutes for their
// retry does not end in a second at its rate.
func TestStatusRetriesDue(t *testing.T) {
	t.Parallel()
	st := store.New(startRedis(t))
	ctx := context.Background()
	c := campaign.Campaign{Name: "due", Environment: "test", Template: "t", Recipients: "r.csv", From: "a@example.com",
		Rate: campaign.Rate{Count: 10, Per: time.Second}, Retry: campaign.Retry{MaxAttempts: 4, Backoff: 10 * time.Minute}}.WithDefaults()
	def, err := c.Definition()
	if err != nil {
		t.Fatal(err)
	}
	sum := stage(t, st, "due", stageOpts{n: 2, size: 10, def: def})
	if r := tick(t, st, "due", sum, store.TickParams{}); r.Code != store.TickReleased {
		t.Fatalf("tick: %+v", r)
	}
	l, pol := st.Ledger("due", sum.Stage), store.Policy{MaxAttempts: 4}
	try := func(id, lang, tok string, k store.Kind, at time.Time) {
		t.Helper()
		if _, err := l.Step(ctx, nil, []store.Claim{{ID: id, Lang: lang, Token: tok}}, pol, at); err != nil {
			t.Fatal(err)
		}
		if _, err := l.Step(ctx, []store.Record{{ID: id, Lang: lang, Kind: k, Code: "451", Response: "try later", Token: tok}}, nil, pol, at); err != nil {
			t.Fatal(err)
		}
	}
	t1 := time.Now().Truncate(time.Millisecond)
	try("r0", "de", "a", store.KindTemp, t1)
	try("r1", "fr", "b", store.KindTemp, t1)
	want := func(retries int64, due time.Time) {
		t.Helper()
		s, err := st.Status(ctx, "due")
		if err != nil {
			t.Fatal(err)
		}
		if s.Retries != retries || !s.RetriesDue.Equal(due) {
			t.Fatalf("%d retries waiting, due by %v; want %d by %v", s.Retries, s.RetriesDue, retries, due)
		}
		if eta := time.Duration(s.ETASeconds * float64(time.Second)); eta < time.Until(due) {
			t.Errorf("ETA %v, before the retries are due (%v)", eta, due)
		}
	}
	want(2, t1.Add(10*time.Minute))
	// r0's retry at its time fails again: due 20 minutes after it.
	t2 := t1.Add(10 * time.Minute)
	try("r0", "de", "c", store.KindTemp, t2)
	want(2, t2.Add(20*time.Minute))
	try("r1", "fr", "d", store.KindSent, t2)
	want(1, t2.Add(20*time.Minute))
}

// TestStatusETAOfABatchPausedAndResumed: a pause of the current batch is
// no sending time of it when the batch claims again after the resume, and
// is when it does not. Paused after its last outcome (10 first attempts
// in 20 s), before a tick saw it pass, and resumed, the batch claims
// nothing more: the pause came after it, and counted as idle it made the
// batch look four times as fast (10 in 5 s), the ETA short by 30 s. Paused
// in the middle (5 in the first 20 s, the other 5 after the resume), the
// batch took a minute less the 15 s pause.
func TestStatusETAOfABatchPausedAndResumed(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name  string
		after int // recipients claimed after the resume
		want  time.Duration
	}{
		{"paused after its last outcome", 0, 40 * time.Second},     // 20 at 10/20s
		{"paused in the middle of the batch", 5, 90 * time.Second}, // 20 at 10/45s
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			rdb := startRedis(t)
			st := store.New(rdb)
			ctx := context.Background()
			c := "eta-paused-" + fmt.Sprint(tt.after)
			released := time.Now().Add(-time.Minute)
			tp, l := stageReleased(t, rdb, st, c, campaign.Batches{Size: 10, Interval: time.Hour}, released)
			pol := store.Policy{MaxAttempts: 3}
			send := func(from, to int, claimed, sent time.Time) {
				t.Helper()
				for i := from; i < to; i++ {
					id := fmt.Sprint("r", i)
					if _, err := l.Step(ctx, nil, []store.Claim{{ID: id, Lang: "de", Token: id}}, pol, claimed); err != nil {
						t.Fatal(err)
					}
					if _, err := l.Step(ctx, []store.Record{{ID: id, Lang: "de", Kind: store.KindSent, Code: "250", Response: "ok", Token: id}}, nil, pol, sent); err != nil {
						t.Fatal(err)
					}
				}
			}
			send(0, 10-tt.after, released, released.Add(20*time.Second))
			// Paused 15 s ago (the time is set as a pause then would have
			// set it), resumed now, before any tick.
			if _, err := st.Pause(ctx, c, who, "looking"); err != nil {
				t.Fatal(err)
			}
			if err := rdb.HSet(ctx, "tidings:{"+c+"}:control", "at", time.Now().Add(-15*time.Second).UnixMilli()).Err(); err != nil {
				t.Fatal(err)
			}
			if _, err := st.Resume(ctx, c, who, "looked"); err != nil {
				t.Fatal(err)
			}
			send(10-tt.after, 10, time.Now(), time.Now())
			for n := range 2 {
				if _, err := st.EndChunk(ctx, c, tp.Stage, 0, n, true); err != nil {
					t.Fatal(err)
				}
			}
			t0 := time.Now()
			if r, err := st.Tick(ctx, c, tp, t0); err != nil || r.Code != store.TickNoop {
				t.Fatalf("tick after batch 0 passed: %+v, %v", r, err)
			}
			s, err := st.Status(ctx, c)
			if err != nil {
				t.Fatal(err)
			}
			// 20 at the batch's rate, then two intervals less what has
			// passed since the tick saw batch 0 pass; the clock of this
			// test and of Redis's milliseconds leave a second either way.
			want := tt.want + 2*time.Hour
			if got := time.Duration(s.ETASeconds * float64(time.Second)); got < want-2*time.Second || got > want+2*time.Second {
				t.Errorf("ETA %v, want %v give or take 2s", got, want)
			}
		})
	}
}

// stageReleased stages campaign c, 30 recipients in batches b, and
// releases its first batch at released (releasedAt): the tick parameters
// of its staging and its ledger.
func stageReleased(t *testing.T, rdb *redis.Client, st *store.Store, c string, b campaign.Batches, released time.Time) (store.TickParams, *store.Ledger) {
	t.Helper()
	camp := campaign.Campaign{Name: c, Environment: "test", Template: "t", Recipients: "r.csv", From: "a@example.com", Batches: b}.WithDefaults()
	def, err := camp.Definition()
	if err != nil {
		t.Fatal(err)
	}
	sum := stage(t, st, c, stageOpts{n: 30, size: b.Size, def: def})
	tp := store.TickParams{Stage: sum.Stage, Interval: b.Interval}
	if r, err := st.Tick(context.Background(), c, tp, released); err != nil || r.Code != store.TickReleased {
		t.Fatalf("release: %+v, %v", r, err)
	}
	releasedAt(t, rdb, c, released)
	return tp, st.Ledger(c, sum.Stage)
}

// releasedAt makes campaign c's current batch released at, as a tick then
// would have released it (a tick writes the time of the release in
// Redis's clock: lua/tick.lua), its first claim following at once: the
// idle time that claim ends at Redis's now (lua/step.lua) starts now.
func releasedAt(t *testing.T, rdb *redis.Client, c string, at time.Time) {
	t.Helper()
	if err := rdb.HSet(context.Background(), "tidings:{"+c+"}:control", "released_at", at.UnixMilli(), "idle_since", time.Now().UnixMilli()).Err(); err != nil {
		t.Fatal(err)
	}
}

// TestStatusETARightAfterAResume: the ETA's rate is taken over the
// seconds since the campaign last became running, not over the whole
// last 10 s, which hold the pause before the resume. The operator's night
// (2026-12-06, 50,000 recipients at 2,000/s): 2 s after a resume, 16
// msg/s over the last 10 s, and the ETA said 29m29s for 29,000 left (it
// took 25 s). Here: resumed 4.5 s ago, 10 sent in each complete second
// since, none in the seconds before (paused): 10/s, so the 20 pending
// take 2 s; over the 10 s it was about 4/s, 5 s. Status shows the 10 s
// rate as it is (its line says "over the last 10 s").
func TestStatusETARightAfterAResume(t *testing.T) {
	t.Parallel()
	rdb := startRedis(t)
	st := store.New(rdb)
	ctx := context.Background()
	c := "eta-resumed"
	released := time.Now().Add(-time.Minute)
	_, l := stageReleased(t, rdb, st, c, campaign.Batches{Size: 30}, released)
	sentAt(t, l, 10, released)
	if _, err := st.Pause(ctx, c, who, "looking"); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Resume(ctx, c, who, "looked"); err != nil {
		t.Fatal(err)
	}
	// Redis's clock, as Status reads it: resumed 4.5 s ago; 10 outcomes
	// in each second since (the per-second counters the ledger step
	// writes), none in the 10 s before. A second that begins while the
	// test runs moves the window, not the rate since the resume.
	now, err := rdb.Time(ctx).Result()
	if err != nil {
		t.Fatal(err)
	}
	resumed := now.Add(-4500 * time.Millisecond)
	tenASecondAfter(t, rdb, c, resumed, now)
	if err := rdb.HSet(ctx, "tidings:{"+c+"}:control", "at", resumed.UnixMilli()).Err(); err != nil {
		t.Fatal(err)
	}
	s, err := st.Status(ctx, c)
	if err != nil {
		t.Fatal(err)
	}
	if s.State != store.StateRunning || s.Counts[store.OutcomePending] != 20 {
		t.Fatalf("state %s, pending %d: want running and 20", s.State, s.Counts[store.OutcomePending])
	}
	if s.Rate >= 10 {
		t.Fatalf("rate over the last 10 s %v: want under 10 (the pause's seconds in it)", s.Rate)
	}
	if s.ETASeconds != 2 {
		t.Errorf("ETA %vs, want 2s: the 20 pending at the 10/s sent since the resume (rate over the last 10 s %v)", s.ETASeconds, s.Rate)
	}
}

// TestStatusETARightAfterARelease: the ETA's rate is taken over the
// seconds since the current batch's release, not over the gap before it
// (the interval, in which nothing is sent on purpose). The operator's
// night (2026-12-06, 50,000 at 2,000/s, batches every 5 s): one second
// into batch 1, 67.8 msg/s over the last 10 s and the ETA said 5m0s (it
// took 34 s). Here: released 4.5 s ago, 10 sent in each complete second
// since, none in the 10 s before: 10/s, so the 20 pending take 2 s.
func TestStatusETARightAfterARelease(t *testing.T) {
	t.Parallel()
	rdb := startRedis(t)
	st := store.New(rdb)
	ctx := context.Background()
	c := "eta-released"
	now, err := rdb.Time(ctx).Result()
	if err != nil {
		t.Fatal(err)
	}
	released := now.Add(-4500 * time.Millisecond)
	_, l := stageReleased(t, rdb, st, c, campaign.Batches{Size: 30}, released)
	sentAt(t, l, 10, released)
	// The last state change (the staging) a minute ago; 10 outcomes in
	// each second since the release, none in the 10 s before it.
	tenASecondAfter(t, rdb, c, released, now)
	if err := rdb.HSet(ctx, "tidings:{"+c+"}:control", "at", now.Add(-time.Minute).UnixMilli()).Err(); err != nil {
		t.Fatal(err)
	}
	s, err := st.Status(ctx, c)
	if err != nil {
		t.Fatal(err)
	}
	if s.State != store.StateRunning || s.Counts[store.OutcomePending] != 20 || s.Rate >= 10 {
		t.Fatalf("state %s, pending %d, rate over the last 10 s %v: want running, 20, under 10", s.State, s.Counts[store.OutcomePending], s.Rate)
	}
	if s.ETASeconds != 2 {
		t.Errorf("ETA %vs, want 2s: the 20 pending at the 10/s sent since the release (rate over the last 10 s %v)", s.ETASeconds, s.Rate)
	}
}

// sentAt claims and sends recipients r0 to r(n-1) of ledger l at.
func sentAt(t *testing.T, l *store.Ledger, n int, at time.Time) {
	t.Helper()
	pol := store.Policy{MaxAttempts: 3}
	for i := range n {
		id := fmt.Sprint("r", i)
		if _, err := l.Step(context.Background(), nil, []store.Claim{{ID: id, Lang: "de", Token: id}}, pol, at); err != nil {
			t.Fatal(err)
		}
		if _, err := l.Step(context.Background(), []store.Record{{ID: id, Lang: "de", Kind: store.KindSent, Code: "250", Response: "ok", Token: id}}, nil, pol, at); err != nil {
			t.Fatal(err)
		}
	}
}

// tenASecondAfter makes campaign c's per-second counters (the ledger
// step's) 10 outcomes in each second after the one from is in, up to 2 s
// past now (a second that begins while the test runs moves the window,
// not the rate since from), and none in the 10 s before.
func tenASecondAfter(t *testing.T, rdb *redis.Client, c string, from, now time.Time) {
	t.Helper()
	ctx := context.Background()
	k := "tidings:{" + c + "}:persec"
	if err := rdb.Del(ctx, k).Err(); err != nil {
		t.Fatal(err)
	}
	for sec := from.Unix() - 10; sec <= now.Unix()+2; sec++ {
		n := 0
		if sec > from.Unix() {
			n = 10
		}
		if err := rdb.HSet(ctx, k, fmt.Sprint(sec), n).Err(); err != nil {
			t.Fatal(err)
		}
	}
}

// TestStatusRateOfAFinishedCampaign: a campaign that has ended has no
// current rate (Status.Rate 0), however many outcomes its last 10 s
// counted: a cancelled one sends nothing more. Running, the same counters
// are its rate.
func TestStatusRateOfAFinishedCampaign(t *testing.T) {
	t.Parallel()
	rdb := startRedis(t)
	st := store.New(rdb)
	ctx := context.Background()
	c := "rate-ended"
	now, err := rdb.Time(ctx).Result()
	if err != nil {
		t.Fatal(err)
	}
	released := now.Add(-4500 * time.Millisecond)
	_, l := stageReleased(t, rdb, st, c, campaign.Batches{Size: 30}, released)
	sentAt(t, l, 10, released)
	tenASecondAfter(t, rdb, c, released, now)
	s, err := st.Status(ctx, c)
	if err != nil {
		t.Fatal(err)
	}
	if s.State != store.StateRunning || s.Rate <= 0 {
		t.Fatalf("running: state %s, rate %v; want running and a rate", s.State, s.Rate)
	}
	if _, _, err := st.Cancel(ctx, c, store.Actor{Who: "ana", Host: "ops", Env: "test"}, "wrong list"); err != nil {
		t.Fatal(err)
	}
	tenASecondAfter(t, rdb, c, released, now) // the same last 10 s
	if s, err = st.Status(ctx, c); err != nil {
		t.Fatal(err)
	}
	if s.State != store.StateCancelled || s.Rate != 0 {
		t.Errorf("cancelled: state %s, rate %v; want cancelled and no rate", s.State, s.Rate)
	}
}
