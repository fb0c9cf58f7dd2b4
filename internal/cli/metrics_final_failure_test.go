package cli

import (
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/tidings-mail/tidings/internal/smtpcapture"
	"github.com/tidings-mail/tidings/internal/wait"
)

// TestWorkerMetricsCountFinalFailuresAsFailed: README, "Metrics
// and notifications": each worker serves
// `tidings_messages_total{campaign,lang,outcome}` ("Recipients processed by
// this worker, by campaign, matched language and outcome", its help); the
// outcomes a recipient can have are `sent`, `refused`, `invalid`, `failed`,
// `skipped`, `cancelled`, `pending`, `in-doubt` (README, Operator's
// walk-through, "Outcomes"), and a 4xx reply is "retried with backoff
// (`retry.backoff`, doubling, `retry.max_attempts`), then `failed`"
// (Sending semantics). deploy/grafana's "workers: {{outcome}}" panel plots
// this metric by its outcome label.
//
// What happens: a relay answers every RCPT with 451 and the campaign has
// `retry.max_attempts: 1`, so all four recipients are `failed` for good
// (status, report, the console's metrics say failed 4; the campaign is
// DONE). The worker's metric counts them as
// `tidings_messages_total{...,outcome="deferred"} 4` and has no
// `outcome="failed"` at all: an outcome that is not one of tidings' and
// that says the opposite of what happened (nobody will try them again).
// The same for the last attempt of every recipient whose retries ran out
// at any max_attempts.
//
// Guessed cause: worker/handler.go:652 (outcomeLabel) labels every
// store.KindTemp record "deferred", without looking at whether the attempt
// was the last one (res.Claims[j].Attempt >= policy.MaxAttempts: the
// ledger then records failed, lua/step.lua:210).
func TestWorkerMetricsCountFinalFailuresAsFailed(t *testing.T) {
	t.Parallel()
	renv, _ := redisEnv(t)
	smtp := startSMTP(t, smtpcapture.Config{Fault: func(string) error { return smtpcapture.Reject(451, "4.3.0 try again later") }})
	env := merge(renv, smtpEnv(smtp))
	_, stderr := startWorker(t, env, "--metrics-addr", "127.0.0.1:0", "--concurrency", "1", "--log-level", "info")
	addrRE := regexp.MustCompile(`"serving metrics" addr=(\S+)`)
	var addr string
	wait.For(t, 20*time.Second, "the worker to serve metrics", func() bool {
		if m := addrRE.FindStringSubmatch(stderr.String()); m != nil {
			addr = m[1]
		}
		return addr != ""
	}, stderr.String)

	file := writeCampaign(t, campaignFile{name: "lastfail", rows: rowsIn(4, "en"),
		batches: "  interval: 0s\n  size: 10", extra: "retry:\n  max_attempts: 1\n"})
	if r := cli(t, env, "send", file, "--env", "staging"); r.code != 0 {
		t.Fatalf("send\n%s", r)
	}
	waitState(t, env, "lastfail", "done", stderr)
	st := status(t, env, "lastfail")
	if st.Counts["failed"] != 4 || st.Retries != 0 {
		t.Fatalf("setup: want 4 failed for good, none waiting for a retry; counts %v, %d waiting", st.Counts, st.Retries)
	}
	// The outcomes are counted once recorded; the campaign is done, so they are.
	var body string
	wait.For(t, 10*time.Second, "the worker's metrics to count the 4 recipients", func() bool {
		_, body = httpGet(t, "http://"+addr+"/metrics")
		return regexp.MustCompile(`tidings_messages_total\{campaign="lastfail",lang="en",outcome="[a-z-]+"\} 4`).MatchString(body)
	}, func() string { return grepLines(body, "tidings_messages_total") })
	if want := `tidings_messages_total{campaign="lastfail",lang="en",outcome="failed"} 4`; !strings.Contains(body, want) {
		t.Errorf("4 recipients failed for good (status: failed 4, nothing waits for a retry), but the worker's metrics do not say %s:\n%s",
			want, grepLines(body, "tidings_messages_total"))
	}
}
