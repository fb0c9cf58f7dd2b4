package cli

import (
	"strings"
	"testing"

	"github.com/tidings-mail/tidings/internal/redisconn"
	"github.com/tidings-mail/tidings/internal/redistest"
)

// TestNopermNamesEnvironmentAndAddress: a Redis user that may connect and
// run INFO but not read the campaign's keys is refused past the connection
// (status reads the campaign's meta): the error names the environment,
// the Redis address, the rights tidings needs and doctor, with exit 2 (a
// setting to fix), not the bare NOPERM of the command that was refused.
func TestNopermNamesEnvironmentAndAddress(t *testing.T) {
	t.Parallel()
	r := redistest.StartServer(t, "../redistest/testdata/plain.conf")
	env := map[string]string{"TIDINGS_REDIS_URL": r.URL, "TIDINGS_STATE_DIR": t.TempDir()}
	c := stageCampaign(t, env, "noperm")
	if err := r.Client().Do(t.Context(), "ACL", "SETUSER", "nokeys", "on", ">pw", "~asynq:*", "&*", "+@all").Err(); err != nil {
		t.Fatal(err)
	}
	user := merge(env, map[string]string{"TIDINGS_REDIS_URL": strings.Replace(r.URL, "redis://", "redis://nokeys@", 1), "TIDINGS_REDIS_PASSWORD": "pw"})
	res := cli(t, user, "status", c, "--env", "staging")
	for _, want := range []string{"NOPERM", "environment staging", r.Addr, redisconn.MinimalACL, "tidings doctor --env staging"} {
		if res.code != 2 || !strings.Contains(res.stderr, want) {
			t.Errorf("a user without the campaign's keys: want exit 2 naming %q\n%s", want, res)
		}
	}
}
