package doctor_test

import (
	"strings"
	"testing"

	"github.com/tidings-mail/tidings/internal/doctor"
	"github.com/tidings-mail/tidings/internal/environment"
	"github.com/tidings-mail/tidings/internal/freeport"
)

// TestUnreachableAdviceNamesTheSettingInUse: an environment on Sentinel
// (redis.sentinel.addrs / TIDINGS_REDIS_SENTINEL_ADDRS) or Cluster
// (redis.cluster / TIDINGS_REDIS_CLUSTER_ADDRS) does not use redis.url's
// address at all. With every sentinel (or every cluster seed) unreachable
// (a typo in a port), doctor's failed "redis reachable" must name the
// setting that holds the wrong addresses, and say why they did not answer
// (connection refused), not only go-redis's "context deadline exceeded".
//
// Found by a red team: the advice was "check redis.url / TIDINGS_REDIS_URL"
// whatever the environment used (the other commands said the same), and
// for Sentinel the cause was only the deadline. redisconn's
// UnreachableError now carries the setting in use (its Advice, which the
// command line words too), and dials the Sentinels itself when go-redis
// gives only the deadline.
func TestUnreachableAdviceNamesTheSettingInUse(t *testing.T) {
	t.Parallel()
	closed := []string{freeport.Closed(t), freeport.Closed(t)}
	for _, tt := range []struct {
		name    string
		redis   environment.Redis
		setting []string // any of these named is fine
	}{
		{"sentinel", environment.Redis{URL: environment.DefaultRedisURL, Sentinel: environment.Sentinel{Master: "mymaster", Addrs: closed}, MinReplicaAcks: environment.ReplicaAcksAuto},
			[]string{"redis.sentinel", "TIDINGS_REDIS_SENTINEL_ADDRS"}},
		{"cluster", environment.Redis{URL: environment.DefaultRedisURL, Cluster: closed, MinReplicaAcks: environment.ReplicaAcksAuto},
			[]string{"redis.cluster", "TIDINGS_REDIS_CLUSTER_ADDRS"}},
	} {
		e := &environment.Environment{Name: "production", Redis: tt.redis, ClaimWindow: 16, Concurrency: 8}
		checks := doctor.Redis(t.Context(), e)
		if len(checks) == 0 || checks[0].Name != "redis reachable" || checks[0].Status != doctor.Fail {
			t.Fatalf("%s: %+v, want redis reachable to fail", tt.name, checks)
		}
		msg := checks[0].Message
		named := false
		for _, s := range tt.setting {
			named = named || strings.Contains(msg, s)
		}
		if !named {
			t.Errorf("%s unreachable: doctor says %q; it names no setting the %s addresses are in (%s)", tt.name, msg, tt.name, strings.Join(tt.setting, " or "))
		}
		if !strings.Contains(msg, "connection refused") || strings.Contains(msg, "redis.url") {
			t.Errorf("%s unreachable: doctor says %q; want the cause (connection refused) and no redis.url, which plays no part", tt.name, msg)
		}
	}
}
