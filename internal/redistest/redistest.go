// Package redistest gives tests a real Redis on 127.0.0.1: a database of a
// shared server, a server of their own, a Sentinel deployment or a Redis
// Cluster. Import it from _test files only.
//
// # A database: Start
//
// Start picks, in this order:
//
//  1. the server named by TIDINGS_TEST_REDIS (host:port or a redis:// URL).
//     Each test gets one of its databases 1-15 to itself, locked across
//     processes with a key "tidings-test:lock:<db>" in database 0 and emptied
//     with FLUSHDB before and after use: never point it at a server whose
//     databases 1-15 hold anything you want to keep;
//  2. redis-server from PATH or /usr/bin/redis-server, started once per test
//     binary on a free loopback port (no persistence, 64 databases); each test
//     gets a database of its own, flushed when the test ends. The server dies
//     with the test binary;
//  3. only when neither exists and CI is not "true": an embedded miniredis
//     (internal/redisserver), with a log line saying so. Under CI=true a
//     missing redis-server fails the test; it is never skipped.
//
// Every test gets its own database, so tests using Start may run with
// t.Parallel(). [Redis.Wipe] empties the test's database (lost state).
//
// # A server of the test's own: StartServer
//
// StartServer runs redis-server with a configuration file (the shipped
// deploy/redis.conf, say) on a free port. [Redis.Restart] simulates a crash
// (SIGKILL, then the same server again on the same address, with what its
// persistence kept) or, with empty, a new empty instance on the old address;
// [Redis.Wipe] runs FLUSHALL.
//
//	r := redistest.StartServer(t, "../../deploy/redis.conf")
//	... r.Addr, r.Client() ...
//	if err := r.Restart(ctx, true); err != nil { // Redis lost everything
//		t.Fatal(err)
//	}
//
// # Sentinel: StartSentinel
//
// StartSentinel runs a master ("redis-0"), its replicas (one by default) and
// three sentinels monitoring it as "mymaster" with a quorum of 2, a
// down-after of 1 s and a failover-timeout of 5 s. Failover and KillMaster
// return once the deployment has settled around the new master (about 2.5 s
// each on loopback); they return errors rather than failing the test, so a
// test may call them from another goroutine in the middle of a run, and
// their errors carry every process's log.
//
//	s := redistest.StartSentinel(t, redistest.SentinelOptions{
//		ServerConfig: []string{"min-replicas-to-write 1", "min-replicas-max-lag 10"},
//	})
//	c := s.FailoverClient() // or s.FailoverOptions() for the code under test
//	... start the work ...
//	old, cur, err := s.Failover(ctx) // SENTINEL FAILOVER
//	... or s.KillMaster(ctx), later s.Node(old).Restart(ctx, false) and s.WaitSettled(ctx)
//	n := s.Node(cur).Client().DBSize(ctx).Val() // a plain client on one node
//
// WAIT counts only the writes of its own connection: send it in one pipeline
// with the writes it is meant to cover.
//
// # Cluster: StartCluster
//
// StartCluster runs three masters with one replica each (by default), each
// with a free port and a free cluster bus port, joined by redis-cli --cluster
// create, and returns once every node reports cluster_state:ok, all 16384
// slots are served and every node sees the same slot map with the replicas.
//
//	c := redistest.StartCluster(t, redistest.ClusterOptions{})
//	cc := c.ClusterClient() // or c.ClusterOptions()
//	m, err := c.MasterForSlotOf(ctx, "tidings:{c1}:meta")
//	err = c.FlushAll(ctx) // every master loses every key
//
// # Programs, ports, cleanup
//
// The deployments need redis-server (Debian package redis-server),
// redis-sentinel (redis-sentinel) and redis-cli (redis-tools), found on PATH
// or in /usr/bin. Without them a test fails under CI=true and is skipped
// elsewhere. Every process gets free ports (a collision is retried with
// others), so tests may run them in parallel; it is killed when its test
// ends, failed or not, and the kernel kills it if the test binary dies
// (PDEATHSIG).
package redistest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/tidings-mail/tidings/internal/redisserver"
)

// EnvVar names the variable that points the tests at an existing Redis.
const EnvVar = "TIDINGS_TEST_REDIS"

// Redis is one test's Redis: a server address and a database of its own.
type Redis struct {
	Addr     string // host:port
	Password string // empty unless TIDINGS_TEST_REDIS carries one
	DB       int    // the database this test owns
	URL      string // redis://[:password@]host:port/db
	Embedded bool   // true for the miniredis fallback (not every command exists)

	proc   *proc // the server's process, for a server of the test's own
	mu     sync.Mutex
	client *redis.Client
}

