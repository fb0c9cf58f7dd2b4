package worker_test

import (
	"context"
	"fmt"
	"os"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/tidings-mail/tidings/internal/redistest"
	"github.com/tidings-mail/tidings/internal/store"
	"github.com/tidings-mail/tidings/internal/wait"
)

// TestWorkerThroughThirtyCampaignsDoesNotGrow: one worker, running as
// for weeks, sends 30 small campaigns one after the other. What it holds
// must not grow with the campaigns it finished: its goroutines, the keys
// without a TTL outside the campaigns' own (asynq's, the registries), and
// what each finished campaign keeps in Redis (the same keys for every
// campaign, none added once it is done). Measured at campaign 5 (once the
// worker has settled: its SMTP connections, its loops) and at campaign 30:
// counts, not times. Goroutines are counted but the embedded Redis
// server's (miniredis, where no redis-server is installed: one per client
// connection, which a real redis-server runs in its own process): one
// connection opened after campaign 5 failed the test under load with
// miniredis while the worker held no more goroutines (ownGoroutines).
// That connection, seen again with redis-server under load (one or two
// more after campaign 5 in 10 runs of 30 campaigns at -cpu 1, load 30-45,
// each matched by the client's PoolStats), is one of go-redis's pools
// growing to the most commands, or pipelines, it ever ran at once: its
// pool (up to PoolSize) and, in 9.23 (go.mod's), a pool of its own for
// pipelines (up to redis.DefaultPipelinePoolSize, 10), whose idle
// connections are kept for reuse (30 min): a high-water mark, bounded,
// not a leak. So the Redis connections are not counted against campaign
// 5's; each must be one of the worker's client's (namedConns, pooledConns),
// which a client opened aside and kept open fails (mutation check).
// Each finished campaign's keys stay (docs/design.md's data model;
// README's "What tidings keeps in Redis"): they are what keeps its report,
// and what keeps a send of it again from mailing anyone twice.
func TestWorkerThroughThirtyCampaignsDoesNotGrow(t *testing.T) {
	e := newEnv(t, nil)
	// The worker's client has a name of its own, so that its connections
	// are told from any other client's (another test's left open on this
	// database before, another process's on a shared Redis).
	o := e.rdb.Options()
	rdb := redis.NewClient(&redis.Options{Addr: o.Addr, Password: o.Password, DB: o.DB, ClientName: fmt.Sprintf("longrun-%d-%d", os.Getpid(), o.DB)})
	t.Cleanup(func() { _ = rdb.Close() })
	e.startWorker(t, wopts{rdb: rdb})
	const first, last = 5, 30
	var goroutinesAt, globalAt int
	own := map[string]int{} // campaign -> its keys without a TTL, when it ended
	for i := 1; i <= last; i++ {
		name := fmt.Sprintf("long-%02d", i)
		domain := name + ".example" // each campaign its own addresses: checkReconcile counts by address
		e.stage(t, opts{name: name, n: 20, domain: func(int) string { return domain }})
		e.waitState(t, 2*time.Minute, store.StateDone)
		if sent := e.checkReconcile(t).Counts[store.OutcomeSent]; sent != 20 {
			t.Fatalf("%s: %d sent, want 20", name, sent)
		}
		own[name] = len(persistentKeys(t, e, "tidings:{"+name+"}:*"))
		switch i {
		case first:
			goroutinesAt, globalAt = ownGoroutines(), len(globalKeys(t, e))
		case last:
			// Goroutines of a chunk that just ended may still be on
			// their way out: polled until back at campaign 5's count.
			wait.For(t, time.Minute, fmt.Sprintf("goroutines (but the embedded Redis server's) back at %d (campaign %d's)", goroutinesAt, first), func() bool {
				return ownGoroutines() <= goroutinesAt
			})
			if !redistest.Start(t).Embedded { // miniredis has no CLIENT LIST
				var conns, pooled int
				wait.For(t, time.Minute, "every connection of the worker's client to be one of its pools'", func() bool {
					conns, pooled = namedConns(t, rdb), pooledConns(rdb)
					return conns == pooled
				}, func() string {
					return fmt.Sprintf("%d connections, %d in the pools: %+v", conns, pooled, *rdb.PoolStats())
				})
			}
			if g := globalKeys(t, e); len(g) > globalAt {
				t.Errorf("keys without a TTL outside the campaigns: %d after campaign %d, %d after campaign %d: %v", globalAt, first, len(g), last, g)
			}
		}
	}
	// What each keeps now: the same keys as the first, which ended 29
	// campaigns ago. A worker may still write a key of a campaign just
	// after it reaches done (its last chunk's end, the notice of its end:
	// a CI run under a load of 50-70 saw long-29 end with 12 keys and keep
	// 14, as every other did), so the latest campaigns are polled until
	// theirs are the first's; none may keep more, or other, keys.
	firstKeys := keySuffixes(persistentKeys(t, e, "tidings:{long-01}:*"))
	for i := 2; i <= last; i++ {
		name := fmt.Sprintf("long-%02d", i)
		var keys string
		settled := func() bool {
			keys = keySuffixes(persistentKeys(t, e, "tidings:{"+name+"}:*"))
			return keys == firstKeys
		}
		if !settled() {
			wait.For(t, time.Minute, fmt.Sprintf("%s's keys (%s; %d when it ended) to be long-01's (%s)", name, keys, own[name], firstKeys), settled)
		}
	}
}

