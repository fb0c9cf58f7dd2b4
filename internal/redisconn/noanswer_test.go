package redisconn_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/tidings-mail/tidings/internal/redisconn"
	"github.com/tidings-mail/tidings/internal/redistest"
)

// TestAFrozenServerDoesNotAnswer: a redis-server that stops answering
// (SIGSTOP: a frozen process or host; its connections stay open) makes
// go-redis return a bare read timeout, not a *net.OpError. It is an
// infrastructure failure (Unreachable: a command fails with exit 3, and
// the worker's loops say it once, not every tick), and Explain says that
// Redis did not answer and what to check.
func TestAFrozenServerDoesNotAnswer(t *testing.T) {
	t.Parallel()
	r := redistest.StartServer(t, "../redistest/testdata/plain.conf")
	o := r.Options()
	o.ReadTimeout, o.MaxRetries = 200*time.Millisecond, -1
	c := redis.NewClient(o)
	defer c.Close()
	ctx := t.Context()
	if err := c.Ping(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	if err := r.Pause(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = r.Continue() })
	for _, tc := range []struct {
		name string
		call func() error
	}{
		{"command", func() error { return c.Get(ctx, "k").Err() }},
		{"script", func() error { return c.Eval(ctx, "return 1", nil).Err() }},
		{"pipeline", func() error {
			_, err := c.Pipelined(ctx, func(p redis.Pipeliner) error { p.Get(ctx, "a"); p.Get(ctx, "b"); return nil })
			return err
		}},
	} {
		err := tc.call()
		if err == nil {
			t.Fatalf("%s: answered while the server was stopped", tc.name)
		}
		if !redisconn.Unreachable(err) {
			t.Errorf("%s: %v (%T) is not Unreachable", tc.name, err, err)
		}
		got := redisconn.Explain(err)
		if !errors.Is(got, err) || !strings.Contains(got.Error(), "Redis did not answer") || !strings.Contains(got.Error(), "redis-cli") {
			t.Errorf("%s: explained as %q, want that Redis did not answer and what to check", tc.name, got)
		}
	}
}
