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
	r, env := heldEnv(t, "held")
	says := map[string]string{"held": "held: Redis at ", "--env": "held (held): Redis at "} // status CAMPAIGN, the list
	eachHold(t, r, func(tc hold) {
		for _, args := range [][]string{{"status", "held", "--env", "staging"}, {"status", "--env", "staging"}} {
			res := cli(t, env, args...)
			if res.code != 0 {
				t.Fatalf("%s\n%s", args, res)
			}
			said := strings.Contains(res.stdout, says[args[1]]+r.Addr+" refuses writes (NOREPLICAS") &&
				strings.Contains(res.stdout, "workers resume by themselves") && strings.Contains(res.stdout, "tidings doctor --env staging")
			if said != tc.held {
				t.Errorf("min-replicas-to-write %s, no replica: %s says the hold: %v, want %v\n%s", tc.minReplicas, args, said, tc.held, res)
			}
		}
	})
}

// heldEnv starts a redis-server of the test's own (a test sets its
// min-replicas-to-write) and stages campaign c on it; it returns the
// server and the environment's variables.
func heldEnv(t *testing.T, c string) (*redistest.Redis, map[string]string) {
	t.Helper()
	conf := filepath.Join(t.TempDir(), "redis.conf")
	if err := os.WriteFile(conf, []byte("save \"\"\nappendonly no\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	r := redistest.StartServer(t, conf)
	env := map[string]string{"TIDINGS_REDIS_URL": r.URL, "TIDINGS_STATE_DIR": t.TempDir()}
	stageCampaign(t, env, c)
	return r, env
}

// hold is one state of the server of heldEnv: min-replicas-to-write, and
// whether, with no replica, it refuses writes.
type hold struct {
	minReplicas string
	held        bool
}

// eachHold sets r's min-replicas-to-write to 1 (held), then 0 (not), and
// calls check after each.
func eachHold(t *testing.T, r *redistest.Redis, check func(hold)) {
	t.Helper()
	for _, tc := range []hold{{"1", true}, {"0", false}} {
		if err := r.Client().ConfigSet(t.Context(), "min-replicas-to-write", tc.minReplicas).Err(); err != nil {
			t.Fatal(err)
		}
		check(tc)
	}
}
