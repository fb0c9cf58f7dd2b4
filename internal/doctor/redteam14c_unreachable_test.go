package doctor_test

import (
	"strings"
	"testing"

	"github.com/tidings-mail/tidings/internal/doctor"
	"github.com/tidings-mail/tidings/internal/environment"
	"github.com/tidings-mail/tidings/internal/freeport"
)

// TestRedteam14CUnreachableAdviceNamesTheSettingInUse: doctor's checks say
// "what to do" (internal/doctor package doc), and the rules for bad config
// are an error naming the field. An environment on Sentinel
// (redis.sentinel.addrs / TIDINGS_REDIS_SENTINEL_ADDRS) or Cluster
// (redis.cluster / TIDINGS_REDIS_CLUSTER_ADDRS) does not use redis.url's
// address at all ("cluster ... replaces URL's address"; Sentinel asks the
// sentinels where the master is).
//
// What happens: with every sentinel (or every cluster seed) unreachable —
// a typo in a port — doctor fails "redis reachable" with "check redis.url /
// TIDINGS_REDIS_URL and that Redis runs". The operator checks a URL that
// plays no part (often the default redis://127.0.0.1:6379/0, which may even
// answer), and is never told of the setting that holds the wrong address.
// (The other commands say the same: internal/cli/env.go:140 "check the
// environment's redis settings or TIDINGS_REDIS_URL".)
//
// Guessed cause: internal/doctor/doctor.go:75 words the advice for the
// single-Redis case whatever e.Redis.Sentinel / e.Redis.Cluster hold.
func TestRedteam14CUnreachableAdviceNamesTheSettingInUse(t *testing.T) {
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
	}
}
