package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tidings-mail/tidings/internal/store"
	"github.com/tidings-mail/tidings/internal/wait"
	"github.com/tidings-mail/tidings/worker"
)

// TestOnCallPartlyDegradedRelayWithTheBinary: README's "On-call: a
// campaign at 2 a.m." walked with the binary, a real redis-server and
// aiosmtpd as a relay that degrades partly, per recipient domain, and
// recovers (testdata/partrelay.py): throttled.example answered 421 (the
// connection closed) or 451, refusing.example 550 5.1.1 for good,
// slow.example 2 s a recipient, and one message in twenty read whole,
// then its connection dropped before the reply. The campaign pauses
// itself (error_rate 0.5 of the last attempts, after min_attempts); the
// webhook says so, with the reason and the top error; status names the
// replies, no address. On-call resumes while it is still degraded and
// pauses again by hand: once `pause` has returned, at most one message a
// connection reaches the relay, then none. The relay recovers, on-call
// resumes, and the campaign ends with every row accounted for: the
// in-doubt ones counted by the done notification, reported by status
// with the command that lists them and never offered to the relay
// again; nobody sent twice; no throttled recipient tried more than
// retry.max_attempts times.
func TestOnCallPartlyDegradedRelayWithTheBinary(t *testing.T) {
	t.Parallel()
	const (
		name        = "e2e-partial"
		n           = 160
		connections = 2
	)
	relay, phase, port := startScriptRelay(t, "partrelay.Partial", "degraded")
	url, received := webhookRecorder(t)
	e := consoleWorld(t, port, url)
	cdir := filepath.Join(e.dir, "campaign")
	bundledCampaignDirs(t, cdir, false)
	domains := [...]string{"throttled.example", "refusing.example", "slow.example", "ok.example"}
	var csv strings.Builder
	csv.WriteString("email,name,locale,posts\n")
	for i := range n {
		fmt.Fprintf(&csv, "u%05d@%s,User %d,en,%d\n", i, domains[i%4], i, i%4)
	}
	file := writeCampaign(t, cdir, campaignSpec{name: name, templatesDir: "templates", localesDir: "locales", size: n}, csv.String())
	// Retries a few seconds apart, so that the throttled are sent soon
	// after the relay recovers.
	f, err := os.OpenFile(file, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteString("retry:\n  max_attempts: 8\n  backoff: 2s\n"); err != nil {
		t.Fatal(err)
	}
	f.Close()
	e.mustRun("send", file, "--env", envName)
	w := e.startWorker("worker-1", connections)

	// 1. The auto-pause, and its notification.
	st := e.waitState(name, "paused", 3*time.Minute, w)
	t.Logf("auto-pause: %s; counts %v", st.Reason, st.Counts)
	if st.By != "auto-pause" || !strings.HasPrefix(st.Reason, "auto-pause: error rate ") || !strings.Contains(st.Reason, "last error: ") {
		t.Errorf("paused by %s for %q, want the auto-pause with its rate and last error", st.By, st.Reason)
	}
	wait.For(t, time.Minute, "the auto-pause notification", func() bool { return len(received("auto-pause")) > 0 })
	ev := received("auto-pause")[0]
	t.Logf("notification: %v", ev)
	if ev["campaign"] != name || !strings.Contains(fmt.Sprint(ev["reason"]), "error rate") || ev["top_error"] == nil {
		t.Errorf("notification %v: want the campaign, the reason and the top error", ev)
	}
	// 3. status: why, and the errors by SMTP reply (no address shown).
	r := e.mustRun("status", name, "--env", envName)
	t.Logf("status:\n%s", r.stdout)
	for _, want := range []string{"auto-pause", "550 5.1.1", "4.7."} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("status does not show %q:\n%s", want, r.stdout)
		}
	}
	if strings.Contains(r.stdout, "@refusing.example") || strings.Contains(r.stdout, "@throttled.example") {
		t.Errorf("status shows a recipient's address:\n%s", r.stdout)
	}

	// 4. Resume while still degraded, pause again by hand: nothing new
	// starts once pause has returned, beyond a message a connection.
	e.mustRun("resume", name, "--env", envName, "--reason", "looks better")
	before := len(lines(t, filepath.Join(relay, "mail")))
	wait.For(t, time.Minute, "a message after the resume", func() bool { return len(lines(t, filepath.Join(relay, "mail"))) > before })
	e.mustRun("pause", name, "--env", envName, "--reason", "errors climbing at 2 a.m.")
	atPause := len(lines(t, filepath.Join(relay, "mail")))
	// What was in flight at the pause (2 s at the slow domain, longer on a
	// loaded machine) ends: no ledger claim is left.
	ids := make([]string, n)
	for i := range n {
		ids[i] = fmt.Sprintf("u%05d@%s", i, domains[i%4])
	}
	wait.For(t, time.Minute, "the claims held at the pause to end", func() bool {
		es, err := store.New(e.redis.Client()).Entries(context.Background(), name, ids)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.ContainsFunc(es, func(en store.Entry) bool { return en.State != "" }) {
			t.Fatalf("no ledger entry of the %d recipients by these ids (%s, ...): the wait would see no claim", n, ids[0])
		}
		return !slices.ContainsFunc(es, store.Entry.Sending)
	})
	settled := len(lines(t, filepath.Join(relay, "mail")))
	if settled-atPause > connections {
		t.Errorf("%d messages reached the relay after pause returned, want at most %d (one a connection)", settled-atPause, connections)
	}
	// The recipients deferred for a retry before the pause (back-offs of
	// 2 s, 4 s, ...) come due while the campaign is paused: by status's
	// retries_due (their deferrals plus the campaign's backoff), in
	// Redis's clock. A paused campaign's chunks end their tasks, so once
	// the environment's queue holds none (none deferred, none waiting or
	// running), nothing is left that could send them.
	q := "asynq:{" + worker.QueueOf(envName) + "}:"
	queued := func() string {
		rdb := e.redis.Client()
		ctx := context.Background()
		return fmt.Sprintf("retry %d, scheduled %d, pending %d, active %d",
			rdb.ZCard(ctx, q+"retry").Val(), rdb.ZCard(ctx, q+"scheduled").Val(), rdb.LLen(ctx, q+"pending").Val(), rdb.LLen(ctx, q+"active").Val())
	}
	var due struct {
		Waiting int64     `json:"retries_waiting"`
		Due     time.Time `json:"retries_due"`
	}
	wait.For(t, 3*time.Minute, "the retries deferred before the pause to come due, and the queue to hold no task", func() bool {
		r := e.mustRun("status", name, "--env", envName, "--json")
		due.Waiting, due.Due = 0, time.Time{} // omitted when none waits
		if err := json.Unmarshal([]byte(r.stdout), &due); err != nil {
			t.Fatalf("parse status --json: %v\n%s", err, r)
		}
		now, err := e.redis.Client().Time(context.Background()).Result()
		if err != nil {
			t.Fatal(err)
		}
		return !due.Due.After(now) && queued() == "retry 0, scheduled 0, pending 0, active 0"
	}, func() string {
		return fmt.Sprintf("%d retries waiting, due by %s; queue: %s", due.Waiting, due.Due, queued())
	})
	t.Logf("paused, with %d retries waiting, all due (by %s)", due.Waiting, due.Due.Format(time.RFC3339Nano))
	if got := len(lines(t, filepath.Join(relay, "mail"))); got != settled {
		t.Errorf("%d more messages reached the relay while the campaign was paused", got-settled)
	}
	if st := e.status(name); st.State != "paused" {
		t.Errorf("state %s after pause, want paused", st.State)
	}

	// The relay recovers, bar the unknown users; on-call resumes.
	phase("recovered")
	e.mustRun("resume", name, "--env", envName, "--reason", "relay recovered")
	st = e.waitState(name, "done", 4*time.Minute, w)
	t.Logf("done: %v", st.Counts)
	r = e.run("status", name, "--env", envName)
	t.Logf("status:\n%s", r.stdout)
	if !strings.Contains(r.stdout, "in doubt") || !strings.Contains(r.stdout, "--outcome in-doubt") {
		t.Errorf("status of a campaign with recipients in doubt does not say so with the command that lists them:\n%s", r.stdout)
	}

	rcpts, dropped, delivered := lines(t, filepath.Join(relay, "rcpt")), lines(t, filepath.Join(relay, "dropped")), lines(t, filepath.Join(relay, "delivered"))
	gone := map[string]bool{}
	for _, a := range rcpts {
		if d, ok := strings.CutPrefix(a, "dropped:"); ok {
			gone[d] = true
		} else if gone[a] {
			t.Errorf("%s offered to the relay again after its message was dropped after the dot", a)
		}
	}
	tried := map[string]int{}
	for _, a := range rcpts {
		if tried[a]++; strings.HasSuffix(a, "@throttled.example") && tried[a] == 9 {
			t.Errorf("%s: more than retry.max_attempts (8) RCPTs at a throttled domain", a)
		}
	}
	once := map[string]int{}
	for _, d := range delivered {
		if once[d]++; once[d] == 2 {
			t.Errorf("%s received two messages", d)
		}
	}
	// The done notification counts them.
	wait.For(t, time.Minute, "the done notification", func() bool { return len(received("done")) > 0 })
	if text := fmt.Sprint(received("done")[0]["text"]); !strings.Contains(text, fmt.Sprintf(", %d in doubt", len(dropped))) {
		t.Errorf("done notification %q does not count the %d in doubt", text, len(dropped))
	}
	rep := e.report(name)
	var sum int64
	for _, c := range rep.Counts {
		sum += c
	}
	if sum != n || rep.Counts["pending"] != 0 || rep.Counts["sent"] != int64(len(delivered)) || rep.Counts["in-doubt"] != int64(len(dropped)) {
		t.Errorf("report counts %v: want all %d accounted for, none pending, %d sent, %d in doubt", rep.Counts, n, len(delivered), len(dropped))
	}
	for _, rr := range rep.Recipients {
		switch {
		case gone[rr.Email]:
			if rr.Outcome != "in-doubt" {
				t.Errorf("%s: dropped after the dot, report says %s", rr.Email, rr.Outcome)
			}
		case strings.HasSuffix(rr.Email, "@refusing.example"):
			if rr.Outcome != "failed" || !strings.Contains(rr.Code+" "+rr.Response, "550") {
				t.Errorf("%s: refused 550 5.1.1, report says %s %q %q", rr.Email, rr.Outcome, rr.Code, rr.Response)
			}
		case rr.Outcome != "sent":
			t.Errorf("%s: report says %s %q %q, want sent", rr.Email, rr.Outcome, rr.Code, rr.Response)
		}
	}
}
