package worker

import (
	"context"
	"io"
	"log/slog"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"

	"github.com/tidings-mail/tidings/internal/redisconn"
	"github.com/tidings-mail/tidings/internal/redistest"
	"github.com/tidings-mail/tidings/internal/send"
	"github.com/tidings-mail/tidings/internal/syncbuf"
)

// TestEvictionPolicyRead: the worker reads Redis's maxmemory-policy from
// INFO memory (the rights tidings needs), else from CONFIG GET (a user
// that may not run INFO); a user that may run neither leaves it unknown,
// which holds the worker's sends (said once at WARN with how to go on;
// before, it sent on) unless the environment declares the policy
// noeviction (said once at INFO); a policy read counts over the declared
// one. On a real redis-server of the test's own whose policy is
// allkeys-lru, then noeviction.
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
	// Unread, undeclared: held, said once at WARN with the ways on.
	var logs syncbuf.Buffer
	reg := prometheus.NewRegistry()
	w, err := New(Config{Redis: neither, SMTP: send.Config{Host: "127.0.0.1", Port: 25}, Env: "test", Metrics: reg, Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	w.checkEviction(ctx)
	w.checkEviction(ctx)
	if !w.evicting() {
		t.Error("a policy that cannot be read, and is not declared, does not hold the sends")
	}
	if g := gaugeIn(t, reg, "tidings_worker_eviction_hold"); g != 1 {
		t.Errorf("tidings_worker_eviction_hold = %v while the policy cannot be read, want 1", g)
	}
	if said := strings.Count(logs.String(), "cannot read Redis's maxmemory-policy"); said != 1 || !strings.Contains(logs.String(), "level=WARN") ||
		!strings.Contains(logs.String(), "redis.maxmemory_policy: noeviction") || !strings.Contains(logs.String(), "nothing is sent") {
		t.Errorf("said %d times that the policy cannot be read, want once at WARN saying nothing is sent and how to declare it:\n%s", said, logs.String())
	}
	// Unread, declared noeviction: sends, said once at INFO.
	var dlogs syncbuf.Buffer
	declared, err := New(Config{Redis: neither, SMTP: send.Config{Host: "127.0.0.1", Port: 25}, Env: "test", MaxmemoryPolicy: "noeviction", Logger: slog.New(slog.NewTextHandler(&dlogs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	declared.checkEviction(ctx)
	declared.checkEviction(ctx)
	if declared.evicting() {
		t.Error("a policy that cannot be read but is declared noeviction holds the sends")
	}
	if said := strings.Count(dlogs.String(), "declares it noeviction"); said != 1 || !strings.Contains(dlogs.String(), "level=INFO") {
		t.Errorf("said %d times that the declared policy is taken, want once at INFO:\n%s", said, dlogs.String())
	}
	// Read allkeys-lru, declared noeviction: what is read counts.
	overruled, err := New(Config{Redis: byInfo, SMTP: send.Config{Host: "127.0.0.1", Port: 25}, Env: "test", MaxmemoryPolicy: "noeviction", Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	overruled.checkEviction(ctx)
	if !overruled.evicting() {
		t.Error("a policy read as allkeys-lru does not hold the sends when the environment declares noeviction")
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
