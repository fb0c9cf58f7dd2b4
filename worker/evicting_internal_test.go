package worker

import (
	"context"
	"log/slog"
	"strings"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/tidings-mail/tidings/internal/redisconn"
	"github.com/tidings-mail/tidings/internal/redistest"
	"github.com/tidings-mail/tidings/internal/send"
	"github.com/tidings-mail/tidings/internal/syncbuf"
)

// TestEvictionPolicyRead: the worker reads Redis's maxmemory-policy from
// INFO memory (the rights tidings needs), else from CONFIG GET (a user
// that may not run INFO); a user that may run neither leaves it unknown,
// which the worker says once at WARN and does not hold its sends for (the
// embedded Redis of rehearse answers neither). On a real redis-server of
// the test's own whose policy is allkeys-lru, then noeviction.
func TestEvictionPolicyRead(t *testing.T) {
	t.Parallel()
	srv := redistest.StartServer(t, "../internal/redistest/testdata/plain.conf")
	admin := srv.Client()
	ctx := context.Background()
	user := func(name string, extra ...string) *redis.Client {
		t.Helper()
		rules := []any{"ACL", "SETUSER", name, "on", ">" + name, "resetkeys", "resetchannels"}
		for _, r := range strings.Fields(redisconn.MinimalACL) {
			if r != "+info" || len(extra) == 0 {
				rules = append(rules, r)
			}
		}
		for _, r := range extra {
			if r != "" {
				rules = append(rules, r)
			}
		}
		if err := admin.Do(ctx, rules...).Err(); err != nil {
			t.Fatal(err)
		}
		opt := *admin.Options()
		opt.Username, opt.Password = name, name
		c := redis.NewClient(&opt)
		t.Cleanup(func() { _ = c.Close() })
		return c
	}
	byInfo := user("tidings-evict-info")
	byConfig := user("tidings-evict-config", "+config|get")
	neither := user("tidings-evict-neither", "")
	if err := admin.ConfigSet(ctx, "maxmemory-policy", "allkeys-lru").Err(); err != nil {
		t.Fatal(err)
	}
	for name, c := range map[string]*redis.Client{"INFO memory": byInfo, "CONFIG GET": byConfig} {
		if ev, err := evictionPolicy(ctx, c); err != nil || ev == nil || ev.Policy != "allkeys-lru" {
			t.Errorf("read by %s: %v, %v; want allkeys-lru", name, ev, err)
		}
	}
	var logs syncbuf.Buffer
	w, err := New(Config{Redis: neither, SMTP: send.Config{Host: "127.0.0.1", Port: 25}, Env: "test", Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	w.checkEviction(ctx)
	w.checkEviction(ctx)
	if w.evicting() {
		t.Error("a policy that cannot be read holds the sends")
	}
	if said := strings.Count(logs.String(), "cannot read Redis's maxmemory-policy"); said != 1 || !strings.Contains(logs.String(), "level=WARN") {
		t.Errorf("said %d times that the policy cannot be read, want once at WARN:\n%s", said, logs.String())
	}
	if err := admin.ConfigSet(ctx, "maxmemory-policy", "noeviction").Err(); err != nil {
		t.Fatal(err)
	}
	for name, c := range map[string]*redis.Client{"INFO memory": byInfo, "CONFIG GET": byConfig} {
		if ev, err := evictionPolicy(ctx, c); err != nil || ev != nil {
			t.Errorf("read by %s under noeviction: %v, %v; want nothing", name, ev, err)
		}
	}
}
