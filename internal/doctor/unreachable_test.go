package doctor_test

import (
	"strings"
	"testing"
	"time"

	"github.com/tidings-mail/tidings/internal/doctor"
	"github.com/tidings-mail/tidings/internal/environment"
	"github.com/tidings-mail/tidings/internal/freeport"
	"github.com/tidings-mail/tidings/internal/redistest"
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

// TestSentinelUnreachableSaysWhatLiesPastTheSentinels: when the Sentinels
// answer, the advice is not to check their addresses: a master name they
// do not know names redis.sentinel.master, and a master they name that does
// not answer (down, or announced at an address this machine cannot reach)
// says so, with the dial's error.
func TestSentinelUnreachableSaysWhatLiesPastTheSentinels(t *testing.T) {
	// DownAfter of an hour: the Sentinels must keep naming the master this
	// test kills. With the default second, a loaded machine (CI runs the
	// packages in parallel) let them promote the replica before doctor
	// asked, and doctor rightly passed against the new master.
	s := redistest.StartSentinel(t, redistest.SentinelOptions{Replicas: 1, AppendOnly: true, DownAfter: time.Hour})
	reachable := func(master string) doctor.Check {
		e := &environment.Environment{Name: "production", Redis: environment.Redis{URL: environment.DefaultRedisURL,
			Sentinel: environment.Sentinel{Master: master, Addrs: s.SentinelAddrs()}, MinReplicaAcks: environment.ReplicaAcksAuto},
			ClaimWindow: 16, Concurrency: 8}
		return doctor.Redis(t.Context(), e)[0]
	}
	if c := reachable("no-such-master"); c.Status != doctor.Fail || !strings.Contains(c.Message, `no Sentinel knows a master named "no-such-master"`) ||
		!strings.Contains(c.Message, "check redis.sentinel.master / TIDINGS_REDIS_SENTINEL_MASTER") || strings.Contains(c.Message, "\n") {
		t.Errorf("a master name the Sentinels do not know: %s %q, want a failure naming redis.sentinel.master, on one line", c.Status, c.Message)
	}
	m, err := s.Master(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	m.Kill()
	if c := reachable(s.MasterName()); c.Status != doctor.Fail || !strings.Contains(c.Message, "dial tcp "+m.Addr()) ||
		!strings.Contains(c.Message, "the Sentinels answer, but the master they name for "+s.MasterName()+" did not") || strings.Contains(c.Message, "redis.sentinel.addrs") {
		t.Errorf("the master down, the Sentinels up: %s %q, want a failure saying the master %s did not answer, not to check the Sentinels' addresses", c.Status, c.Message, m.Addr())
	}
}