// Options returns go-redis options for this test's database.
func (r *Redis) Options() *redis.Options {
	return &redis.Options{Addr: r.Addr, Password: r.Password, DB: r.DB}
}

// Client returns a go-redis client on this test's database, closed when the
// test ends.
func (r *Redis) Client() *redis.Client {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.client == nil {
		r.client = redis.NewClient(r.Options())
	}
	return r.client
}

func (r *Redis) closeClient() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.client != nil {
		_ = r.client.Close()
		r.client = nil
	}
}

func newRedis(addr, password string, db int, embedded bool) *Redis {
	u := url.URL{Scheme: "redis", Host: addr, Path: "/" + strconv.Itoa(db)}
	if password != "" {
		u.User = url.UserPassword("", password)
	}
	return &Redis{Addr: addr, Password: password, DB: db, URL: u.String(), Embedded: embedded}
}

// Start returns a Redis database for this test (see the package comment for
// where it comes from). Everything is cleaned up when the test ends.
func Start(t testing.TB) *Redis {
	t.Helper()
	if v := os.Getenv(EnvVar); v != "" {
		return external(t, v)
	}
	bin := serverBinary()
	if bin == "" {
		if os.Getenv("CI") == "true" {
			t.Fatalf("redistest: no redis-server on PATH or at /usr/bin/redis-server, and CI=true: install it (apt-get install redis-server) or set %s", EnvVar)
		}
		return embedded(t)
	}
	return local(t, bin)
}

// StartServer starts a dedicated redis-server with configFile (for example
// deploy/redis.conf), overriding only what a test needs: a free port on
// 127.0.0.1, a temporary data directory (--dir, as the README runs the file
// on a host), no daemonizing, and the log in the failure message if it does
// not start. The file is used as it is: a "dir" line in it, which Redis
// applies while reading the file, before --dir, fails here as it would on
// the operator's host. It never falls back to an embedded server: without
// redis-server it fails under CI=true and skips otherwise. The server is
// the test's alone, so [Redis.Restart] and [Redis.Wipe] may simulate a
// crash or lost state.
func StartServer(t testing.TB, configFile string) *Redis {
	t.Helper()
	bin := need(t, "redis-server", "redis-server")
	conf, err := filepath.Abs(configFile)
	if err != nil {
		t.Fatalf("redistest: %v", err)
	}
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	if err := os.Mkdir(data, 0o700); err != nil {
		t.Fatalf("redistest: %v", err)
	}
	p := &proc{name: "redis-server", bin: bin, dir: dir, dataDir: data,
		args: []string{conf, "--daemonize", "no", "--logfile", "", "--dir", data}}
	if err := launch(context.WithoutCancel(t.Context()), p); err != nil {
		t.Fatalf("redistest: start redis-server with %s: %v", configFile, err)
	}
	t.Cleanup(p.kill)
	r := newRedis(p.addr, "", 0, false)
	r.proc = p
	t.Cleanup(r.closeClient)
	return r
}

// ErrShared is returned by [Redis.Restart] for a database on a server other
// tests use too (from [Start]); only [StartServer] gives a test a server of
// its own.
var ErrShared = errors.New("redistest: the server is shared with other tests; use StartServer for a server of your own")

// Restart simulates a crash of a server started by [StartServer]: it kills
// redis-server with SIGKILL and starts it again on the same address with the
// same configuration. It reloads what its persistence settings kept (an AOF
// with appendfsync always keeps every acknowledged write); with empty, its
// data files are deleted first, so the same address answers with an empty
// server, as after a move to a new instance. Clients reconnect by
// themselves. It returns [ErrShared] for a database from [Start].
func (r *Redis) Restart(ctx context.Context, empty bool) error {
	if r.proc == nil {
		return ErrShared
	}
	if err := r.proc.restart(ctx, empty); err != nil {
		return fmt.Errorf("redistest: restart redis-server: %w", err)
	}
	return nil
}

// Pause stops a server started by [StartServer] with SIGSTOP, as a frozen
// process or host: it keeps its connections open and the commands sent to
// it go unanswered until [Redis.Continue] (called by the test's cleanup
// too). It returns [ErrShared] for a database from [Start].
func (r *Redis) Pause() error {
	if r.proc == nil {
		return ErrShared
	}
	return r.proc.pause(true)
}

// Continue lets a server [Redis.Pause] stopped go on with SIGCONT.
func (r *Redis) Continue() error {
	if r.proc == nil {
		return ErrShared
	}
	return r.proc.pause(false)
}

