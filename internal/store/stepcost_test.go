package store_test

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/tidings-mail/tidings/internal/store"
)

// commandStats reads INFO commandstats: calls and usec by command (lower
// case, without the cmdstat_ prefix).
func commandStats(tb testing.TB, rdb *redis.Client) (calls, usec map[string]float64) {
	tb.Helper()
	info, err := rdb.Info(context.Background(), "commandstats").Result()
	if err != nil {
		tb.Fatal(err)
	}
	calls, usec = map[string]float64{}, map[string]float64{}
	for line := range strings.SplitSeq(info, "\n") {
		k, v, ok := strings.Cut(strings.TrimSpace(line), ":")
		name, isCmd := strings.CutPrefix(k, "cmdstat_")
		if !ok || !isCmd {
			continue
		}
		for f := range strings.SplitSeq(v, ",") {
			key, val, _ := strings.Cut(f, "=")
			n, _ := strconv.ParseFloat(val, 64)
			switch key {
			case "calls":
				calls[name] = n
			case "usec":
				usec[name] = n
			}
		}
	}
	return calls, usec
}

// BenchmarkStepCost measures what Redis spends per message on the worker's
// hot path, the way the worker drives the ledger with its default claim
// window (16): each step records the outcomes of the previous window
// (sent, with smtp-sink's reply and the worker's claim tokens and sender
// counter) and claims the next window. One caller, so every step is one
// EVALSHA of exactly one window: the number and the size of the calls do
// not depend on how busy the machine is (BenchmarkStep's 8 callers share
// round trips, as many as the scheduling allows).
//
// It reports per message: Redis's CPU (INFO cpu, user + sys:
// redis-cpu-us/msg), the time Redis counted inside EVALSHA (INFO
// commandstats usec, which includes the commands the script calls:
// evalsha-us/msg) and the commands Redis executed, those a script calls
// included (redis-calls/msg). On a shared machine the first two grow with
// the load; run it with -count and read the smallest values (contention
// only adds to them). For a count of instructions, which the load does
// not move, run it against a redis-server under callgrind
// (bench/README.md).
//
// window=16 is the worker's default; 4 and 64 split what a script call
// costs from what a message costs; 32 is the trade a larger default would
// make (docs/benchmarks.md).
func BenchmarkStepCost(b *testing.B) {
	for _, window := range []int{16, 4, 32, 64} {
		b.Run(fmt.Sprintf("window=%d", window), func(b *testing.B) { benchmarkStepCost(b, window, 3) })
	}
}

// BenchmarkStepCostLangs is BenchmarkStepCost at the default window with
// the recipients in 1 or 6 languages (the bench's mail has 6) instead of
// 3: each language a window holds costs every call its counter's
// HINCRBY and its (language, batch) pair's two values (docs/benchmarks.md).
// (The campaign is staged in 3 languages as in BenchmarkStepCost: the step
// reads no language of the staging.)
func BenchmarkStepCostLangs(b *testing.B) {
	for _, n := range []int{1, 6} {
		b.Run(fmt.Sprintf("langs=%d", n), func(b *testing.B) { benchmarkStepCost(b, 16, n) })
	}
}

func benchmarkStepCost(b *testing.B, window, nlangs int) {
	rdb := startRedis(b)
	st := store.New(rdb)
	ctx := context.Background()
	n := max(b.N, window) + window
	sum := stage(b, st, "cost", stageOpts{n: n, size: n})
	tick(b, st, "cost", sum, store.TickParams{})
	l := st.Ledger("cost", sum.Stage)
	// The worker's defaults (campaign auto_pause) and its sender counter.
	p := store.Policy{MaxAttempts: 3, Window: 200, ErrorRate: 0.2, MinAttempts: 50,
		Host: "bench-host", Env: "bench", Sender: "20261204T203000.123456789Z-1a2b|bench-host-12345-9f8e7d"}
	langs := []string{"de", "fr", "en", "it", "ja", "ar"}[:nlangs]
	token := 0
	claim := func(i int) store.Claim {
		token++
		return store.Claim{ID: fmt.Sprint("r", i), Lang: langs[i%nlangs], Token: "bench-host-12345-9f8e7d/" + strconv.FormatInt(int64(token), 36)}
	}
	cpu0 := redisCPU(b, rdb)
	calls0, usec0 := commandStats(b, rdb)
	b.ResetTimer()
	var recs []store.Record
	for i := 0; i < b.N || len(recs) > 0; {
		var cls []store.Claim
		for ; len(cls) < window && i < b.N; i++ {
			cls = append(cls, claim(i))
		}
		res, err := l.Step(ctx, recs, cls, p, time.Now())
		if err != nil {
			b.Fatal(err)
		}
		recs = recs[:0]
		for j, a := range res.Claims {
			if a.Result != store.ClaimOK {
				b.Fatalf("claim of %s: %v", cls[j].ID, a.Result)
			}
			recs = append(recs, store.Record{ID: cls[j].ID, Lang: cls[j].Lang, Kind: store.KindSent, Code: "250",
				Response: "2.0.0 Ok: queued as 4XyZ1k2Lm3", Token: cls[j].Token})
		}
	}
	b.StopTimer()
	calls1, usec1 := commandStats(b, rdb)
	var ncalls float64
	for k, v := range calls1 {
		if k != "info" {
			ncalls += v - calls0[k]
		}
	}
	per := float64(b.N)
	b.ReportMetric((redisCPU(b, rdb)-cpu0)/per*1e6, "redis-cpu-us/msg")
	b.ReportMetric((usec1["evalsha"]-usec0["evalsha"])/per, "evalsha-us/msg")
	b.ReportMetric(ncalls/per, "redis-calls/msg")
	s, err := st.Status(ctx, "cost")
	if err != nil {
		b.Fatal(err)
	}
	if s.Counts[store.OutcomeSent] != int64(b.N) {
		b.Fatalf("sent %d, want %d", s.Counts[store.OutcomeSent], b.N)
	}
}
