package worker_test

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tidings-mail/tidings/internal/store"
	"github.com/tidings-mail/tidings/internal/wait"
)

// The campaign's global rate limiter is go-redis/redis_rate (GCRA): one key
// in Redis holds the theoretical arrival time of the next token, in seconds
// since this epoch, and a call is refused while that time is too far ahead.
const (
	limiterPrefix = "rate:"    // redis_rate's prefix of the keys it is given
	limiterEpoch  = 1483228800 // 2017-01-01 00:00:00 UTC, redis_rate's epoch
)

func limiterKey(e *env) string { return limiterPrefix + store.RateKey(e.name) }

// holdTokens makes the campaign's rate limiter refuse every call until
// giveToken: its next token is a day away.
func holdTokens(t testing.TB, e *env) {
	t.Helper()
	tat := time.Now().Add(24*time.Hour).Unix() - limiterEpoch
	if err := e.rdb.Set(context.Background(), limiterKey(e), strconv.FormatInt(tat, 10), 0).Err(); err != nil {
		t.Fatal(err)
	}
}

// giveToken lets the limiter's burst out: at the slow rates of these tests
// (bulk 1), the next call is granted one token and the one after waits
// for the rate again (6 s at 10/m) or for the next giveToken.
func giveToken(t testing.TB, e *env) {
	t.Helper()
	if err := e.rdb.Del(context.Background(), limiterKey(e)).Err(); err != nil {
		t.Fatal(err)
	}
}

