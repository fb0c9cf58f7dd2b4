package cli

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/tidings-mail/tidings/internal/syncbuf"
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
	// Two refreshes, then the watch is stopped (as Ctrl-C or the job's
	// end): when its second line is written, not after a time (a time of
	// 1.5 s ended it before its first read of Redis on a loaded machine:
	// "read status of idle-watch: context deadline exceeded").
	ctx, stop := context.WithCancel(t.Context())
	defer stop()
	out := &stopAtLines{lines: 2, stop: stop}
	var stderr syncbuf.Buffer
	code := run(ctx, []string{"status", c, "--env", "staging", "--watch", "--interval", "1s"}, strings.NewReader(""), out, &stderr, func(k string) string { return env[k] }, environOf(env))
	r := result{code: code, stdout: out.String(), stderr: stderr.String()}
	lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
	if r.code != 0 || len(lines) != 2 || !strings.Contains(lines[0], "state=running") {
		t.Fatalf("status --watch to a pipe\n%s", r)
	}
	for _, l := range lines {
		if !strings.Contains(strings.ToLower(l), "no progress") && !strings.Contains(l, "due_since") {
			t.Errorf("status --watch, not to a terminal, shows the campaign nobody has sent for 3 minutes as only running:\n%s\n(status without --watch says: NO PROGRESS for 3m...)", l)
		}
	}
}

// stopAtLines is a standard output that calls stop once lines lines were
// written to it.
type stopAtLines struct {
	syncbuf.Buffer
	lines int
	stop  func()
}

func (w *stopAtLines) Write(p []byte) (int, error) {
	n, err := w.Buffer.Write(p)
	if strings.Count(w.String(), "\n") >= w.lines {
		w.stop()
	}
	return n, err
}
