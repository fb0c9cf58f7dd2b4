package cli

import (
	"context"
	"strings"
	"testing"
	"time"
)

// TestStatusWatchInALogSaysNoProgress: `status --watch` run where
// its output is not a terminal (a CI job, `| tee watch.log`, a systemd unit
// or a tmux pipe on the on-call box) prints one plain line a refresh.
//
// README (On-call): "`status` of a running campaign whose recipients are
// due to be sent now ... but that has recorded no outcome for a minute since
// they became due, says so under its state (`NO PROGRESS for 4m10s ...
// check that a worker of environment production runs ...`): a worker that
// never started, or cannot reach Redis or the relay, does not hide behind
// `RUNNING`." help status: "--watch refreshes in place on a terminal
// (plain lines otherwise)" — the same status, as lines.
//
// Red team 14d found the plain line (statusview.Line) was `... state=running
// sent=0 ... pending=1 retries_waiting=0 rate=0.0/s`, refresh after
// refresh, for a campaign nobody had sent for 3 minutes: whoever watched
// the log (or grepped it) saw a campaign running. Each line now ends with
// stall="NO PROGRESS for ..." (statusview.Line), as status says it.
func TestStatusWatchInALogSaysNoProgress(t *testing.T) {
	t.Parallel()
	env, rd := redisEnv(t)
	c := stageCampaign(t, env, "idle-watch")
	// No worker runs; the campaign became due 3 minutes ago (its state's
	// time moved back, as TestStatusSaysNoProgress does).
	old := time.Now().Add(-3 * time.Minute).UnixMilli()
	if err := rd.Client().HSet(context.Background(), "tidings:{"+c+"}:control", "at", old).Err(); err != nil {
		t.Fatal(err)
	}
	if r := cli(t, env, "status", c, "--env", "staging"); !strings.Contains(r.stdout, "NO PROGRESS for 3m") {
		t.Fatalf("status (no --watch) does not say NO PROGRESS; the premise does not hold\n%s", r)
	}
	// Two refreshes, then the watch is stopped (as Ctrl-C or the job's end).
	ctx, stop := context.WithTimeout(t.Context(), 1500*time.Millisecond)
	defer stop()
	r := cliIn(t, ctx, env, strings.NewReader(""), "status", c, "--env", "staging", "--watch", "--interval", "1s")
	lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
	if r.code != 0 || len(lines) == 0 || !strings.Contains(lines[0], "state=running") {
		t.Fatalf("status --watch to a pipe\n%s", r)
	}
	for _, l := range lines {
		if !strings.Contains(strings.ToLower(l), "no progress") && !strings.Contains(l, "due_since") {
			t.Errorf("status --watch, not to a terminal, shows the campaign nobody has sent for 3 minutes as only running:\n%s\n(status without --watch says: NO PROGRESS for 3m...)", l)
		}
	}
}
