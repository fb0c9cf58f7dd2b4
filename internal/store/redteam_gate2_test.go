package store_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/tidings-mail/tidings/internal/redistest"
	"github.com/tidings-mail/tidings/internal/store"
)

// TestRedTeamGate2CheckInsOnCluster: Store.CheckIns on a real Redis
// Cluster (its pipeline splits per node): 40 campaigns over every master,
// first with the script loaded nowhere (NOSCRIPT on every node), then
// flushed from one master only (NOSCRIPT on one node, the others
// answering EVALSHA), then with it everywhere; every campaign Redis has is
// checked in with its state, and a campaign gone writes nothing.
func TestRedTeamGate2CheckInsOnCluster(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	cl := redistest.StartCluster(t, redistest.ClusterOptions{Replicas: -1})
	rdb := cl.ClusterClient()
	s := store.New(rdb)
	checked := map[string]string{}
	for i := range 40 {
		c := fmt.Sprintf("rt2-c%02d", i)
		rdb.HSet(ctx, "tidings:{"+c+"}:control", "state", "running")
		checked[c] = fmt.Sprintf("%d/", 1000+i)
	}
	checked["rt2-gone"] = "1/"
	masters, err := cl.Masters(ctx)
	if err != nil {
		t.Fatal(err)
	}
	verify := func(what, worker string) {
		t.Helper()
		for c, want := range checked {
			v, err := rdb.HGet(ctx, "tidings:{"+c+"}:checkins", worker).Result()
			if c == "rt2-gone" {
				if err != redis.Nil {
					t.Errorf("%s: a campaign gone was checked in: %q %v", what, v, err)
				}
				continue
			}
			if _, got, _ := strings.Cut(v, " "); got != want {
				t.Errorf("%s: %s checked in %q (%v), want %q", what, c, v, err, want)
			}
		}
	}
	for _, m := range masters {
		m.Client().ScriptFlush(ctx)
	}
	if err := s.CheckIns(ctx, "w1", checked, store.CheckInWindow); err != nil {
		t.Errorf("no node has the script: %v", err)
	}
	verify("no node has the script", "w1")
	masters[0].Client().ScriptFlush(ctx)
	if err := s.CheckIns(ctx, "w2", checked, store.CheckInWindow); err != nil {
		t.Errorf("one node lacks the script: %v", err)
	}
	verify("one node lacks the script", "w2")
	if err := s.CheckIns(ctx, "w3", checked, store.CheckInWindow); err != nil {
		t.Errorf("every node has the script: %v", err)
	}
	verify("every node has the script", "w3")
	// Alive and Awaited on Cluster too.
	if _, _, err := s.Alive(ctx, "rt2", "w3", store.CheckInWindow); err != nil {
		t.Fatal(err)
	}
	key, err := s.StateKey(ctx, "rt2-c00", time.UnixMilli(1000))
	if err != nil || !strings.HasPrefix(key, "1000/") || len(key) != 5+40 {
		t.Fatalf("StateKey on Cluster = %q, %v; want the time and the run id of the master serving the campaign", key, err)
	}
	aw, err := s.Awaited(ctx, "rt2-c00", "rt2", key)
	if err != nil || len(aw) != 0 {
		t.Errorf("Awaited on Cluster = %v, %v; want none (w3 checked 1000/, no run id: it matches any)", aw, err)
	}
}
