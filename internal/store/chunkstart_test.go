package store_test

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/tidings-mail/tidings/internal/redistest"
	"github.com/tidings-mail/tidings/internal/store"
)

// TestStartChunk: what StartChunk reads in one round trip (the control,
// its state key, the chunk) is what Control, StateKey and Chunk read one
// after another, errors included: a chunk Redis lost, a campaign it does
// not have; on a single Redis and on Cluster (INFO on the slot's master).
func TestStartChunk(t *testing.T) {
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
	for _, cl := range clients {
		st := store.New(cl.rdb)
		stage(t, st, "sc-run", stageOpts{n: 20, size: 20})
		stage(t, st, "sc-lost", stageOpts{n: 20, size: 20})
		if err := cl.rdb.Del(ctx, "tidings:{sc-lost}:chunk:1").Err(); err != nil {
			t.Fatal(err)
		}
		for _, tt := range []struct {
			name, campaign string
			chunk          int
			wantErr        error // of the control
			wantLost       bool  // of the chunk
		}{
			{"a chunk of a running campaign", "sc-run", 0, nil, false},
			{"the last chunk, shorter", "sc-run", 2, nil, false},
			{"a chunk Redis lost", "sc-lost", 1, nil, true},
			{"a chunk past the last", "sc-run", 9, nil, true},
			{"a campaign Redis does not have", "sc-none", 0, store.ErrNotFound, true},
		} {
			got := st.StartChunk(ctx, tt.campaign, tt.chunk)
			ctl, cerr := st.Control(ctx, tt.campaign)
			var key string
			if cerr == nil {
				key, cerr = st.StateKey(ctx, tt.campaign, ctl.At)
			}
			recs, rerr := st.Chunk(ctx, tt.campaign, tt.chunk)
			if !errors.Is(got.Err, tt.wantErr) || (got.Err == nil) != (cerr == nil) || (got.Err != nil && got.Err.Error() != cerr.Error()) {
				t.Errorf("%s, %s: control error %v; want %v (Control and StateKey: %v)", cl.name, tt.name, got.Err, tt.wantErr, cerr)
			}
			if cerr == nil && (!reflect.DeepEqual(got.Control, ctl) || got.Key != key || key == "") {
				t.Errorf("%s, %s: control %+v, key %q; want %+v, %q", cl.name, tt.name, got.Control, got.Key, ctl, key)
			}
			_, lost := errors.AsType[*store.LostChunksError](got.ChunkErr)
			if lost != tt.wantLost || !reflect.DeepEqual(got.Recs, recs) || (got.ChunkErr == nil) != (rerr == nil) ||
				(rerr != nil && got.ChunkErr.Error() != rerr.Error()) {
				t.Errorf("%s, %s: chunk %d recipients, %v; want lost %v, %d recipients, %v", cl.name, tt.name, len(got.Recs), got.ChunkErr, tt.wantLost, len(recs), rerr)
			}
			if !tt.wantLost && len(got.Recs) == 0 {
				t.Errorf("%s, %s: no recipients read", cl.name, tt.name)
			}
		}
	}
}

// BenchmarkChunkStart measures what a chunk's start costs Redis: reads=3
// is how a chunk read its campaign's control, the state key's run id
// (INFO) and its recipients before StartChunk, one request each; reads=1
// is StartChunk, the three in one request. It reports Redis's CPU per
// chunk start (user and system: a request's read, parse, reply and the
// event loop's wake-up are most of what the three commands cost) and the
// requests Redis read per chunk start (INFO stats). Run both
// alternately, or against a redis-server under callgrind for instructions
// (bench/README.md; docs/benchmarks.md, "What a chunk costs Redis").
func BenchmarkChunkStart(b *testing.B) {
	for _, reads := range []int{3, 1} {
		b.Run(fmt.Sprintf("reads=%d", reads), func(b *testing.B) {
			rdb := startRedis(b)
			st := store.New(rdb)
			ctx := context.Background()
			stage(b, st, "start", stageOpts{n: 7, size: 7})
			cpu0, reads0 := redisCPU(b, rdb), redisReads(b, rdb)
			b.ResetTimer()
			for range b.N {
				if reads == 1 {
					if cs := st.StartChunk(ctx, "start", 0); cs.Err != nil || cs.ChunkErr != nil {
						b.Fatal(cs.Err, cs.ChunkErr)
					}
					continue
				}
				ctl, err := st.Control(ctx, "start")
				if err != nil {
					b.Fatal(err)
				}
				if _, err := st.StateKey(ctx, "start", ctl.At); err != nil {
					b.Fatal(err)
				}
				if _, err := st.Chunk(ctx, "start", 0); err != nil {
					b.Fatal(err)
				}
			}
			b.StopTimer()
			b.ReportMetric((redisCPU(b, rdb)-cpu0)/float64(b.N)*1e6, "redis-cpu-us/chunk")
			// Less the INFO stats that read it.
			b.ReportMetric(float64(redisReads(b, rdb)-reads0-1)/float64(b.N), "redis-reads/chunk")
		})
	}
}