// Wipe deletes everything the test owns, as a lost Redis state would: FLUSHALL
// on a server of its own ([StartServer]), FLUSHDB on its database of a shared
// server ([Start]), so other tests are never touched.
func (r *Redis) Wipe(ctx context.Context) error {
	c := r.Client()
	var err error
	if r.proc != nil {
		err = c.FlushAll(ctx).Err()
	} else {
		err = c.FlushDB(ctx).Err()
	}
	if err != nil {
		return fmt.Errorf("redistest: wipe %s: %w", r.Addr, err)
	}
	return nil
}

func serverBinary() string { return binary("redis-server") }

func embedded(t testing.TB) *Redis {
	t.Helper()
	// The server must outlive t.Context, which ends before cleanups run.
	s, err := redisserver.Start(context.WithoutCancel(t.Context()))
	if err != nil {
		t.Fatalf("redistest: %v", err)
	}
	t.Logf("redistest: no redis-server installed, using embedded miniredis at %s (set CI=true to require a real one)", s.Addr())
	r := newRedis(s.Addr(), "", 0, true)
	t.Cleanup(func() {
		r.closeClient()
		_ = s.Close()
	})
	return r
}

// The shared local server: one per test binary.
var shared struct {
	once sync.Once
	addr string
	err  error
	dbs  chan int
}

const sharedDatabases = 64

func local(t testing.TB, bin string) *Redis {
	t.Helper()
	shared.once.Do(func() {
		dir, err := os.MkdirTemp("", "tidings-redistest-")
		if err != nil {
			shared.err = err
			return
		}
		p := &proc{name: "redis-server", bin: bin, dir: dir, args: []string{"--save", "", "--appendonly", "no",
			"--databases", strconv.Itoa(sharedDatabases), "--dir", dir}}
		err = launch(context.WithoutCancel(t.Context()), p)
		// Nothing is ever written to dir (no persistence), and the server
		// keeps working in a removed directory.
		_ = os.RemoveAll(dir)
		if err != nil {
			shared.err = err
			return
		}
		shared.addr = p.addr
		shared.dbs = make(chan int, sharedDatabases)
		for i := range sharedDatabases {
			shared.dbs <- i
		}
	})
	if shared.err != nil {
		t.Fatalf("redistest: start redis-server: %v", shared.err)
	}
	var db int
	select {
	case db = <-shared.dbs:
	case <-t.Context().Done():
		t.Fatalf("redistest: no free database")
	}
	r := newRedis(shared.addr, "", db, false)
	t.Cleanup(func() {
		defer func() { shared.dbs <- db }()
		c := redis.NewClient(r.Options())
		defer func() { _ = c.Close() }()
		if err := c.FlushDB(context.WithoutCancel(t.Context())).Err(); err != nil {
			t.Errorf("redistest: flush database %d: %v", db, err)
		}
	})
	t.Cleanup(r.closeClient)
	return r
}

func external(t testing.TB, v string) *Redis {
	t.Helper()
	opts := &redis.Options{Addr: v}
	if strings.Contains(v, "://") {
		o, err := redis.ParseURL(v)
		if err != nil {
			t.Fatalf("redistest: %s=%q: %v (use host:port or redis://[:password@]host:port)", EnvVar, v, err)
		}
		opts = o
	}
	ctx := context.WithoutCancel(t.Context())
	lockDB := redis.NewClient(&redis.Options{Addr: opts.Addr, Username: opts.Username, Password: opts.Password, TLSConfig: opts.TLSConfig})
	t.Cleanup(func() { _ = lockDB.Close() })
	if err := lockDB.Ping(ctx).Err(); err != nil {
		t.Fatalf("redistest: %s=%q: cannot reach Redis: %v", EnvVar, v, err)
	}
	token := randomToken()
	deadline := time.Now().Add(2 * time.Minute)
	for {
		for db := 1; db <= 15; db++ {
			key := "tidings-test:lock:" + strconv.Itoa(db)
			ok, err := lockDB.SetNX(ctx, key, token, 15*time.Minute).Result()
			if err != nil {
				t.Fatalf("redistest: lock database %d on %s: %v", db, opts.Addr, err)
			}
			if !ok {
				continue
			}
			r := newRedis(opts.Addr, opts.Password, db, false)
			c := redis.NewClient(r.Options())
			if err := c.FlushDB(ctx).Err(); err != nil {
				t.Fatalf("redistest: flush database %d on %s: %v", db, opts.Addr, err)
			}
			t.Cleanup(func() {
				_ = c.FlushDB(ctx).Err()
				_ = c.Close()
				if lockDB.Get(ctx, key).Val() == token {
					lockDB.Del(ctx, key)
				}
			})
			t.Cleanup(r.closeClient)
			return r
		}
		if time.Now().After(deadline) {
			t.Fatalf("redistest: databases 1-15 of %s stayed locked for 2 minutes (keys tidings-test:lock:* in database 0)", opts.Addr)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func randomToken() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
