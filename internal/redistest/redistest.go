// Package redistest gives tests a real Redis. Import it from _test files
// only.
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
// t.Parallel().
package redistest

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
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
// worker/redis.conf), overriding only what a test needs: a free port on
// 127.0.0.1, a temporary working directory instead of any "dir" line, no
// daemonizing, and the log in the failure message if it does not start. It never falls back to an embedded server: without
// redis-server it fails under CI=true and skips otherwise.
func StartServer(t testing.TB, configFile string) *Redis {
	t.Helper()
	bin := serverBinary()
	if bin == "" {
		if os.Getenv("CI") == "true" {
			t.Fatalf("redistest: no redis-server on PATH or at /usr/bin/redis-server, and CI=true: install it (apt-get install redis-server)")
		}
		t.Skip("redistest: no redis-server installed; this test needs a real one")
	}
	conf, err := os.ReadFile(configFile)
	if err != nil {
		t.Fatalf("redistest: read config file: %v", err)
	}
	// Redis applies "dir" while reading the file, before any command-line
	// override, so a production path such as /data must go: the copy
	// comments it out and --dir points at the temporary directory.
	var lines []string
	for _, line := range strings.Split(string(conf), "\n") {
		if f := strings.Fields(line); len(f) > 0 && strings.EqualFold(f[0], "dir") {
			line = "# (redistest) " + line
		}
		lines = append(lines, line)
	}
	dir := t.TempDir()
	copied := filepath.Join(dir, "redis.conf")
	if err := os.WriteFile(copied, []byte(strings.Join(lines, "\n")), 0o600); err != nil {
		t.Fatalf("redistest: copy config file: %v", err)
	}
	p, err := launch(context.WithoutCancel(t.Context()), bin, dir, []string{copied, "--daemonize", "no", "--logfile", "", "--dir", dir})
	if err != nil {
		t.Fatalf("redistest: start redis-server with %s: %v", configFile, err)
	}
	t.Cleanup(p.kill)
	r := newRedis(p.addr, "", 0, false)
	t.Cleanup(r.closeClient)
	return r
}

func serverBinary() string {
	if p, err := exec.LookPath("redis-server"); err == nil {
		return p
	}
	if _, err := os.Stat("/usr/bin/redis-server"); err == nil {
		return "/usr/bin/redis-server"
	}
	return ""
}

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
		p, err := launch(context.WithoutCancel(t.Context()), bin, dir, []string{"--save", "", "--appendonly", "no",
			"--databases", strconv.Itoa(sharedDatabases), "--dir", dir})
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

// proc is a running redis-server.
type proc struct {
	addr string
	cmd  *exec.Cmd
	done chan struct{}
}

func (p *proc) kill() {
	_ = p.cmd.Process.Kill()
	<-p.done
}

// launch starts redis-server with args plus a free port on 127.0.0.1 and
// waits until it answers PING. Port collisions are retried.
func launch(ctx context.Context, bin, dir string, args []string) (*proc, error) {
	var lastErr error
	for range 5 {
		port, err := freePort()
		if err != nil {
			return nil, err
		}
		p, out, err := startProc(bin, dir, append(args, "--port", strconv.Itoa(port), "--bind", "127.0.0.1"))
		if err == nil {
			if err = waitReady(ctx, p); err == nil {
				return p, nil
			}
			p.kill()
		}
		lastErr = fmt.Errorf("%w; output:\n%s", err, out.String())
		if !strings.Contains(out.String(), "Address already in use") {
			break
		}
	}
	return nil, lastErr
}

// syncBuffer is a bytes.Buffer safe for the process writer and a reader.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// startProc starts the process from a goroutine locked to its OS thread,
// with PDEATHSIG: the kernel kills redis-server when that thread ends, and
// the thread ends only when the process has exited or the test binary dies.
// So no redis-server outlives its test binary, even on a panic or a kill.
func startProc(bin, dir string, args []string) (*proc, *syncBuffer, error) {
	out := &syncBuffer{}
	cmd := exec.Command(bin, args...)
	cmd.Dir = dir
	cmd.Stdout, cmd.Stderr = out, out
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	p := &proc{cmd: cmd, done: make(chan struct{})}
	started := make(chan error, 1)
	go func() {
		runtime.LockOSThread() // never unlocked: see above
		if err := cmd.Start(); err != nil {
			started <- err
			return
		}
		started <- nil
		_ = cmd.Wait()
		close(p.done)
	}()
	if err := <-started; err != nil {
		return nil, out, err
	}
	return p, out, nil
}

func waitReady(ctx context.Context, p *proc) error {
	port := ""
	for i, a := range p.cmd.Args {
		if a == "--port" && i+1 < len(p.cmd.Args) {
			port = p.cmd.Args[i+1]
		}
	}
	p.addr = net.JoinHostPort("127.0.0.1", port)
	deadline := time.Now().Add(20 * time.Second)
	for {
		select {
		case <-p.done:
			return errors.New("redis-server exited")
		default:
		}
		err := ping(ctx, p.addr)
		if err == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("redis-server did not answer PING within 20s: %w", err)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// ping sends a raw PING (go-redis would log every refused connection).
func ping(ctx context.Context, addr string) error {
	d := net.Dialer{Timeout: time.Second}
	c, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return err
	}
	defer func() { _ = c.Close() }()
	_ = c.SetDeadline(time.Now().Add(time.Second))
	if _, err := c.Write([]byte("PING\r\n")); err != nil {
		return err
	}
	buf := make([]byte, 64)
	n, err := c.Read(buf)
	if err != nil {
		return err
	}
	if !strings.HasPrefix(string(buf[:n]), "+PONG") {
		return fmt.Errorf("PING answered %q", strings.TrimSpace(string(buf[:n])))
	}
	return nil
}

func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("find a free port: %w", err)
	}
	defer func() { _ = ln.Close() }()
	return ln.Addr().(*net.TCPAddr).Port, nil
}
