package redisserver_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/go-redis/redis_rate/v10"
	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"

	"github.com/tidings-mail/tidings/internal/redisserver"
	"github.com/tidings-mail/tidings/internal/wait"
)

func start(t *testing.T) (*redisserver.Server, *redis.Client) {
	t.Helper()
	s, err := redisserver.Start(context.WithoutCancel(t.Context()))
	if err != nil {
		t.Fatalf("start: %v", err)
	}
	t.Cleanup(func() { _ = s.Close() })
	rdb := redis.NewClient(&redis.Options{Addr: s.Addr()})
	t.Cleanup(func() { _ = rdb.Close() })
	return s, rdb
}

func TestKeysWithTTLExpire(t *testing.T) {
	t.Parallel()
	_, rdb := start(t)
	ctx := t.Context()
	if err := rdb.Set(ctx, "lock", "me", time.Second).Err(); err != nil { // SET PX; longer than any stall before the SETNX
		t.Fatal(err)
	}
	if ok, err := rdb.SetNX(ctx, "lock", "you", time.Second).Result(); err != nil || ok {
		t.Fatalf("SETNX on a live lock = %v, %v; want false", ok, err)
	}
	wait.For(t, 15*time.Second, "the PX key to expire", func() bool { return rdb.Exists(ctx, "lock").Val() == 0 })
	if ok, err := rdb.SetNX(ctx, "lock", "you", time.Second).Result(); err != nil || !ok {
		t.Fatalf("SETNX after expiry = %v, %v; want true", ok, err)
	}
}

func TestRedisRate(t *testing.T) {
	t.Parallel()
	_, rdb := start(t)
	l := redis_rate.NewLimiter(rdb)
	// One token every 2 s: the ten calls below cannot see a new one even on
	// a busy machine.
	limit := redis_rate.Limit{Rate: 5, Burst: 5, Period: 10 * time.Second}
	allowed := 0
	for range 10 {
		res, err := l.Allow(t.Context(), "rate", limit)
		if err != nil {
			t.Fatalf("allow: %v", err)
		}
		allowed += res.Allowed
	}
	if allowed != 5 {
		t.Fatalf("allowed %d of 10 at once with burst 5, want 5", allowed)
	}
	// The GCRA state is a key with a TTL; as the clock moves, capacity returns.
	wait.For(t, 30*time.Second, "the rate limiter to allow again", func() bool {
		res, err := l.Allow(t.Context(), "rate", limit)
		return err == nil && res.Allowed == 1
	})
}

func TestAsynqEnqueueAndProcess(t *testing.T) {
	t.Parallel()
	s, _ := start(t)
	opt := asynq.RedisClientOpt{Addr: s.Addr()}
	client := asynq.NewClient(opt)
	t.Cleanup(func() { _ = client.Close() })

	const n = 20
	for i := range n {
		task := asynq.NewTask("test:echo", []byte(fmt.Sprint(i)))
		if _, err := client.Enqueue(task, asynq.TaskID(fmt.Sprintf("echo-%d", i))); err != nil {
			t.Fatalf("enqueue: %v", err)
		}
	}
	// A duplicate task id is rejected, as tidings relies on.
	if _, err := client.Enqueue(asynq.NewTask("test:echo", nil), asynq.TaskID("echo-0")); err == nil {
		t.Fatal("duplicate task id accepted")
	}
	// A delayed task becomes due as the embedded clock advances.
	if _, err := client.Enqueue(asynq.NewTask("test:echo", []byte("late")), asynq.ProcessIn(300*time.Millisecond)); err != nil {
		t.Fatalf("enqueue delayed: %v", err)
	}

	var mu sync.Mutex
	seen := map[string]int{}
	srv := asynq.NewServer(opt, asynq.Config{
		Concurrency:              4,
		DelayedTaskCheckInterval: 100 * time.Millisecond,
		ShutdownTimeout:          2 * time.Second,
		LogLevel:                 asynq.ErrorLevel,
	})
	err := srv.Start(asynq.HandlerFunc(func(_ context.Context, task *asynq.Task) error {
		mu.Lock()
		seen[string(task.Payload())]++
		mu.Unlock()
		return nil
	}))
	if err != nil {
		t.Fatalf("start asynq server: %v", err)
	}
	t.Cleanup(srv.Shutdown)
	wait.For(t, 15*time.Second, "asynq to process every task", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(seen) == n+1
	})
	mu.Lock()
	defer mu.Unlock()
	for p, c := range seen {
		if c != 1 {
			t.Errorf("task %s processed %d times", p, c)
		}
	}
}

func TestCloseAndContext(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(t.Context())
	s, err := redisserver.Start(ctx)
	if err != nil {
		t.Fatal(err)
	}
	rdb := redis.NewClient(&redis.Options{Addr: s.Addr(), MaxRetries: -1})
	defer func() { _ = rdb.Close() }()
	if err := rdb.Ping(t.Context()).Err(); err != nil {
		t.Fatalf("ping: %v", err)
	}
	cancel()
	wait.For(t, 15*time.Second, "the server to stop with its context", func() bool { return rdb.Ping(t.Context()).Err() != nil })
	if err := s.Close(); err != nil {
		t.Errorf("close: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Errorf("second close: %v", err)
	}
}

// TestSaysItNeverEvicts: the embedded Redis answers CONFIG GET
// maxmemory-policy with noeviction (miniredis never evicts), so a worker
// on it neither holds its sends nor warns that it cannot read the policy;
// other CONFIG commands stay refused.
func TestSaysItNeverEvicts(t *testing.T) {
	t.Parallel()
	_, rdb := start(t)
	ctx := t.Context()
	got, err := rdb.ConfigGet(ctx, "maxmemory-policy").Result()
	if err != nil || got["maxmemory-policy"] != "noeviction" {
		t.Fatalf("CONFIG GET maxmemory-policy = %v, %v; want noeviction", got, err)
	}
	if err := rdb.ConfigSet(ctx, "maxmemory-policy", "allkeys-lru").Err(); err == nil {
		t.Fatal("CONFIG SET was accepted; the embedded Redis cannot evict and must refuse it")
	}
}
