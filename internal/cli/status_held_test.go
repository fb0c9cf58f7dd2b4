package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tidings-mail/tidings/internal/redistest"
)

// TestStatusSaysRedisHoldsTheCampaign: a running campaign on a real
// redis-server that then wants one replica to write (min-replicas-to-write
// 1) and has none answers its workers' writes NOREPLICAS: they hold it,
// and status of it, and the list of the environment's campaigns, must say
// why and what follows (before, they showed RUNNING with no reason). Once
// Redis accepts writes again, neither says it.
func TestStatusSaysRedisHoldsTheCampaign(t *testing.T) {
	t.Parallel()
	conf := filepath.Join(t.TempDir(), "redis.conf")
	if err := os.WriteFile(conf, []byte("save \"\"\nappendonly no\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	r := redistest.StartServer(t, conf)
	env := map[string]string{"TIDINGS_REDIS_URL": r.URL, "TIDINGS_STATE_DIR": t.TempDir()}
	stageCampaign(t, env, "held")
	ctx := t.Context()
	hold := map[string]string{"held": "held: Redis at ", "--env": "held (held): Redis at "} // status CAMPAIGN, the list
	for _, tc := range []struct {
		minReplicas string
		held        bool
	}{{"1", true}, {"0", false}} {
		if err := r.Client().ConfigSet(ctx, "min-replicas-to-write", tc.minReplicas).Err(); err != nil {
			t.Fatal(err)
		}
		for _, args := range [][]string{{"status", "held", "--env", "staging"}, {"status", "--env", "staging"}} {
			res := cli(t, env, args...)
			if res.code != 0 {
				t.Fatalf("%s\n%s", args, res)
			}
			said := strings.Contains(res.stdout, hold[args[1]]+r.Addr+" refuses writes (NOREPLICAS") &&
				strings.Contains(res.stdout, "workers resume by themselves") && strings.Contains(res.stdout, "tidings doctor --env staging")
			if said != tc.held {
				t.Errorf("min-replicas-to-write %s, no replica: %s says the hold: %v, want %v\n%s", tc.minReplicas, args, said, tc.held, res)
			}
		}
	}
}