// redisReads returns the read events Redis processed (INFO stats
// total_reads_processed): one a request, a pipeline's commands one.
func redisReads(tb testing.TB, rdb *redis.Client) int64 {
	tb.Helper()
	info, err := rdb.Info(context.Background(), "stats").Result()
	if err != nil {
		tb.Fatal(err)
	}
	for line := range strings.Lines(info) {
		if v, ok := strings.CutPrefix(line, "total_reads_processed:"); ok {
			n, _ := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
			return n
		}
	}
	tb.Fatal("INFO stats has no total_reads_processed")
	return 0
}

// BenchmarkChunkStartEntries measures what a chunk of 200 recipients costs
// Redis before its first claim: read, its start (StartChunk) and the read
// of its recipients' ledger entries (Entries, one HMGET of 200 ids), what
// every chunk start did before chunks were known fresh and what one that
// had begun still does; fresh, the start of a chunk nobody had begun
// (StartChunk says so: no entries read). It reports Redis's CPU per chunk
// start (INFO cpu), the commands' own time (INFO commandstats' usec) and
// the requests Redis read (INFO stats). Staging (at least 500 chunks)
// comes before the timer and the counters.
func BenchmarkChunkStartEntries(b *testing.B) {
	for _, mode := range []string{"read", "fresh"} {
		b.Run(mode, func(b *testing.B) {
			rdb := startRedis(b)
			st := store.New(rdb)
			ctx := context.Background()
			c := "start-" + mode
			// At least 500 chunks: the same staging (and the same starts
			// before the timer) for any b.N up to 500, so that the
			// difference of two runs' instructions (callgrind) is the
			// chunk starts' alone.
			chunks := max(b.N, 500)
			stage(b, st, c, stageOpts{n: 200 * chunks, size: 200 * chunks, chunk: 200})
			if mode == "read" { // every chunk begun before
				for i := range chunks {
					st.StartChunk(ctx, c, i)
				}
			}
			// The ledger as the campaign's other chunks left it: 100,000
			// entries of other recipients (an HMGET's cost grows with the
			// hash it looks its fields up in; of an absent key it is none).
			p := rdb.Pipeline()
			for i := range 100_000 {
				p.HSet(ctx, "tidings:{"+c+"}:ledger", fmt.Sprint("other-", i), "sent|1|1764900000000|250||2.0.0 Ok: queued as 4f1c2a")
				if p.Len() == 1000 {
					if _, err := p.Exec(ctx); err != nil {
						b.Fatal(err)
					}
				}
			}
			cpu0, cmd0, reads0 := redisCPU(b, rdb), redisCommandsUsec(b, rdb), redisReads(b, rdb)
			b.ResetTimer()
			for i := range b.N {
				cs := st.StartChunk(ctx, c, i)
				if cs.Err != nil || cs.ChunkErr != nil || len(cs.Recs) != 200 || cs.Fresh != (mode == "fresh") {
					b.Fatal(cs.Err, cs.ChunkErr, len(cs.Recs), cs.Fresh)
				}
				if !cs.Fresh {
					if _, err := st.Entries(ctx, c, store.IDs(cs.Recs)); err != nil {
						b.Fatal(err)
					}
				}
			}
			b.StopTimer()
			cpu, cmd, reads := redisCPU(b, rdb)-cpu0, redisCommandsUsec(b, rdb)-cmd0, redisReads(b, rdb)-reads0
			b.ReportMetric(cpu/float64(b.N)*1e6, "redis-cpu-us/chunk")
			b.ReportMetric(cmd/float64(b.N), "redis-cmd-us/chunk")
			// Less the three INFO that read the counters after the loop.
			b.ReportMetric(float64(reads-3)/float64(b.N), "redis-reads/chunk")
		})
	}
}

// redisCommandsUsec returns the µs Redis spent in commands (INFO
// commandstats: the sum of every command's usec; a script's commands are
// in its EVALSHA's too).
func redisCommandsUsec(tb testing.TB, rdb *redis.Client) float64 {
	tb.Helper()
	info, err := rdb.Info(context.Background(), "commandstats").Result()
	if err != nil {
		tb.Fatal(err)
	}
	var sum float64
	for line := range strings.Lines(info) {
		_, stats, ok := strings.Cut(line, ":")
		if !ok || !strings.HasPrefix(line, "cmdstat_") {
			continue
		}
		for f := range strings.SplitSeq(strings.TrimSpace(stats), ",") {
			if v, ok := strings.CutPrefix(f, "usec="); ok {
				n, _ := strconv.ParseFloat(v, 64)
				sum += n
			}
		}
	}
	return sum
}
