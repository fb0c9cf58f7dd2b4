package store_test

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/tidings-mail/tidings/internal/store"
)

// redisCPU reads the CPU seconds redis-server has used (user + system).
func redisCPU(tb testing.TB, rdb *redis.Client) float64 {
	tb.Helper()
	info, err := rdb.Info(context.Background(), "cpu").Result()
	if err != nil {
		tb.Fatal(err)
	}
	var sum float64
	for _, line := range strings.Split(info, "\n") {
		k, v, ok := strings.Cut(strings.TrimSpace(line), ":")
		if ok && (k == "used_cpu_sys" || k == "used_cpu_user") {
			f, _ := strconv.ParseFloat(v, 64)
			sum += f
		}
	}
	return sum
}

// BenchmarkStep measures ledger steps on the hot path (record the previous
// recipient as sent, claim the next) from 8 goroutines, as a worker with 8
// SMTP connections makes them, and reports the Redis CPU per step
// (redis-us/op) besides the client's time.
func BenchmarkStep(b *testing.B) {
	rdb := startRedis(b)
	st := store.New(rdb)
	ctx := context.Background()
	n := max(b.N, 10)
	sum := stage(b, st, "bench", stageOpts{n: n, size: n})
	tick(b, st, "bench", sum, store.TickParams{})
	l := st.Ledger("bench", sum.Stage)
	p := store.Policy{MaxAttempts: 3, Window: 1000, ErrorRate: 0.5, MinAttempts: 20}
	langs := []string{"de", "fr", "en"}
	var next atomic.Int64
	cpu0 := redisCPU(b, rdb)
	b.ReportAllocs()
	b.SetParallelism(4) // 8 goroutines on 2 cores
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		var prev *store.Record
		for pb.Next() {
			i := int(next.Add(1) - 1)
			id := fmt.Sprint("r", i)
			res, err := l.Step(ctx, prev, &store.Claim{ID: id, Lang: langs[i%3], Token: id}, p, time.Now())
			if err != nil || res.Claim != store.ClaimOK {
				b.Errorf("step %d: %v %v", i, res.Claim, err)
				return
			}
			prev = &store.Record{ID: id, Lang: langs[i%3], Kind: store.KindSent, Code: "250", Response: "2.0.0 Ok: queued as 4XyZ"}
		}
		if prev != nil {
			if _, err := l.Step(ctx, prev, nil, p, time.Now()); err != nil {
				b.Error(err)
			}
		}
	})
	b.StopTimer()
	b.ReportMetric((redisCPU(b, rdb)-cpu0)/float64(b.N)*1e6, "redis-us/op")
	s, err := st.Status(ctx, "bench")
	if err != nil {
		b.Fatal(err)
	}
	if s.Counts[store.OutcomeSent] != int64(b.N) {
		b.Fatalf("sent %d, want %d", s.Counts[store.OutcomeSent], b.N)
	}
}

// TestStepConcurrent has several goroutines claim the same recipients
// through one Ledger (their steps share round trips): each recipient is
// claimed exactly once, and a recipient claimed but never recorded (a
// crash) is in doubt, never claimed again.
func TestStepConcurrent(t *testing.T) {
	t.Parallel()
	st := store.New(startRedis(t))
	ctx := context.Background()
	const n = 300
	sum := stage(t, st, "conc", stageOpts{n: n, size: n})
	tick(t, st, "conc", sum, store.TickParams{})
	l := st.Ledger("conc", sum.Stage)
	p := store.Policy{Window: 100, ErrorRate: 0.5, MinAttempts: 10}
	var claimed [n]atomic.Int32
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			token := 0
			defer wg.Done()
			var prev *store.Record
			for i := 0; i < n; i++ {
				id := fmt.Sprint("r", i)
				token++
				res, err := l.Step(ctx, prev, &store.Claim{ID: id, Lang: "de", Token: fmt.Sprint(g, "/", token)}, p, time.Now())
				prev = nil
				if err != nil {
					t.Error(err)
					return
				}
				if res.Claim == store.ClaimOK {
					claimed[i].Add(1)
					if i%10 != 9 { // every tenth is left "sending", as by a crash
						prev = &store.Record{ID: id, Lang: "de", Kind: store.KindSent, Code: "250"}
					}
				} else if res.Claim != store.ClaimSkip {
					t.Errorf("claim of %s: %v", id, res.Claim)
				}
			}
			if prev != nil {
				if _, err := l.Step(ctx, prev, nil, p, time.Now()); err != nil {
					t.Error(err)
				}
			}
		}()
	}
	wg.Wait()
	for i := range claimed {
		if c := claimed[i].Load(); c != 1 {
			t.Errorf("r%d claimed %d times", i, c)
		}
	}
	// Claim every recipient once more: the unrecorded ones become in doubt.
	for i := 0; i < n; i++ {
		if res, err := l.Step(ctx, nil, &store.Claim{ID: fmt.Sprint("r", i), Lang: "de", Token: "again"}, p, time.Now()); err != nil || res.Claim != store.ClaimSkip {
			t.Fatalf("claim again r%d: %v %v", i, res.Claim, err)
		}
	}
	s, err := st.Status(ctx, "conc")
	if err != nil {
		t.Fatal(err)
	}
	if s.Counts[store.OutcomeSent] != n*9/10 || s.Counts[store.OutcomeInDoubt] != n/10 || s.Counts[store.OutcomePending] != 0 {
		t.Fatalf("counts %v", s.Counts)
	}
}