// watchLimiter counts the calls of the campaign's rate limiter, by any
// worker, as Redis runs them: the GET of its key in the limiter's script,
// seen by MONITOR in e's database. A count that grows while the tokens are
// held means a chunk is waiting for them.
func watchLimiter(t testing.TB, e *env) *atomic.Int64 {
	t.Helper()
	opt := e.rdb.Options()
	c, err := net.Dial("tcp", opt.Addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	cmd := func(args ...string) {
		var b strings.Builder
		fmt.Fprintf(&b, "*%d\r\n", len(args))
		for _, a := range args {
			fmt.Fprintf(&b, "$%d\r\n%s\r\n", len(a), a)
		}
		if _, err := c.Write([]byte(b.String())); err != nil {
			t.Fatal(err)
		}
	}
	rd := bufio.NewReader(c)
	ok := func(what string) {
		line, err := rd.ReadString('\n')
		if err != nil || !strings.HasPrefix(line, "+OK") {
			t.Fatalf("%s: %q, %v", what, line, err)
		}
	}
	if opt.Password != "" {
		if opt.Username != "" {
			cmd("AUTH", opt.Username, opt.Password)
		} else {
			cmd("AUTH", opt.Password)
		}
		ok("AUTH")
	}
	cmd("MONITOR")
	if line, _ := rd.Peek(len("-ERR unknown command")); string(line) == "-ERR unknown command" && os.Getenv("CI") != "true" {
		t.Skip("the embedded Redis (no redis-server installed) has no MONITOR; CI runs this on redis-server")
	}
	ok("MONITOR")
	// 1700000000.000000 [<db> lua] "GET" "rate:..."
	want := fmt.Sprintf("[%d lua] \"GET\" %q", opt.DB, limiterKey(e))
	var n atomic.Int64
	go func() {
		for {
			line, err := rd.ReadString('\n')
			if err != nil {
				return // closed at the end of the test
			}
			if strings.Contains(line, want) {
				n.Add(1)
			}
		}
	}()
	return &n
}

// TestDialsAfterTheTokenWait: a rate-limited chunk opens its SMTP
// connection only once it holds a rate token, never before it waits for
// one. At 10/m a chunk waits up to 6 s a token (48 s for a slow worker's
// whole window), and a connection dialled before that wait sat idle
// through it: a relay's idle timeout closed it, and the first recipient
// failed (counted by the auto-pause). The tokens are held (the limiter
// refuses every call) until the test gives one: while the chunk is
// waiting for it (the limiter refused it twice), the SMTP server has not
// seen a connection; each message goes out on one connection, opened after
// the first token.
func TestDialsAfterTheTokenWait(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	e.stage(t, opts{n: 3, rate: "10/m"})
	holdTokens(t, e)
	asks := watchLimiter(t, e)
	e.startWorker(t, wopts{concurrency: 1})
	for i := 1; i <= e.staged; i++ {
		from := asks.Load()
		wait.For(t, time.Minute, fmt.Sprintf("the chunk to wait for token %d", i), func() bool { return asks.Load() >= from+2 })
		conns := 0
		if i > 1 {
			conns = 1 // the chunk keeps its connection for its next windows
		}
		if got := e.smtp.Connections(); got != conns {
			t.Fatalf("%d SMTP connections while the chunk waited for rate token %d, want %d: the chunk dialled before it had a token, and its connection sat idle through the wait (a relay's idle timeout fails its first recipient)", got, i, conns)
		}
		if got := e.smtp.Count(); got != i-1 {
			t.Fatalf("%d messages before rate token %d, want %d", got, i, i-1)
		}
		giveToken(t, e)
		wait.For(t, time.Minute, fmt.Sprintf("message %d", i), func() bool { return e.smtp.Count() >= i })
		holdTokens(t, e) // not the rate's next token, 6 s on: the test's
	}
	if got := e.smtp.Connections(); got != 1 {
		t.Errorf("%d SMTP connections for %d messages of one chunk, want 1", got, e.staged)
	}
	e.waitState(t, time.Minute, store.StateDone)
	e.checkReconcile(t)
}

// TestPauseWhileWaitingForTokens: a campaign paused while its chunk waits
// for rate tokens sends nothing more, whether the tokens stay held through
// the pause (the chunk stops waiting: its task ends while the limiter still
// refuses) or a token comes right after the pause returned (the chunk may
// take it, but claims and sends nobody). Its recipients stay pending, with
// no claim outstanding, and a resume sends each of them once.
func TestPauseWhileWaitingForTokens(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		tokens bool // a token right after the pause
	}{
		{name: "tokens held through the pause"},
		{name: "a token right after the pause", tokens: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, nil)
			e.stage(t, opts{n: 3, rate: "10/m"})
			holdTokens(t, e)
			asks := watchLimiter(t, e)
			e.startWorker(t, wopts{concurrency: 1})
			wait.For(t, time.Minute, "the chunk to wait for a rate token", func() bool { return asks.Load() >= 2 })
			if err := pause(e.st, e.name, store.Actor{Who: "oncall", Host: "h", Env: "test"}); err != nil {
				t.Fatal(err)
			}
			if tc.tokens {
				giveToken(t, e)
			}
			wait.For(t, time.Minute, "the chunk to stop, its claims given back", func() bool { return e.active(t) == 0 && e.claimed(t) == 0 },
				func() string { return fmt.Sprintf("active chunks %d, claimed %d", e.active(t), e.claimed(t)) })
			if got := e.smtp.Count(); got != 0 {
				t.Errorf("%d messages reached the SMTP server after a pause made while the chunk waited for rate tokens, want none", got)
			}
			if got := e.smtp.Connections(); !tc.tokens && got != 0 {
				t.Errorf("%d SMTP connections opened, want none: the chunk stopped waiting for tokens it never got", got)
			}
			st, err := e.st.Status(context.Background(), e.name)
			if err != nil {
				t.Fatal(err)
			}
			if st.State != store.StatePaused || st.Counts[store.OutcomePending] != int64(e.staged) {
				t.Errorf("state %s, counts %v: want paused, all %d recipients pending", st.State, st.Counts, e.staged)
			}

			if _, err := e.st.Resume(context.Background(), e.name, store.Actor{Who: "oncall", Host: "h", Env: "test"}, "fixed"); err != nil {
				t.Fatal(err)
			}
			// One token at a time (a burst of 1), as the worker asks.
			wait.For(t, time.Minute, "every recipient sent after the resume", func() bool {
				giveToken(t, e)
				return e.smtp.Count() >= e.staged
			})
			e.waitState(t, time.Minute, store.StateDone)
			if st := e.checkReconcile(t); st.Counts[store.OutcomeSent] != int64(e.staged) {
				t.Errorf("counts %v after the resume, want all %d sent", st.Counts, e.staged)
			}
		})
	}
}
