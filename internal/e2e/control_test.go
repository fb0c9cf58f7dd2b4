package e2e

import (
	"context"
	"fmt"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/tidings-mail/tidings/internal/environment"
	"github.com/tidings-mail/tidings/internal/store"
	"github.com/tidings-mail/tidings/internal/wait"
)

// simpleRows builds n valid rows cycling through locales.
func simpleRows(n int, locales []string) []row {
	rows := make([]row, n)
	for i := range rows {
		rows[i] = row{
			email:  fmt.Sprintf("r%05d@e2e.example", i),
			name:   names[i%len(names)],
			locale: locales[i%len(locales)],
			posts:  strconv.Itoa(i % 23),
			want:   "sent",
		}
	}
	return rows
}

// stageSimple writes a campaign of rows with the bundled templates and
// catalogs and stages it with `tidings send`.
func (e *env) stageSimple(spec campaignSpec, rows []row) {
	e.t.Helper()
	e.stageIn("campaign", spec, rows)
}

// stageIn is stageSimple with the campaign's files in sub, a directory of
// e's own: campaigns staged from different subs stay apart.
func (e *env) stageIn(sub string, spec campaignSpec, rows []row) {
	e.t.Helper()
	cdir := filepath.Join(e.dir, sub)
	bundledCampaignDirs(e.t, cdir, false)
	spec.templatesDir, spec.localesDir = "templates", "locales"
	file := writeCampaign(e.t, cdir, spec, csvOf(e.t, rows))
	e.mustRun("send", file, "--env", envName)
}

// checkOnce fails the test for every recipient who received more than one
// message and, when all is set, for every row that received none. It
// returns the per-recipient counts.
func checkOnce(t *testing.T, srv mailServer, rows []row, all bool) map[string]int {
	t.Helper()
	per := byRecipient(srv.Messages(t))
	l := &limit{t: t}
	known := map[string]bool{}
	for _, r := range rows {
		known[r.id()] = true
		n := per[r.id()]
		if n > 1 || all && n != 1 {
			l.errorf("count", "%s (locale %q) received %d messages, want exactly 1", r.email, r.locale, n)
		}
	}
	for rc, n := range per {
		if !known[rc] {
			l.errorf("unknown", "%d messages to %q, who is not a recipient", n, rc)
		}
	}
	return per
}

// waitClaimsEnded waits until no row is claimed without an outcome in
// campaign's ledger (read through rdb). After a pause or cancel returned,
// that is when every message a worker began has reached the SMTP server (a
// worker records a message after the server's reply) and no other can
// begin (a claim reads the state in the script that makes it): the
// server's count holds from then on. A second's sleep stood for this, and
// a loaded machine can outlast it with a window claimed before.
func waitClaimsEnded(t *testing.T, rdb redis.UniversalClient, campaign string, rows []row) {
	t.Helper()
	ids := make([]string, len(rows))
	for i, r := range rows {
		ids[i] = r.id()
	}
	st := store.New(rdb)
	wait.For(t, time.Minute, "the claims in flight to end", func() bool {
		es, err := st.Entries(context.Background(), campaign, ids)
		if err != nil {
			t.Fatalf("read the ledger of %s: %v", campaign, err)
		}
		for _, e := range es {
			if e.Sending() {
				return false
			}
		}
		return true
	})
}