// namedConns counts the connections Redis has open under rdb's client name.
func namedConns(t *testing.T, rdb *redis.Client) int {
	t.Helper()
	list, err := rdb.ClientList(context.Background()).Result()
	if err != nil {
		t.Fatal(err)
	}
	name := " name=" + rdb.Options().ClientName + " "
	n := 0
	for l := range strings.Lines(list) {
		if strings.Contains(l, name) {
			n++
		}
	}
	return n
}

// pooledConns counts the connections rdb holds: its pool's, its pool for
// pipelines' (go-redis 9.23, go.mod's, keeps one of its own, up to
// redis.DefaultPipelinePoolSize), and its subscriptions'.
func pooledConns(rdb *redis.Client) int {
	ps := rdb.PoolStats()
	n := int(ps.TotalConns) + int(ps.PubSubStats.Active)
	if ps.PipelineStats != nil {
		n += int(ps.PipelineStats.TotalConns)
	}
	return n
}

// ownGoroutines counts the goroutines of this process but those of an
// embedded Redis server (miniredis's, by their stacks): the worker's, the
// test's and the SMTP capture server's.
func ownGoroutines() int {
	buf := make([]byte, 1<<20)
	n := runtime.Stack(buf, true)
	for n == len(buf) {
		buf = make([]byte, 2*len(buf))
		n = runtime.Stack(buf, true)
	}
	count := 0
	for g := range strings.SplitSeq(string(buf[:n]), "\n\n") {
		if !strings.Contains(g, "github.com/alicebob/miniredis/") {
			count++
		}
	}
	return count
}

// keySuffixes returns the names of a campaign's keys after its
// "tidings:{c}:" prefix, sorted and joined with spaces.
func keySuffixes(keys []string) string {
	out := make([]string, len(keys))
	for i, k := range keys {
		out[i] = k[strings.Index(k, "}:")+2:]
	}
	slices.Sort(out)
	return strings.Join(out, " ")
}

// persistentKeys returns the keys matching pattern that carry no TTL.
func persistentKeys(t *testing.T, e *env, pattern string) []string {
	t.Helper()
	ctx := context.Background()
	var out []string
	iter := e.rdb.Scan(ctx, 0, pattern, 100).Iterator()
	for iter.Next(ctx) {
		if ttl, err := e.rdb.PTTL(ctx, iter.Val()).Result(); err != nil {
			t.Fatal(err)
		} else if ttl == -1 {
			out = append(out, iter.Val())
		}
	}
	if err := iter.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// globalKeys returns the keys without a TTL that belong to no campaign.
func globalKeys(t *testing.T, e *env) []string {
	t.Helper()
	var out []string
	for _, k := range persistentKeys(t, e, "*") {
		if !strings.HasPrefix(k, "tidings:{") {
			out = append(out, k)
		}
	}
	return out
}
