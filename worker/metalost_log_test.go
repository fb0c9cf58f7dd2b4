package worker_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/tidings-mail/tidings/internal/store"
	"github.com/tidings-mail/tidings/internal/syncbuf"
	"github.com/tidings-mail/tidings/internal/wait"
)

// TestMetaLostPauseRefusedLogsAsAnOutage: Redis lost a running campaign's
// meta while it refuses every write (out of memory: CONFIG SET maxmemory 1
// on a real redis-server), so the worker's pause of it as state loss
// fails pass after pass. Before, each pass logged an ERROR (the dispatch
// loop runs every 50 ms here: dozens of lines a second). Now the failed
// pause is said through the outage log: one WARN for the outage, saying
// what to do, its repeats held back, and one INFO when Redis takes writes
// again, when the campaign is paused as state loss, said once.
func TestMetaLostPauseRefusedLogsAsAnOutage(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e, _ := persistentEnv(t) // a Redis of its own: maxmemory 1 refuses every other test's writes too
	e.stage(t, opts{n: 300, size: 300, rate: "40/s"})
	var logs syncbuf.Buffer
	e.startWorker(t, wopts{journal: t.TempDir(), logs: &logs})
	wait.For(t, 30*time.Second, "40 messages", func() bool { return e.smtp.Count() >= 40 })
	if err := e.rdb.ConfigSet(ctx, "maxmemory", "1").Err(); err != nil {
		t.Fatal(err)
	}
	// UNLINK frees memory: Redis takes it while out of memory.
	if err := e.rdb.Unlink(ctx, fmt.Sprintf("tidings:{%s}:meta", e.name)).Err(); err != nil {
		t.Fatal(err)
	}
	const site = "pause a campaign whose meta Redis lost"
	wait.For(t, 60*time.Second, "the worker to say it cannot pause the campaign", func() bool {
		return strings.Contains(logs.String(), site)
	}, logs.String)
	// Many passes later (a sample, not a timed assertion: 50 ms a pass).
	time.Sleep(3 * time.Second)
	said := func(level, what string, but ...string) int {
		n := 0
	lines:
		for line := range strings.Lines(logs.String()) {
			if !strings.Contains(line, "level="+level) || !strings.Contains(line, what) {
				continue
			}
			for _, b := range but {
				if strings.Contains(line, b) {
					continue lines
				}
			}
			n++
		}
		return n
	}
	if n := said("ERROR", site); n != 0 {
		t.Errorf("%d ERROR lines %q while Redis refused writes, want none (one WARN for the outage):\n%s", n, site, logs.String())
	}
	// A reminder a minute ("still") is not a line more per pass.
	if n := said("WARN", site, "still"); n != 1 {
		t.Errorf("%d WARN lines %q while Redis refused writes, want 1:\n%s", n, site, logs.String())
	}
	if !strings.Contains(logs.String(), "raise maxmemory") && !strings.Contains(logs.String(), "Raise maxmemory") {
		t.Errorf("the WARN does not say what to do:\n%s", logs.String())
	}
	if err := e.rdb.ConfigSet(ctx, "maxmemory", "0").Err(); err != nil {
		t.Fatal(err)
	}
	wait.For(t, 60*time.Second, "the campaign to be paused as state loss", func() bool { return e.state(t) == store.StatePaused }, logs.String)
	wait.For(t, 30*time.Second, "the end of the outage said", func() bool { return said("INFO", `loop="`+site+`"`) == 1 }, logs.String)
	if n := said("ERROR", "campaign paused by this worker: Redis lost its meta"); n != 1 {
		t.Errorf("the pause said %d times, want once:\n%s", n, logs.String())
	}
	for addr, c := range e.received() {
		if c > 1 {
			t.Errorf("%s received %d messages", addr, c)
		}
	}
}
