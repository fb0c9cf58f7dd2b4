package doctor_test

import (
	"strings"
	"testing"

	"github.com/tidings-mail/tidings/internal/doctor"
	"github.com/tidings-mail/tidings/internal/environment"
	"github.com/tidings-mail/tidings/internal/redistest"
)

// TestSentinelPasswordAdviceNamesTheSentinelPassword: the Sentinels have a
// password of their own (redis.sentinel.password_file /
// TIDINGS_REDIS_SENTINEL_PASSWORD). When they ask for one none is given
// for, doctor's failed "redis reachable" must name that setting, and
// following its advice must fix it.
//
// Found by a red team: redisconn mapped every NOAUTH to the data nodes'
// password ("set redis.password_file ... (or TIDINGS_REDIS_PASSWORD)"),
// which the Sentinels never see: an operator who followed it got the same
// failure. A NOAUTH or WRONGPASS inside go-redis's "all sentinels specified
// in configuration are unreachable" now gets advice of its own.
func TestSentinelPasswordAdviceNamesTheSentinelPassword(t *testing.T) {
	s := redistest.StartSentinel(t, redistest.SentinelOptions{Replicas: 1, AppendOnly: true, ServerConfig: []string{"maxmemory-policy noeviction"}})
	ctx := t.Context()
	const sentinelPassword = "sentinel-pw-14c"
	for _, sn := range s.Sentinels() {
		c := sn.Client()
		err := c.Do(ctx, "ACL", "SETUSER", "default", "on", ">"+sentinelPassword).Err()
		_ = c.Close()
		if err != nil {
			t.Fatalf("give sentinel %s a password: %v", sn.Addr(), err)
		}
	}
	e := &environment.Environment{Name: "production", Redis: environment.Redis{URL: "redis://127.0.0.1:6379/0",
		Sentinel: environment.Sentinel{Master: s.MasterName(), Addrs: s.SentinelAddrs()}, MinReplicaAcks: environment.ReplicaAcksAuto},
		ClaimWindow: 16, Concurrency: 8}
	reachable := func() doctor.Check {
		for _, c := range doctor.Redis(ctx, e) {
			if c.Name == "redis reachable" {
				return c
			}
		}
		t.Fatal("no redis reachable check")
		return doctor.Check{}
	}
	c := reachable()
	if c.Status != doctor.Fail {
		t.Fatalf("sentinels ask for a password none is given for: %+v, want a failure", c)
	}
	t.Logf("doctor: %s", c.Message)
	if !strings.Contains(c.Message, "sentinel.password") && !strings.Contains(c.Message, "TIDINGS_REDIS_SENTINEL_PASSWORD") {
		t.Errorf("doctor's advice names neither redis.sentinel.password_file nor TIDINGS_REDIS_SENTINEL_PASSWORD, the setting the Sentinels' password goes in: %q", c.Message)
	}
	// Follow the advice doctor gives: the password as the Redis password.
	if strings.Contains(c.Message, "set redis.password_file") {
		e.Redis.Password = sentinelPassword
		if again := reachable(); again.Status == doctor.Fail {
			t.Errorf("after following the advice (the password given as redis.password_file / TIDINGS_REDIS_PASSWORD) doctor fails the same way: %q", again.Message)
		}
		e.Redis.Password = ""
	}
	// The setting that does fix it.
	e.Redis.Sentinel.Password = sentinelPassword
	if c := reachable(); c.Status != doctor.Pass {
		t.Fatalf("with the Sentinels' password set: %+v, want pass", c)
	}
}
