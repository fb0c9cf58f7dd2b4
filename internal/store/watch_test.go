package store_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/tidings-mail/tidings/internal/redistest"
	"github.com/tidings-mail/tidings/internal/store"
)

// TestControlChangesAreAnnounced: every change of a campaign's state that
// stops, holds or starts sending is announced on store.ControlChannel once
// it is made (what workers wake on: WatchControl), whoever makes it: a
// staging, pause, resume, the tick's wait for approval, approve, the batch
// gate's pause, the ledger step's auto-pause, cancel. What changes no
// state (a batch released, a pause of a paused campaign, outcomes that
// pause nothing) is not. Between two steps the test publishes a marker on
// the channel: Redis delivers in order, so the announcements a step made
// are those received before its marker.
func TestControlChangesAreAnnounced(t *testing.T) {
	t.Parallel()
	rdb := startRedis(t)
	st := store.New(rdb)
	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	const c = "c-announced" // pub/sub ignores the database: a name no other test uses
	heard, watched := watch(ctx, t, st)

	var sum *store.StageSummary
	p := store.TickParams{ApproveAfterCanary: true, MaxFailureRate: 0.5, Actor: store.Actor{Who: "worker"}}
	// send claims and records every recipient of batch b as kind, under
	// policy pol (chunks passed, for the gates).
	send := func(b int, kind store.Kind, pol store.Policy) error {
		meta, err := st.Meta(ctx, c, false)
		if err != nil {
			return err
		}
		l := st.Ledger(c, sum.Stage)
		for n := meta.Batches[b].First; n <= meta.Batches[b].Last; n++ {
			recs, err := st.Chunk(ctx, c, n)
			if err != nil {
				return err
			}
			for _, r := range recs {
				cl := store.Claim{ID: r.ID, Lang: r.Lang, Batch: b, Token: r.ID}
				rec := store.Record{ID: r.ID, Lang: r.Lang, Batch: b, Kind: kind, Code: "550", Token: r.ID}
				if _, err := l.Step(ctx, nil, []store.Claim{cl}, pol, time.Now()); err != nil {
					return err
				}
				if _, err := l.Step(ctx, []store.Record{rec}, nil, pol, time.Now()); err != nil {
					return err
				}
			}
			if _, err := st.EndChunk(ctx, c, sum.Stage, b, n, true); err != nil {
				return err
			}
		}
		return nil
	}
	ticks := func(want store.TickCode) func() error {
		return func() error {
			if r, err := st.Tick(ctx, c, store.TickParams{Stage: sum.Stage, ApproveAfterCanary: p.ApproveAfterCanary, MaxFailureRate: p.MaxFailureRate, Actor: p.Actor}, time.Now()); err != nil || r.Code != want {
				return fmt.Errorf("tick: %+v, %v; want code %d", r, err, want)
			}
			return nil
		}
	}
	pause := func() error { _, err := st.Pause(ctx, c, who, "looking"); return err }
	resume := func() error { _, err := st.Resume(ctx, c, who, "fine"); return err }
	steps := []struct {
		name string
		do   func() error
		want int // announcements
	}{
		{"staged", func() error { sum = stage(t, st, c, stageOpts{n: 12, canary: 1, size: 5}); return nil }, 1},
		{"canary released", ticks(store.TickReleased), 0},
		{"paused", pause, 1},
		{"paused again", pause, 0},
		{"resumed", resume, 1},
		{"canary sent", func() error { return send(0, store.KindSent, store.Policy{MaxAttempts: 1}) }, 0},
		{"awaiting approval", ticks(store.TickAwaiting), 1},
		{"approved", func() error { _, err := st.Approve(ctx, c, "", false, who, "looks right"); return err }, 1},
		{"batch 1 released", ticks(store.TickReleased), 0},
		{"batch 1 failed", func() error { return send(1, store.KindFailed, store.Policy{MaxAttempts: 1}) }, 0},
		{"gated", ticks(store.TickGated), 1},
		{"resumed after the gate", resume, 1},
		{"batch 2 released", ticks(store.TickReleased), 0},
		// Four failures, the first of which is over the rate: one auto-pause.
		{"auto-paused", func() error {
			return send(2, store.KindFailed, store.Policy{MaxAttempts: 1, Window: 10, ErrorRate: 0.5, MinAttempts: 1})
		}, 1},
		{"cancelled", func() error { _, _, err := st.Cancel(ctx, c, who, "enough"); return err }, 1},
	}
	for i, s := range steps {
		if err := s.do(); err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
		marker := fmt.Sprint("marker ", i)
		if err := rdb.Publish(ctx, store.ControlChannel, marker).Err(); err != nil {
			t.Fatal(err)
		}
		got := 0
		for name := ""; name != marker; {
			select {
			case name = <-heard:
			case <-time.After(30 * time.Second):
				t.Fatalf("%s: the marker was not heard within 30 s", s.name)
			}
			if name == c {
				got++
			}
		}
		if got != s.want {
			t.Errorf("%s: %d announcements of %s, want %d", s.name, got, c, s.want)
		}
	}
	stop()
	if err := <-watched; err != nil {
		t.Errorf("WatchControl after its context ended: %v", err)
	}
}

