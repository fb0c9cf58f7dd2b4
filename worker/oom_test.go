package worker_test

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tidings-mail/tidings/internal/store"
	"github.com/tidings-mail/tidings/internal/syncbuf"
	"github.com/tidings-mail/tidings/internal/wait"
)

// TestRedisOutOfMemoryMidSend: Redis reaches its maxmemory in the middle of
// a send (maxmemory-policy noeviction, as deploy/redis.conf has it: every
// write is refused with OOM, reads still answered). Simulated on a real
// redis-server of the test's own by CONFIG SET maxmemory 1 once part of the
// campaign is sent. While writes are refused, every message the relay
// receives belongs to a recipient whose claim is in the ledger (a failed
// claim write is never followed by a send); the worker says so at WARN
// with what to do (maxmemory); once memory is raised again it resumes by
// itself and the campaign ends with every row accounted for and nobody
// mailed twice.
func TestRedisOutOfMemoryMidSend(t *testing.T) {
	t.Parallel()
	e, _ := persistentEnv(t)
	ctx := context.Background()
	const n = 400
	e.stage(t, opts{n: n, size: n, rate: "40/s"})
	var logs syncbuf.Buffer
	e.startWorker(t, wopts{journal: t.TempDir(), logs: &logs})
	wait.For(t, 30*time.Second, "40 messages", func() bool { return e.smtp.Count() >= 40 })
	if err := e.rdb.ConfigSet(ctx, "maxmemory", "1").Err(); err != nil {
		t.Fatal(err)
	}
	wait.For(t, 60*time.Second, "the worker to log Redis's OOM", func() bool {
		return strings.Contains(logs.String(), "OOM command not allowed")
	}, logs.String)
	// Everything the relay has received so far, and receives while writes
	// are refused, was claimed in the ledger before it was sent: looked at
	// three times, a second apart (a sample, not a timed assertion).
	for i := range 3 {
		if i > 0 {
			time.Sleep(time.Second)
		}
		got := e.received()
		ledger := map[string]store.Entry{}
		for i, en := range e.entries(t) {
			ledger[fmt.Sprintf("u%05d", i)] = en
		}
		for addr, c := range got {
			if c > 1 {
				t.Errorf("%s received %d messages", addr, c)
			}
			en := ledger[addr[:6]]
			if en.State == "" || en.Deferred() {
				t.Errorf("%s received a message but its ledger entry is %q: sent without a claim", addr, en.State)
			}
		}
		if len(got) >= n {
			t.Fatalf("all %d recipients were mailed while Redis refused every write", n)
		}
	}
	checkOutOfMemoryLog(t, logs.String())
	if err := e.rdb.ConfigSet(ctx, "maxmemory", "0").Err(); err != nil {
		t.Fatal(err)
	}
	wait.For(t, 120*time.Second, "the campaign to end once memory is freed", func() bool {
		return e.state(t) == store.StateDone
	}, logs.String)
	st := e.checkReconcile(t)
	if st.Counts[store.OutcomeSent] != n {
		t.Errorf("%d sent, want %d: %v", st.Counts[store.OutcomeSent], n, st.Counts)
	}
	if got := len(e.received()); got != n {
		t.Errorf("%d recipients received a message, want %d", got, n)
	}
}

// checkOutOfMemoryLog requires the worker's loops to have said Redis's OOM
// as an outage: each loop once at WARN with what to do (raise maxmemory,
// tidings doctor), its repeats held back (at DEBUG, or a WARN saying it
// still lasts), not one WARN line per pass. A chunk's own retries of its
// rate tokens or its ledger step, which end with the chunk, are not a
// loop; each says what to do all the same (raise maxmemory).
func checkOutOfMemoryLog(t *testing.T, l string) {
	t.Helper()
	said := map[string]int{}
	for line := range strings.Lines(l) {
		if !strings.Contains(line, "level=WARN") || !strings.Contains(line, "OOM command not allowed") ||
			strings.Contains(line, "Redis is still out of memory") {
			continue
		}
		if strings.Contains(line, "take rate tokens failed") || strings.Contains(line, "ledger step failed; trying again") {
			if !strings.Contains(line, "raise maxmemory") {
				t.Errorf("a chunk's retry on Redis's OOM does not say what to do (raise maxmemory): %s", line)
			}
			continue
		}
		m := msgOf(line)
		loop, _, _ := strings.Cut(m, ": ")
		if said[loop]++; said[loop] == 2 {
			t.Errorf("loop %q said Redis's OOM at WARN again:\n%s\nlog:\n%s", loop, line, l)
		}
		if !strings.Contains(m, "raise maxmemory") && !strings.Contains(m, "Raise maxmemory") || !strings.Contains(m, "tidings doctor") {
			t.Errorf("the WARN of loop %q does not say what to do (raise maxmemory, tidings doctor): %s", loop, line)
		}
	}
	if len(said) == 0 {
		t.Errorf("no loop said Redis's OOM at WARN; log:\n%s", l)
	}
}

// msgOf is the msg of a log line of slog's text handler.
func msgOf(line string) string {
	_, m, _ := strings.Cut(line, " msg=")
	if strings.HasPrefix(m, `"`) {
		if q, err := strconv.QuotedPrefix(m); err == nil {
			u, _ := strconv.Unquote(q)
			return u
		}
	}
	m, _, _ = strings.Cut(m, " ")
	return m
}
