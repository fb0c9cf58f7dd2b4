package cli

import (
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/tidings-mail/tidings/internal/smtpcapture"
	"github.com/tidings-mail/tidings/internal/wait"
)

// TestWorkerMetricsCountFinalFailuresAsFailed: a worker's
// tidings_messages_total labels each recipient by the outcome the ledger
// recorded (README, Metrics and notifications; deploy/grafana's "workers:
// {{outcome}}" series). A relay answers every RCPT with 451 and the
// campaign has retry.max_attempts 1, so all four recipients are failed for
// good (status: failed 4, none waits for a retry): the metric says
// outcome="failed" 4. Before, every temporary failure was labelled
// "deferred", its last attempt too, and no final failure ever showed as
// failed.
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
		return regexp.MustCompile(`tidings_messages_total\{campaign="lastfail",environment="staging",lang="en",outcome="[a-z-]+"\} 4`).MatchString(body)
	}, func() string { return grepLines(body, "tidings_messages_total") })
	if want := `tidings_messages_total{campaign="lastfail",environment="staging",lang="en",outcome="failed"} 4`; !strings.Contains(body, want) {
		t.Errorf("4 recipients failed for good (status: failed 4, nothing waits for a retry), but the worker's metrics do not say %s:\n%s",
			want, grepLines(body, "tidings_messages_total"))
	}
}