// TestWatchControlHearsEveryClusterNode: on Redis Cluster, WatchControl
// (subscribed through the cluster client, on the node of the channel's
// slot) hears an announcement published on any master: PUBLISH is
// broadcast to the whole cluster, and the store's own PUBLISH goes to
// whichever node the client picks (a sharded SPUBLISH would reach one
// shard only).
func TestWatchControlHearsEveryClusterNode(t *testing.T) {
	t.Parallel()
	cl := redistest.StartCluster(t, redistest.ClusterOptions{Replicas: -1})
	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	masters, err := cl.Masters(ctx)
	if err != nil || len(masters) < 2 {
		t.Fatalf("masters: %d, %v; want several", len(masters), err)
	}
	heard, _ := watch(ctx, t, store.New(cl.ClusterClient()))
	for _, m := range masters {
		if err := m.Client().Publish(ctx, store.ControlChannel, m.Addr()).Err(); err != nil {
			t.Fatal(err)
		}
		hear(t, heard, m.Addr(), "an announcement published on master "+m.Addr())
	}
}

// TestWatchControlSubscribesAgainAfterARestart: Redis restarts (a crash, a
// failover's new master on the same address) under a subscribed
// WatchControl. It subscribes again by itself (go-redis), says so (changed
// with "": what was announced meanwhile is lost, re-read everything), and
// hears the announcements made after.
func TestWatchControlSubscribesAgainAfterARestart(t *testing.T) {
	t.Parallel()
	r := redistest.StartServer(t, "../redistest/testdata/plain.conf")
	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	heard, _ := watch(ctx, t, store.New(r.Client()))
	if err := r.Restart(ctx, true); err != nil {
		t.Fatal(err)
	}
	hear(t, heard, "", "the word that it subscribed again after the restart")
	if err := r.Client().Publish(ctx, store.ControlChannel, "after").Err(); err != nil {
		t.Fatal(err)
	}
	hear(t, heard, "after", "the announcement made after the restart")
}

// hear waits for the next campaign heard and fails unless it is want.
func hear(t *testing.T, heard <-chan string, want, what string) {
	t.Helper()
	select {
	case got := <-heard:
		if got != want {
			t.Fatalf("heard %q, want %q (%s)", got, want, what)
		}
	case <-time.After(30 * time.Second):
		t.Fatalf("%s: not heard within 30 s", what)
	}
}

// watch runs st.WatchControl until ctx is done, and returns, once it is
// subscribed, the channel of the campaigns it hears announced, and the
// one of what it returns.
func watch(ctx context.Context, t *testing.T, st *store.Store) (<-chan string, <-chan error) {
	t.Helper()
	heard := make(chan string, 100)
	subscribed := make(chan struct{})
	watched := make(chan error, 1)
	go func() {
		watched <- st.WatchControl(ctx, func() { close(subscribed) }, func(name string) { heard <- name })
	}()
	select {
	case <-subscribed:
	case err := <-watched:
		t.Fatalf("WatchControl: %v", err)
	case <-time.After(30 * time.Second):
		t.Fatal("not subscribed within 30 s")
	}
	return heard, watched
}
