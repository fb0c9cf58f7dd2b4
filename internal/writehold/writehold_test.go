package writehold_test

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/tidings-mail/tidings/internal/environment"
	"github.com/tidings-mail/tidings/internal/redistest"
	"github.com/tidings-mail/tidings/internal/store"
	"github.com/tidings-mail/tidings/internal/writehold"
)

// TestLineSaysWhyRedisHoldsTheCampaign: a real redis-server whose
// min-replicas-to-write is 1 and that has no replica answers every write
// NOREPLICAS, so workers hold the campaign while it shows RUNNING. The
// line must say so (the server's address, NOREPLICAS, that workers resume
// by themselves, the doctor command), and must be empty when the same
// server accepts writes, and for a campaign not running. The probe must
// write nothing.
func TestLineSaysWhyRedisHoldsTheCampaign(t *testing.T) {
	r := startServer(t, "save \"\"\nmin-replicas-to-write 1\n")
	rdb := r.Client()
	ctx := t.Context()
	for _, tc := range []struct {
		name, minReplicas string
		state             store.State
		held              bool
	}{
		{"no replica for min-replicas-to-write 1", "1", store.StateRunning, true},
		{"paused, not held by workers", "1", store.StatePaused, false},
		{"writes accepted", "0", store.StateRunning, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := rdb.ConfigSet(ctx, "min-replicas-to-write", tc.minReplicas).Err(); err != nil {
				t.Fatal(err)
			}
			st := &store.Status{Campaign: "altea-migration", Control: store.Control{State: tc.state}}
			line := writehold.Line(ctx, rdb, st, production)
			if n, err := rdb.DBSize(ctx).Result(); err != nil || n != 0 {
				t.Fatalf("the probe wrote: DBSIZE %d, %v", n, err)
			}
			if !tc.held {
				if line != "" {
					t.Fatalf("Redis accepts the campaign's writes (or it is not running), yet status would say %q", line)
				}
				return
			}
			for _, w := range []string{"held: Redis at " + r.Addr + " refuses writes", "NOREPLICAS", "(0 of 0 connected caught up)", "workers resume by themselves", "tidings doctor --env production"} {
				if !strings.Contains(line, w) {
					t.Errorf("status would say %q, want it to say %q", line, w)
				}
			}
		})
	}
}

// production is the environment the tests' campaigns run in.
var production = &environment.Environment{Name: "production"}

// TestListAsksEachMasterOnce: the list (and status --json's) asks each
// master once however many campaigns run on it, and asks nothing of
// campaigns that do not run: the console and status --watch ask every
// refresh. Counted by the server itself (INFO commandstats).
func TestListAsksEachMasterOnce(t *testing.T) {
	r := startServer(t, "save \"\"\nmin-replicas-to-write 1\n")
	rdb := r.Client()
	ctx := t.Context()
	var all []*store.Status
	for i, s := range []store.State{store.StateRunning, store.StateRunning, store.StatePaused, store.StateRunning} {
		all = append(all, &store.Status{Campaign: fmt.Sprintf("c%d", i), Control: store.Control{State: s}})
	}
	for _, tc := range []struct {
		name string
		ask  func()
	}{
		{"list", func() { writehold.List(ctx, rdb, all, production) }},
		{"json", func() {
			docs := make([]any, len(all))
			for i, st := range all {
				docs[i] = st
			}
			if _, err := json.Marshal(writehold.ListJSON(ctx, rdb, docs, production)); err != nil {
				t.Fatal(err)
			}
		}},
		{"paused only", func() { writehold.Line(ctx, rdb, all[2], production) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := rdb.ConfigResetStat(ctx).Err(); err != nil {
				t.Fatal(err)
			}
			tc.ask()
			stats, err := rdb.Info(ctx, "commandstats").Result()
			if err != nil {
				t.Fatal(err)
			}
			want := 1
			if tc.name == "paused only" {
				want = 0
			}
			if got := evals(stats); got != want {
				t.Errorf("asked Redis %d time(s), want %d:\n%s", got, want, stats)
			}
		})
	}
}

// evals is how many EVALs INFO commandstats counts, run or rejected
// (NOREPLICAS).
func evals(stats string) int {
	for _, l := range strings.Split(stats, "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(l), "cmdstat_eval:"); ok {
			var calls, rejected int
			for _, f := range strings.Split(v, ",") {
				k, n, _ := strings.Cut(f, "=")
				switch k {
				case "calls":
					calls, _ = strconv.Atoi(n)
				case "rejected_calls":
					rejected, _ = strconv.Atoi(n)
				}
			}
			return calls + rejected
		}
	}
	return 0
}

// startServer starts a redis-server of the test's own with redis.conf
// lines conf.
func startServer(t *testing.T, conf string) *redistest.Redis {
	t.Helper()
	f := filepath.Join(t.TempDir(), "redis.conf")
	if err := os.WriteFile(f, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	return redistest.StartServer(t, f)
}
