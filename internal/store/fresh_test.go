package store_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/tidings-mail/tidings/internal/redistest"
	"github.com/tidings-mail/tidings/internal/store"
)

// TestStartChunkFresh: StartChunk says a chunk is fresh (its recipients
// have no ledger entry, so a worker need not read them) only on the first
// start of a chunk of a staging that found the ledger empty, and never
// when the ledger may hold an entry of the chunk: begun before (a worker
// killed after its start), a re-staging that kept a ledger (a deferred
// retry, rows skipped as delivered), a cancel's sweep, a staging by an
// earlier version, a Redis restored from a backup taken after the chunk's
// first claim. (A worker that claims without taking the chunk out of the
// fresh set sends nobody twice even so: the worker's
// TestWronglyFreshChunkSendsNobodyTwice.) Each row is its own campaign; on a single Redis and on
// Cluster (the rows that restore a backup: single only). Whatever the
// answer, a fresh chunk has no entry.
func TestStartChunkFresh(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	single := redistest.Start(t)
	clients := []struct {
		name string
		rdb  redis.UniversalClient
	}{{"single", single.Client()}}
	if !single.Embedded {
		clients = append(clients, struct {
			name string
			rdb  redis.UniversalClient
		}{"cluster", redistest.StartCluster(t, redistest.ClusterOptions{Replicas: -1}).ClusterClient()})
	}
	// claim claims r0 (chunk 0) and records outcome kind for it.
	claim := func(t *testing.T, st *store.Store, c string, sum *store.StageSummary, kind store.Kind) {
		t.Helper()
		tick(t, st, c, sum, store.TickParams{})
		l, p := st.Ledger(c, sum.Stage), store.Policy{MaxAttempts: 3}
		if r, err := l.Step(ctx, nil, []store.Claim{{ID: "r0", Lang: "de", Token: "w/1"}}, p, time.Now()); err != nil || first(r).Result != store.ClaimOK {
			t.Fatalf("claim r0: %+v, %v", r, err)
		}
		if _, err := l.Step(ctx, []store.Record{{ID: "r0", Lang: "de", Kind: kind, Code: "451", Token: "w/1"}}, nil, p, time.Now()); err != nil {
			t.Fatal(err)
		}
	}
	for i, tt := range []struct {
		name   string
		single bool // restores a backup: a single Redis only
		// setup stages campaign c and returns the chunk to start.
		setup func(t *testing.T, st *store.Store, rdb redis.UniversalClient, c string) int
		want  bool
	}{
		{"the first start of a chunk of a first staging", false, func(t *testing.T, st *store.Store, _ redis.UniversalClient, c string) int {
			stage(t, st, c, stageOpts{n: 20, size: 20})
			return 1
		}, true},
		{"a chunk begun before (a worker killed between its start and its first claim, a pass run again, a resume)", false, func(t *testing.T, st *store.Store, _ redis.UniversalClient, c string) int {
			stage(t, st, c, stageOpts{n: 20, size: 20})
			st.StartChunk(ctx, c, 1)
			return 1
		}, false},
		{"a re-staging that kept a delivery (--resume-existing): its chunk", false, func(t *testing.T, st *store.Store, _ redis.UniversalClient, c string) int {
			claim(t, st, c, stage(t, st, c, stageOpts{n: 20, size: 20}), store.KindSent)
			restageKept(t, st, c)
			return 0
		}, false},
		{"a re-staging that kept a delivery: a chunk without an entry", false, func(t *testing.T, st *store.Store, _ redis.UniversalClient, c string) int {
			claim(t, st, c, stage(t, st, c, stageOpts{n: 20, size: 20}), store.KindSent)
			restageKept(t, st, c)
			return 2
		}, false},
		{"a re-staging that kept a claim in doubt (left sending)", false, func(t *testing.T, st *store.Store, _ redis.UniversalClient, c string) int {
			sum := stage(t, st, c, stageOpts{n: 20, size: 20})
			tick(t, st, c, sum, store.TickParams{})
			if _, err := st.Ledger(c, sum.Stage).Step(ctx, nil, []store.Claim{{ID: "r0", Lang: "de", Token: "w/1"}}, store.Policy{MaxAttempts: 3}, time.Now()); err != nil {
				t.Fatal(err)
			}
			restageKept(t, st, c)
			return 0
		}, false},
		{"a re-staging that cleared the only entry, a deferred retry: fresh, and no entry", false, func(t *testing.T, st *store.Store, _ redis.UniversalClient, c string) int {
			claim(t, st, c, stage(t, st, c, stageOpts{n: 20, size: 20}), store.KindTemp)
			restageKept(t, st, c)
			return 0
		}, true},
		{"rows skipped as delivered in an earlier run (--exclude-delivered)", false, func(t *testing.T, st *store.Store, _ redis.UniversalClient, c string) int {
			stage(t, st, c, stageOpts{n: 20, size: 20, skipped: true})
			return 1
		}, false},
		{"a cancel swept the chunk before it began", false, func(t *testing.T, st *store.Store, _ redis.UniversalClient, c string) int {
			stage(t, st, c, stageOpts{n: 20, size: 20})
			if _, _, err := st.Cancel(ctx, c, who, "stop"); err != nil {
				t.Fatal(err)
			}
			return 1
		}, false},
		{"a worker of this version checked in", false, func(t *testing.T, st *store.Store, _ redis.UniversalClient, c string) int {
			stage(t, st, c, stageOpts{n: 20, size: 20})
			if _, err := st.CheckIn(ctx, c, "new-w", "*", "", nil, store.CheckInWindow); err != nil {
				t.Fatal(err)
			}
			return 1
		}, true},
		{"a staging by an earlier version (no fresh chunks)", false, func(t *testing.T, st *store.Store, rdb redis.UniversalClient, c string) int {
			stage(t, st, c, stageOpts{n: 20, size: 20})
			if err := rdb.Del(ctx, "tidings:{"+c+"}:fresh").Err(); err != nil {
				t.Fatal(err)
			}
			if err := rdb.HDel(ctx, "tidings:{"+c+"}:control", "fresh_stage").Err(); err != nil {
				t.Fatal(err)
			}
			return 1
		}, false},
		{"staged again by an earlier version, which leaves this one's fresh chunks", false, func(t *testing.T, st *store.Store, rdb redis.UniversalClient, c string) int {
			stage(t, st, c, stageOpts{n: 20, size: 20})
			if err := rdb.HSet(ctx, "tidings:{"+c+"}:control", "stage", "staged-by-an-earlier-send").Err(); err != nil {
				t.Fatal(err)
			}
			return 1
		}, false},
		{"Redis restored from a backup taken after the chunk's first claim", true, func(t *testing.T, st *store.Store, rdb redis.UniversalClient, c string) int {
			sum := stage(t, st, c, stageOpts{n: 20, size: 20})
			st.StartChunk(ctx, c, 0)
			claim(t, st, c, sum, store.KindTemp)
			restore(t, rdb.(*redis.Client), c, backup(t, rdb.(*redis.Client), c))
			return 0
		}, false},
		{"Redis restored from a backup taken before the chunk began: fresh, and no entry", true, func(t *testing.T, st *store.Store, rdb redis.UniversalClient, c string) int {
			sum := stage(t, st, c, stageOpts{n: 20, size: 20})
			b := backup(t, rdb.(*redis.Client), c)
			st.StartChunk(ctx, c, 0)
			claim(t, st, c, sum, store.KindSent)
			restore(t, rdb.(*redis.Client), c, b)
			return 0
		}, true},
	} {
		for _, cl := range clients {
			if tt.single && cl.name != "single" {
				continue
			}
			t.Run(cl.name+"/"+tt.name, func(t *testing.T) {
				if tt.single && single.Embedded {
					// The rows that restore a backup use DUMP and RESTORE,
					// which miniredis has for strings only.
					t.Skip("restoring a backup needs a real redis-server (CI=true requires one)")
				}
				st := store.New(cl.rdb)
				c := fmt.Sprint("fresh-", i)
				n := tt.setup(t, st, cl.rdb, c)
				got := st.StartChunk(ctx, c, n)
				if got.Err != nil || got.ChunkErr != nil || len(got.Recs) == 0 {
					t.Fatalf("start chunk %d: %v, %v, %d recipients", n, got.Err, got.ChunkErr, len(got.Recs))
				}
				if got.Fresh != tt.want {
					t.Errorf("chunk %d fresh: %v; want %v", n, got.Fresh, tt.want)
				}
				if again := st.StartChunk(ctx, c, n); again.Fresh {
					t.Errorf("chunk %d fresh on its second start", n)
				}
				es, err := st.Entries(ctx, c, store.IDs(got.Recs))
				if err != nil {
					t.Fatal(err)
				}
				for i, e := range es {
					if got.Fresh && e != (store.Entry{}) {
						t.Errorf("chunk %d fresh, and its recipient %s has an entry: %+v", n, got.Recs[i].ID, e)
					}
				}
			})
		}
	}
}

