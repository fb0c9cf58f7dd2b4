package writehold_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

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
	conf := filepath.Join(t.TempDir(), "redis.conf")
	if err := os.WriteFile(conf, []byte("save \"\"\nmin-replicas-to-write 1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	r := redistest.StartServer(t, conf)
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
			line := writehold.Line(ctx, rdb, st, "production")
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