// TestWorkerSIGKILLResume kills a worker with SIGKILL in the middle of a
// campaign, starts another, and checks that nobody received two messages,
// that only what the killed worker had in flight is in doubt, and that the
// two workers' tidings_messages_total count nothing twice
// (checkCountersAfterKill).
func TestWorkerSIGKILLResume(t *testing.T) {
	t.Parallel()
	const (
		name        = "e2e-sigkill"
		n           = 3000
		concurrency = 4
	)
	srv := startSMTPSink(t)
	e := newEnv(t, srv.Port(), concurrency)
	rows := simpleRows(n, acceptedLocales)
	e.stageSimple(campaignSpec{name: name, size: 5000, rate: "400/s"}, rows)

	a1 := metricsAddr(t)
	w := e.start("worker-killed", "worker", "--env", envName, "--concurrency", fmt.Sprint(concurrency), "--metrics-addr", a1)
	var c1 map[string]float64 // the killed worker's last scrape
	wait.For(t, 2*time.Minute, "the first worker to send 300 messages", func() bool {
		if done, err := w.exited(); done {
			t.Fatalf("the first worker exited early (%v):\n%s", err, tail(w.log, 4000))
		}
		c1 = messagesTotal(t, a1, name)
		return srv.Count() >= 300 && c1 != nil
	})
	w.kill()
	killedAt := srv.Count()
	if st := e.status(name); st.State == "done" || killedAt >= n {
		t.Fatalf("the campaign finished before the worker was killed (state %s, %d captured): raise n or lower the rate", st.State, killedAt)
	}

	a2 := metricsAddr(t)
	w2 := e.start("worker-restarted", "worker", "--env", envName, "--concurrency", fmt.Sprint(concurrency), "--metrics-addr", a2)
	st := e.waitState(name, "done", 3*time.Minute, w2)
	per := checkOnce(t, srv, rows, false)

	rep := e.report(name)
	checkCountersAfterKill(t, rep, c1, messagesTotal(t, a2, name), killedAt)
	inDoubt := checkOutcomes(t, rep, per, true)
	// Each connection claims a window of recipients per ledger step (the
	// environment's claim_window): at most one window per connection is
	// claimed and unrecorded at the kill.
	if inDoubt > concurrency*environment.DefaultClaimWindow {
		t.Errorf("%d recipients in doubt; at most the killed worker's %d connections x %d claims can have been held", inDoubt, concurrency, environment.DefaultClaimWindow)
	}
	if got := st.Counts["sent"] + st.Counts["in-doubt"]; got != n {
		t.Errorf("status: sent %d + in-doubt %d = %d, want %d; counts %v", st.Counts["sent"], st.Counts["in-doubt"], got, n, st.Counts)
	}
	if len(rep.Recipients) != n {
		t.Errorf("report lists %d recipients, want %d", len(rep.Recipients), n)
	}
	// The journals account for every message the server saw, the killed
	// worker's last ones too (journaled as claimed before they went): what
	// a recovery after a loss of Redis state would exclude.
	r := e.mustRun("report", name, "--journal", filepath.Join(e.dir, "state", "journal"), "--outcome", "sent,in-doubt", "--format", "csv")
	journaled := map[string]bool{}
	for _, line := range strings.Split(r.stdout, "\n")[1:] {
		if f := strings.Split(line, ","); len(f) > 1 {
			journaled[strings.ToLower(f[1])] = true
		}
	}
	for rc, got := range per {
		if got > 0 && !journaled[rc] {
			t.Errorf("%s received a message that no journal holds as sent or in doubt", rc)
		}
	}
	t.Logf("killed after %d captured messages; %d in doubt; %d sent", killedAt, inDoubt, st.Counts["sent"])
}

