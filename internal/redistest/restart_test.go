package redistest

import (
	"errors"
	"fmt"
	"os"
	"runtime"
	"strings"
	"testing"
)

func TestRestartKeepsWhatTheConfigPersistsOrStartsEmpty(t *testing.T) {
	t.Parallel()
	r := StartServer(t, "testdata/aof.conf")
	ctx := t.Context()
	c := r.Client()
	addr := r.Addr
	for _, tc := range []struct {
		empty bool
		want  int64 // keys after the restart
	}{
		{empty: false, want: 1}, // appendfsync always: the acknowledged write is in the AOF
		{empty: true, want: 0},  // a new, empty server on the same address
	} {
		if err := c.Set(ctx, "k", "v", 0).Err(); err != nil {
			t.Fatal(err)
		}
		before := runID(t, r)
		if err := r.Restart(ctx, tc.empty); err != nil {
			t.Fatal(err)
		}
		if runID(t, r) == before {
			t.Fatalf("Restart(%t): the same process still runs", tc.empty)
		}
		if r.Addr != addr {
			t.Errorf("Restart moved the server from %s to %s", addr, r.Addr)
		}
		// The same client reconnects by itself.
		n, err := c.DBSize(ctx).Result()
		if err != nil {
			t.Fatalf("Restart(%t): DBSIZE: %v", tc.empty, err)
		}
		if n != tc.want {
			t.Errorf("Restart(%t): %d keys, want %d", tc.empty, n, tc.want)
		}
	}
}

func runID(t *testing.T, r *Redis) string {
	t.Helper()
	srv, err := info(t.Context(), r.Client(), "server")
	if err != nil {
		t.Fatal(err)
	}
	return srv["run_id"]
}

func TestWipe(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	t.Run("own server: every database", func(t *testing.T) {
		t.Parallel()
		r := StartServer(t, "testdata/plain.conf")
		c3 := newRedis(r.Addr, "", 3, false).Client()
		t.Cleanup(func() { _ = c3.Close() })
		if err := r.Client().Set(ctx, "a", 1, 0).Err(); err != nil {
			t.Fatal(err)
		}
		if err := c3.Set(ctx, "b", 1, 0).Err(); err != nil {
			t.Fatal(err)
		}
		if err := r.Wipe(ctx); err != nil {
			t.Fatal(err)
		}
		if n := r.Client().DBSize(ctx).Val() + c3.DBSize(ctx).Val(); n != 0 {
			t.Errorf("%d keys left after Wipe", n)
		}
	})
	t.Run("shared server: its database only", func(t *testing.T) {
		t.Parallel()
		mine, theirs := Start(t), Start(t)
		for _, r := range []*Redis{mine, theirs} {
			if err := r.Client().Set(ctx, "k", 1, 0).Err(); err != nil {
				t.Fatal(err)
			}
		}
		if err := mine.Wipe(ctx); err != nil {
			t.Fatal(err)
		}
		if n := mine.Client().DBSize(ctx).Val(); n != 0 {
			t.Errorf("%d keys left in the wiped database", n)
		}
		if n := theirs.Client().DBSize(ctx).Val(); n != 1 {
			t.Errorf("another test's database has %d keys after Wipe, want 1", n)
		}
		if err := mine.Restart(ctx, true); !errors.Is(err, ErrShared) {
			t.Errorf("Restart of a shared server = %v, want ErrShared", err)
		}
	})
}

// fakeTB records what need does to a test; Fatalf and Skipf end the
// goroutine as the real ones do.
type fakeTB struct {
	testing.TB
	fatal, skip string
}

func (f *fakeTB) Helper() {}

func (f *fakeTB) Fatalf(format string, args ...any) {
	f.fatal = fmt.Sprintf(format, args...)
	runtime.Goexit()
}

func (f *fakeTB) Skipf(format string, args ...any) {
	f.skip = fmt.Sprintf(format, args...)
	runtime.Goexit()
}

func TestNeedFailsUnderCIAndSkipsElsewhere(t *testing.T) {
	for _, tc := range []struct {
		ci, program string
		fatal, skip bool
	}{
		{ci: "true", program: "redis-no-such-program", fatal: true},
		{ci: "", program: "redis-no-such-program", skip: true},
		{ci: "false", program: "redis-no-such-program", skip: true},
	} {
		t.Run(tc.ci+"/"+tc.program, func(t *testing.T) {
			t.Setenv("CI", tc.ci)
			f := &fakeTB{TB: t}
			var got string
			done := make(chan struct{})
			go func() {
				defer close(done)
				got = need(f, tc.program, "redis-tools")
			}()
			<-done
			if (f.fatal != "") != tc.fatal || (f.skip != "") != tc.skip {
				t.Fatalf("need(%s) with CI=%q: fatal %q, skip %q", tc.program, tc.ci, f.fatal, f.skip)
			}
			if msg := f.fatal + f.skip; !strings.Contains(msg, "apt-get install redis-tools") {
				t.Errorf("message %q does not say what to install", msg)
			}
			if got != "" {
				t.Errorf("need returned %q", got)
			}
		})
	}
	t.Run("found in /usr/bin without PATH", func(t *testing.T) {
		t.Setenv("PATH", "")
		want := "/usr/bin/redis-server"
		if _, err := os.Stat(want); err != nil {
			want = ""
		}
		if got := binary("redis-server"); got != want {
			t.Errorf("binary(redis-server) = %q with an empty PATH, want %q", got, want)
		}
	})
}

// TestStartKnowsItsOwnServer: a start on a port another redis-server holds
// (a port free a moment ago that a parallel test took first) fails as a
// port in use, though that server answers: it is not taken for ours.
func TestStartKnowsItsOwnServer(t *testing.T) {
	t.Parallel()
	bin := need(t, "redis-server", "redis-server")
	mk := func(name string) *proc {
		return &proc{name: name, bin: bin, dir: t.TempDir(), args: []string{"--save", "", "--appendonly", "no"}}
	}
	first := mk("first")
	if err := launch(t.Context(), first); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(first.kill)
	second := mk("second")
	second.addr = first.addr
	_, port, _ := strings.Cut(first.addr, ":")
	second.args = append(second.args, "--port", port, "--bind", "127.0.0.1")
	err := second.start(t.Context())
	t.Cleanup(second.kill)
	if !errors.Is(err, errAddrInUse) {
		t.Fatalf("start on %s, held by another server: %v, want a port in use", first.addr, err)
	}
	if second.running() {
		t.Error("the second server still runs")
	}
}
