package store

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/tidings-mail/tidings/internal/redistest"
)

// TestWaitClientCacheHoldsOnlyTheLiveNodes: on Redis Cluster the store
// keeps, per master, a clone of go-redis's node client with room for a
// WAIT (waitClient). go-redis closes a node's client and makes a new one
// when the topology is reloaded (its cluster state's GC drops a node that
// left the slots map; a failover or resharding brings it back), so a cache
// keyed by client grew by one closed client per replacement, for as long
// as the worker ran. Here every node client is replaced at once (the first
// cluster client is closed, as GC closes its nodes, and a second one
// serves the same nodes): the cache holds one entry per master, each for
// the live client, and WAIT still answers through it.
func TestWaitClientCacheHoldsOnlyTheLiveNodes(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	cl := redistest.StartCluster(t, redistest.ClusterOptions{Replicas: -1})
	masters, err := cl.Masters(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// A read timeout shorter than a WAIT of AckTimeout (and waitMargin),
	// so that waitClient clones, yet long enough for any round trip of a
	// loaded machine: the test is of the cache, not of speed (300 ms used
	// to be asked of every reply here, WAIT's beyond its own timeout).
	const readTimeout = 3 * time.Second
	newClient := func() *redis.ClusterClient {
		o := cl.ClusterOptions()
		o.ReadTimeout = readTimeout
		return redis.NewClusterClient(o)
	}
	first := newClient()
	// No replica acknowledges: every WAIT answers 0 after AckTimeout.
	s := NewWithConfig(first, Config{ReplicaAcks: 1, AckTimeout: readTimeout - waitMargin + 500*time.Millisecond})

	// One key on each master.
	var keys []string
	seen := map[string]bool{}
	for i := 0; len(keys) < len(masters) && i < 10000; i++ {
		k := fmt.Sprintf("tidings:{w%d}:x", i)
		m, err := first.MasterForKey(ctx, k)
		if err != nil {
			t.Fatal(err)
		}
		if a := m.Options().Addr; !seen[a] {
			seen[a] = true
			keys = append(keys, k)
		}
	}
	if len(keys) != len(masters) {
		t.Fatalf("found keys on %d of %d masters", len(keys), len(masters))
	}
	write := func(round string) {
		t.Helper()
		for _, k := range keys {
			ack, err := s.pipeWait(ctx, k, func(p redis.Pipeliner) { p.Set(ctx, k, round, 0) })
			if _, isAck := ack.(*AckError); err != nil || !isAck {
				t.Fatalf("%s: write %s: ack %v, err %v; want WAIT's answer, an *AckError (no replica)", round, k, ack, err)
			}
		}
	}
	write("first")

	// Every node client is replaced, as a topology reload does.
	if err := first.Close(); err != nil {
		t.Fatal(err)
	}
	second := newClient()
	t.Cleanup(func() { _ = second.Close() })
	s.rdb = second
	write("second")

	var (
		mu   sync.Mutex // ForEachMaster calls fn on every master at once
		live []*redis.Client
	)
	if err := second.ForEachMaster(ctx, func(_ context.Context, c *redis.Client) error {
		mu.Lock()
		defer mu.Unlock()
		live = append(live, c)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	n := 0
	s.waits.Range(func(k, v any) bool {
		n++
		if e, ok := v.(waitEntry); !ok || !slices.Contains(live, e.base) {
			t.Errorf("the cache holds %v for %v, not a clone of a live node client", v, k)
		}
		return true
	})
	if n != len(masters) {
		t.Errorf("the cache holds %d clients after every node client was replaced once, want %d (one per master)", n, len(masters))
	}
}
