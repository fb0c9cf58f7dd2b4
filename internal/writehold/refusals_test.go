package writehold_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/tidings-mail/tidings/internal/redistest"
	"github.com/tidings-mail/tidings/internal/store"
	"github.com/tidings-mail/tidings/internal/writehold"
)

// TestLineSaysEveryRefusalOfARealRedis: besides NOREPLICAS, a real
// redis-server refuses a campaign's writes READONLY (status pointed at a
// replica: a redis.url left on the old master after it was made a
// replica), OOM (maxmemory reached with noeviction) and MISCONF (its last
// snapshot failed while stop-writes-on-bgsave-error is on). For each, the
// line must name the server's address, the code and why, and the probe
// must write nothing.
func TestLineSaysEveryRefusalOfARealRedis(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		code, why string
		conf      string
		// refuse brings the server at r to refuse writes and returns
		// the client status reads through.
		refuse func(t *testing.T, ctx context.Context, r *redistest.Redis) *redis.Client
	}{
		{"READONLY", "it is a replica, not the master", "save \"\"\n", readOnly},
		{"OOM", "it is out of memory (maxmemory)", "save \"\"\nmaxmemory-policy noeviction\n", outOfMemory},
		{"MISCONF", "its last snapshot to disk failed", "save 3600 1\nstop-writes-on-bgsave-error yes\nenable-protected-configs yes\n", failedSnapshot},
	} {
		t.Run(tc.code, func(t *testing.T) {
			t.Parallel()
			ctx := t.Context()
			r := startServer(t, tc.conf)
			rdb := tc.refuse(t, ctx, r)
			before, err := rdb.DBSize(ctx).Result()
			if err != nil {
				t.Fatal(err)
			}
			st := &store.Status{Campaign: "altea-migration", Control: store.Control{State: store.StateRunning}}
			line := writehold.Line(ctx, rdb, st, production)
			if after, err := rdb.DBSize(ctx).Result(); err != nil || after != before {
				t.Fatalf("the probe wrote: DBSIZE %d, then %d, %v", before, after, err)
			}
			want := fmt.Sprintf("held: Redis at %s refuses writes (%s: %s", rdb.Options().Addr, tc.code, tc.why)
			if !strings.HasPrefix(line, want) {
				t.Errorf("status would say %q, want it to start %q", line, want)
			}
		})
	}
}

// readOnly makes r a replica of a second real redis-server and returns a
// client of r itself (one that does not follow Sentinel).
func readOnly(t *testing.T, ctx context.Context, r *redistest.Redis) *redis.Client {
	t.Helper()
	m := startServer(t, "save \"\"\n")
	host, port, err := net.SplitHostPort(m.Addr)
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Client().SlaveOf(ctx, host, port).Err(); err != nil {
		t.Fatal(err)
	}
	return r.Client()
}

// outOfMemory gives r a maxmemory a little above what it uses and fills it
// (noeviction) until a write is refused OOM.
func outOfMemory(t *testing.T, ctx context.Context, r *redistest.Redis) *redis.Client {
	t.Helper()
	rdb := r.Client()
	used, err := rdb.Info(ctx, "memory").Result()
	if err != nil {
		t.Fatal(err)
	}
	var n int64
	for _, l := range strings.Split(used, "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(l), "used_memory:"); ok {
			fmt.Sscan(v, &n)
		}
	}
	if n == 0 {
		t.Fatalf("INFO memory gave no used_memory:\n%s", used)
	}
	if err := rdb.ConfigSet(ctx, "maxmemory", fmt.Sprint(n+1<<20)).Err(); err != nil {
		t.Fatal(err)
	}
	// Large values first, then small ones: full is when a small write
	// is refused too (used_memory above maxmemory), not only a large one.
	for _, size := range []int{64 << 10, 64} {
		v := strings.Repeat("x", size)
		for i := 0; ; i++ {
			err := rdb.Set(ctx, fmt.Sprintf("fill:%d:%d", size, i), v, 0).Err()
			if err != nil && strings.HasPrefix(err.Error(), "OOM ") {
				break
			}
			if err != nil || i > 100000 {
				t.Fatalf("filling 1 MiB above %d bytes used: after %d values of %d bytes: %v", n, i, size, err)
			}
		}
	}
	return rdb
}

// failedSnapshot points r's dir at a directory, removes it, and has r
// snapshot there (BGSAVE), which fails: with stop-writes-on-bgsave-error
// and a save point, r refuses writes until a snapshot succeeds. (A
// directory removed fails even for root, unlike one not writable.)
func failedSnapshot(t *testing.T, ctx context.Context, r *redistest.Redis) *redis.Client {
	t.Helper()
	rdb := r.Client()
	dir := filepath.Join(t.TempDir(), "gone")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := rdb.ConfigSet(ctx, "dir", dir).Err(); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(dir); err != nil {
		t.Fatal(err)
	}
	if err := rdb.BgSave(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(time.Minute)
	for {
		info, err := rdb.Info(ctx, "persistence").Result()
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(info, "rdb_bgsave_in_progress:0") && strings.Contains(info, "rdb_last_bgsave_status:err") {
			return rdb
		}
		if time.Now().After(deadline) {
			t.Fatal(errors.New("BGSAVE into a removed directory did not fail within a minute:\n" + info))
		}
		time.Sleep(10 * time.Millisecond)
	}
}