// TestPauseResumeThreeWorkers pauses a rate-limited campaign served by three
// worker processes and checks that the SMTP server receives nothing more,
// then resumes it to the end.
func TestPauseResumeThreeWorkers(t *testing.T) {
	t.Parallel()
	const (
		name   = "e2e-pause"
		n      = 1500
		reason = "e2e: bounce rate climbing"
	)
	srv := startSMTPSink(t)
	e := newEnv(t, srv.Port(), 4)
	rows := simpleRows(n, acceptedLocales)
	e.stageSimple(campaignSpec{name: name, size: 5000, rate: "100/s"}, rows)
	var workers []*process
	for i := range 3 {
		workers = append(workers, e.startWorker(fmt.Sprintf("worker-%d", i+1), 4))
	}
	wait.For(t, 2*time.Minute, "150 messages before pausing", func() bool { return srv.Count() >= 150 })
	e.mustRun("pause", name, "--env", envName, "--reason", reason)

	// Messages already handed to the server may finish; once they have,
	// nothing more may arrive.
	waitClaimsEnded(t, e.redis.Client(), name, rows)
	base := srv.Count()
	st := e.status(name)
	if st.State != "paused" {
		t.Fatalf("after pause: state %s, want paused", st.State)
	}
	if st.Counts["sent"] >= n {
		t.Fatalf("the campaign finished before the pause took effect (%d sent): lower the rate", st.Counts["sent"])
	}
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		if got := srv.Count(); got != base {
			t.Fatalf("paused: the SMTP server had %d messages once the claims made before the pause had ended, then %d (want no change for 5 s)", base, got)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if got := e.status(name); got.State != "paused" || got.Reason != reason {
		t.Errorf("after 5 s paused: state %s reason %q, want paused with %q", got.State, got.Reason, reason)
	}

	e.mustRun("resume", name, "--env", envName)
	st = e.waitState(name, "done", 3*time.Minute, workers...)
	checkOnce(t, srv, rows, true)
	if st.Counts["sent"] != n {
		t.Errorf("done with counts %v, want %d sent", st.Counts, n)
	}

	who := currentUser(t)
	var pause, resume bool
	for _, a := range st.Audit {
		switch a.Action {
		case "pause":
			if a.Reason == reason && a.Who == who && a.Env == envName {
				pause = true
			}
		case "resume":
			resume = resume || a.Who == who
		}
	}
	if !pause || !resume {
		t.Errorf("status --json audit %+v: want a pause by %s in %s with reason %q, and a resume", st.Audit, who, envName, reason)
	}
	t.Logf("paused at %d captured messages", base)
}

// TestCanaryApproval sends a campaign in 6 languages with one canary per
// language and approval required: exactly 6 messages, one per language, then
// nothing until approve.
func TestCanaryApproval(t *testing.T) {
	t.Parallel()
	const name = "e2e-canary"
	langs := []string{"en", "de", "fr", "ja", "ar", "ru"}
	srv := startSMTPSink(t)
	e := newEnv(t, srv.Port(), 2)
	rows := simpleRows(60, langs)
	e.stageSimple(campaignSpec{name: name, canary: 1, size: 20, approve: true}, rows)
	w1, w2 := e.startWorker("worker-1", 2), e.startWorker("worker-2", 2)
	e.waitState(name, "awaiting-approval", 2*time.Minute, w1, w2)

	msgs := srv.Messages(t)
	var got []string
	for _, m := range msgs {
		ps, err := m.parts()
		if m.err != nil || err != nil {
			t.Fatalf("%s: %v %v", m.file, m.err, err)
		}
		lang := langOfHTML(ps.html)
		got = append(got, lang)
		for _, r := range rows {
			if len(m.rcpts) == 1 && r.id() == m.rcpts[0] && r.lang() != lang {
				t.Errorf("canary to %s (locale %q) is in %q", r.email, r.locale, lang)
			}
		}
	}
	sort.Strings(got)
	want := append([]string(nil), langs...)
	sort.Strings(want)
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("canary: %d messages in %v, want exactly one per language %v", len(got), got, want)
	}
	deadline := time.Now().Add(3 * time.Second)
	for time.Now().Before(deadline) {
		if c := srv.Count(); c != len(langs) {
			t.Fatalf("awaiting approval: %d messages at the SMTP server, want still %d", c, len(langs))
		}
		if st := e.status(name); st.State != "awaiting-approval" {
			t.Fatalf("state %s before approve, want awaiting-approval", st.State)
		}
		time.Sleep(200 * time.Millisecond)
	}

	e.mustRun("approve", name, "--env", envName)
	st := e.waitState(name, "done", 2*time.Minute, w1, w2)
	checkOnce(t, srv, rows, true)
	if st.Counts["sent"] != int64(len(rows)) {
		t.Errorf("done with counts %v, want %d sent", st.Counts, len(rows))
	}
}
