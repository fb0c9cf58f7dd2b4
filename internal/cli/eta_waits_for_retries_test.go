package cli

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/tidings-mail/tidings/internal/smtpcapture"
	"github.com/tidings-mail/tidings/internal/wait"
)

// TestETAWaitsForTheRetriesDue: 18 of 20 recipients are sent, 2 got 451
// and wait for a retry that `retry.backoff: 10m` puts ten minutes away;
// nothing else is left. Status's ETA (eta_seconds, which the console and
// tidings_campaign_eta_seconds show too) is at least those ten minutes
// less the little that has passed, not the second the 2 would take at the
// recent rate, and status says when the retries are due.
func TestETAWaitsForTheRetriesDue(t *testing.T) {
	t.Parallel()
	smtp := startSMTP(t, smtpcapture.Config{Fault: func(rcpt string) error {
		if strings.HasPrefix(rcpt, "r1-") {
			return smtpcapture.Reject(451, "4.3.0 greylisted, try again later")
		}
		return nil
	}})
	renv, _ := redisEnv(t)
	env := merge(renv, smtpEnv(smtp))
	file := writeCampaign(t, campaignFile{name: "greylist", rows: rowsIn(10, "en", "de"),
		batches: "  size: 100\n  interval: 0s",
		extra:   "retry:\n  max_attempts: 4\n  backoff: 10m\nauto_pause:\n  error_rate: 0.9\n"})
	if r := cli(t, env, "send", file, "--env", "staging"); r.code != 0 {
		t.Fatalf("send\n%s", r)
	}
	_, log := startWorker(t, env, "--concurrency", "1", "--log-level", "warn")
	wait.For(t, time.Minute, "18 sent and 2 waiting for their retry", func() bool {
		st := status(t, env, "greylist")
		return st.Counts["sent"] == 18 && st.Retries == 2
	}, log.String)

	// The ETA, once status gives one (the recent rate is read over whole
	// seconds): 2 retries due no sooner than 10 minutes after their failure.
	var st struct {
		State      string  `json:"state"`
		ETASeconds float64 `json:"eta_seconds"`
		Retries    int64   `json:"retries_waiting"`
	}
	for range 50 {
		r := cli(t, env, "status", "greylist", "--env", "staging", "--json")
		if r.code != 0 || json.Unmarshal([]byte(r.stdout), &st) != nil {
			t.Fatalf("status --json\n%s", r)
		}
		if st.ETASeconds > 0 {
			break
		}
		time.Sleep(200 * time.Millisecond) // polling, not an assertion
	}
	if st.ETASeconds == 0 {
		t.Log("status gave no ETA: nothing false said")
		return
	}
	if st.State != "running" || st.Retries != 2 {
		t.Fatalf("setup: state %s, %d retries waiting", st.State, st.Retries)
	}
	if st.ETASeconds < 5*60 {
		text := cli(t, env, "status", "greylist", "--env", "staging").stdout
		t.Errorf("status's ETA is %.1f s, but the only recipients left wait for retries that retry.backoff (10m) puts minutes away\n%s", st.ETASeconds, text)
	}
	if text := cli(t, env, "status", "greylist", "--env", "staging").stdout; !strings.Contains(text, "2 of the pending failed temporarily and wait for their retry (not failed), all due by ") {
		t.Errorf("status does not say by when the retries are due:\n%s", text)
	}
}
