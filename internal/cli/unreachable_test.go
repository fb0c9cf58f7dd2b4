package cli

import (
	"fmt"
	"strings"
	"testing"
)

// TestUnreachableRedisNamesTheSettingInUse: a command whose Sentinels or
// Cluster seed nodes do not answer names the setting that holds their
// addresses (not redis.url, which such an environment does not use) and
// why they did not answer, on one line with the next step, exit 3.
//
// Found by a red team: the message was "check the environment's redis
// settings or TIDINGS_REDIS_URL" whatever the environment used, and for
// Sentinel only "context deadline exceeded".
func TestUnreachableRedisNamesTheSettingInUse(t *testing.T) {
	t.Parallel()
	h1, p1 := closedPort(t)
	h2, p2 := closedPort(t)
	addrs := fmt.Sprintf("%s:%d,%s:%d", h1, p1, h2, p2)
	for _, tt := range []struct {
		name string
		env  map[string]string
		want string
		not  string // a setting that plays no part
	}{
		{"sentinel", map[string]string{"TIDINGS_REDIS_SENTINEL_MASTER": "mymaster", "TIDINGS_REDIS_SENTINEL_ADDRS": addrs},
			"check redis.sentinel.addrs / TIDINGS_REDIS_SENTINEL_ADDRS and that the Sentinels run there, then run 'tidings doctor --env staging'", "TIDINGS_REDIS_URL"},
		{"cluster", map[string]string{"TIDINGS_REDIS_CLUSTER_ADDRS": addrs},
			"check redis.cluster / TIDINGS_REDIS_CLUSTER_ADDRS and that the Cluster's nodes run there, then run 'tidings doctor --env staging'", "TIDINGS_REDIS_URL"},
		// One Redis: the sentence the on-call engineer reads when it is
		// down says "Redis runs there", not "Redis run there".
		{"url", map[string]string{"TIDINGS_REDIS_URL": fmt.Sprintf("redis://%s:%d/0", h1, p1)},
			"check redis.url / TIDINGS_REDIS_URL and that Redis runs there, then run 'tidings doctor --env staging'", "TIDINGS_REDIS_SENTINEL_ADDRS"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := cli(t, merge(tt.env, map[string]string{"TIDINGS_STATE_DIR": t.TempDir()}), "status", "--env", "staging")
			msg := strings.TrimSpace(r.stderr)
			if r.code != 3 || strings.Count(msg, "\n") != 0 || !strings.Contains(msg, tt.want) {
				t.Errorf("want exit 3 and one line ending %q\n%s", tt.want, r)
			}
			if !strings.Contains(msg, "connection refused") || strings.Contains(msg, tt.not) {
				t.Errorf("want the cause (connection refused) and no word of %s, which plays no part\n%s", tt.not, r)
			}
		})
	}
}
