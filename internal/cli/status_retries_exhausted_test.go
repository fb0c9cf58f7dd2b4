package cli

import (
	"regexp"
	"strings"
	"testing"

	"github.com/tidings-mail/tidings/internal/smtpcapture"
)

// TestStatusSaysRetriesExhaustedOfFailuresNotRetried: a relay answers
// every RCPT with 451; with `retry.max_attempts: 1` all four recipients
// are failed for good and the campaign is DONE, no retry waiting. Status's
// error line says their retries are exhausted (4 failed), never
// "retried", and the hint says what alone sends them: `tidings retry`.
func TestStatusSaysRetriesExhaustedOfFailuresNotRetried(t *testing.T) {
	t.Parallel()
	renv, _ := redisEnv(t)
	smtp := startSMTP(t, smtpcapture.Config{Fault: func(string) error { return smtpcapture.Reject(451, "4.3.0 try again later") }})
	env := merge(renv, smtpEnv(smtp))
	file := writeCampaign(t, campaignFile{name: "noretry", rows: rowsIn(4, "en"),
		batches: "  interval: 0s\n  size: 10", extra: "retry:\n  max_attempts: 1\n"})
	stop, _ := sendUntil(t, env, file, "noretry", "done")
	stop()

	st := status(t, env, "noretry")
	if st.Counts["failed"] != 4 || st.Retries != 0 {
		t.Fatalf("setup: want 4 failed for good and no retry waiting, got counts %v, %d retries waiting", st.Counts, st.Retries)
	}
	r := cli(t, env, "status", "noretry", "--env", "staging")
	if r.code != 0 {
		t.Fatalf("status\n%s", r)
	}
	line := regexp.MustCompile(`(?m)^ +4x 451 .*$`).FindString(r.stdout)
	if line == "" {
		t.Fatalf("status lists no error group for the four 451 replies\n%s", r)
	}
	if regexp.MustCompile(`\bretried\b`).MatchString(line) {
		t.Errorf("status of a DONE campaign whose 4 recipients failed for good (max_attempts 1, no retry waiting) says their error is retried: %q\n%s", line, r)
	}
	for _, want := range []string{"(temporary, retries exhausted: 4 failed, last ", "tidings retry noretry --env staging re-queues them"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("status does not say %q\n%s", want, r)
		}
	}
}