// restageKept pauses campaign c and stages it again, keeping its ledger
// (--resume-existing).
func restageKept(t *testing.T, st *store.Store, c string) {
	t.Helper()
	if _, err := st.Pause(context.Background(), c, who, "to stage it again"); err != nil {
		t.Fatal(err)
	}
	stage(t, st, c, stageOpts{n: 20, size: 20, resume: true})
}

// backup dumps every key of campaign c (a snapshot of its state).
func backup(t *testing.T, rdb *redis.Client, c string) map[string]string {
	t.Helper()
	ctx := context.Background()
	keys, err := rdb.Keys(ctx, "tidings:{"+c+"}:*").Result()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, k := range keys {
		v, err := rdb.Dump(ctx, k).Result()
		if err != nil {
			t.Fatal(err)
		}
		out[k] = v
	}
	return out
}

// restore puts campaign c back as backup b has it: its keys not in b go.
func restore(t *testing.T, rdb *redis.Client, c string, b map[string]string) {
	t.Helper()
	ctx := context.Background()
	now, err := rdb.Keys(ctx, "tidings:{"+c+"}:*").Result()
	if err != nil {
		t.Fatal(err)
	}
	if len(now) > 0 {
		if err := rdb.Del(ctx, now...).Err(); err != nil {
			t.Fatal(err)
		}
	}
	for k, v := range b {
		if err := rdb.Restore(ctx, k, 0, v).Err(); err != nil {
			t.Fatal(err)
		}
	}
}
