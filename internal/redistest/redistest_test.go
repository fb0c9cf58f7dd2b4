package redistest

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/tidings-mail/tidings/internal/wait"
)

func TestStartGivesEachTestItsOwnDatabase(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	// Keyed by server and database: the embedded fallback gives every test
	// a server of its own, the shared redis-server a database of its own.
	dbs := map[string]bool{}
	for i := range 8 {
		t.Run(fmt.Sprint(i), func(t *testing.T) {
			t.Parallel()
			r := Start(t)
			c := r.Client()
			if n := c.DBSize(t.Context()).Val(); n != 0 {
				t.Fatalf("database %d starts with %d keys, want 0", r.DB, n)
			}
			if err := c.Set(t.Context(), "k", i, 0).Err(); err != nil {
				t.Fatal(err)
			}
			if got, _ := c.Get(t.Context(), "k").Int(); got != i {
				t.Fatalf("k = %d, want %d (database shared with another test?)", got, i)
			}
			mu.Lock()
			defer mu.Unlock()
			key := fmt.Sprintf("%s/%d", r.Addr, r.DB)
			if dbs[key] {
				t.Errorf("database %s handed out twice at once", key)
			}
			dbs[key] = true
		})
	}
}

func TestStartExpiresKeys(t *testing.T) {
	t.Parallel()
	r := Start(t)
	c := r.Client()
	if err := c.Set(t.Context(), "ttl", "x", 30*time.Millisecond).Err(); err != nil {
		t.Fatal(err)
	}
	wait.For(t, 10*time.Second, "key to expire", func() bool { return c.Exists(t.Context(), "ttl").Val() == 0 })
	if r.URL == "" || r.Addr == "" {
		t.Errorf("Redis = %+v", r)
	}
}

func TestStartServerWithComposeConfig(t *testing.T) {
	t.Parallel()
	r := StartServer(t, "../../deploy/redis.conf")
	c := r.Client()
	got := map[string]string{}
	for _, k := range []string{"appendonly", "maxmemory-policy", "bind", "save"} {
		v, err := c.ConfigGet(t.Context(), k).Result()
		if err != nil {
			t.Fatalf("CONFIG GET %s: %v", k, err)
		}
		got[k] = v[k]
	}
	want := map[string]string{"appendonly": "yes", "maxmemory-policy": "noeviction", "bind": "127.0.0.1", "save": "900 1 300 100 60 10000"}
	for k, w := range want {
		if got[k] != w {
			t.Errorf("%s = %q, want %q", k, got[k], w)
		}
	}
	if err := c.Set(t.Context(), "k", "v", 0).Err(); err != nil {
		t.Errorf("write: %v", err)
	}
}

func TestEmbeddedFallback(t *testing.T) {
	t.Parallel()
	r := embedded(t)
	if !r.Embedded {
		t.Error("Embedded = false")
	}
	c := r.Client()
	if err := c.Set(t.Context(), "ttl", "x", 30*time.Millisecond).Err(); err != nil {
		t.Fatal(err)
	}
	wait.For(t, 10*time.Second, "embedded key to expire", func() bool { return c.Exists(t.Context(), "ttl").Val() == 0 })
}

func TestExternalServer(t *testing.T) {
	t.Parallel()
	if serverBinary() == "" {
		t.Skip("needs redis-server")
	}
	host := StartServer(t, "testdata/plain.conf")
	var mu sync.Mutex
	seen := map[int]bool{}
	// Every subtest holds its database until all have one. Two only: -parallel
	// defaults to GOMAXPROCS, which may be 2.
	var held sync.WaitGroup
	held.Add(2)
	for i := range 2 {
		t.Run(fmt.Sprint(i), func(t *testing.T) {
			t.Parallel()
			done := sync.OnceFunc(held.Done)
			defer done() // also when external fails the test
			r := external(t, "redis://"+host.Addr)
			done()
			held.Wait()
			if r.DB < 1 || r.DB > 15 {
				t.Errorf("DB = %d, want 1-15", r.DB)
			}
			mu.Lock()
			if seen[r.DB] {
				t.Errorf("database %d handed out twice", r.DB)
			}
			seen[r.DB] = true
			mu.Unlock()
			if n := r.Client().DBSize(t.Context()).Val(); n != 0 {
				t.Errorf("database not empty: %d keys", n)
			}
			r.Client().Set(t.Context(), "k", "v", 0)
		})
	}
	t.Cleanup(func() {
		// After the subtests: locks released, databases flushed.
		c := host.Client()
		if keys := c.Keys(t.Context(), "tidings-test:lock:*").Val(); len(keys) != 0 {
			t.Errorf("locks left behind: %v", keys)
		}
	})
}
