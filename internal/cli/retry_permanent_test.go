package cli

import (
	"fmt"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/tidings-mail/tidings/internal/smtpcapture"
)

// TestRetryPermanentAfterTheRelayIsFixed: a relay that is not yet
// configured to relay for tidings answers RCPT with 554 5.7.1 (relay
// access denied) for everybody; tidings records those recipients failed
// for good and the campaign pauses itself. Once the relay is fixed,
// `retry` (temporary failures) and `send --resume-existing` do not reach
// them (red team 7: stuck); `retry --permanent --code 5.7.1` re-queues
// exactly them, says how many, and is audited. Afterwards everyone has
// received the campaign once, nobody twice.
func TestRetryPermanentAfterTheRelayIsFixed(t *testing.T) {
	t.Parallel()
	var denied atomic.Bool
	denied.Store(true)
	smtp := startSMTP(t, smtpcapture.Config{Fault: func(string) error {
		if denied.Load() {
			return smtpcapture.Reject(554, "5.7.1 Relay access denied")
		}
		return nil
	}})
	renv, _ := redisEnv(t)
	env := merge(renv, smtpEnv(smtp))
	const n = 40
	var rows []string
	for i := 0; i < n; i++ {
		rows = append(rows, fmt.Sprintf("u%02d@example.org,U%02d,en,1", i, i))
	}
	file := writeCampaign(t, campaignFile{name: "relay", rows: rows,
		extra: "auto_pause:\n  error_rate: 0.5\n  window: 10\n  min_attempts: 5\n"})
	rejects := filepath.Join(filepath.Dir(file), "rejects.csv")
	if r := cli(t, env, "send", file, "--env", "staging", "--rejects", rejects); r.code != 0 {
		t.Fatalf("send\n%s", r)
	}
	_, log := startWorker(t, env)
	waitState(t, env, "relay", "paused", log)
	failed := status(t, env, "relay").Counts["failed"]
	t.Logf("relay denied: %d recipients failed, campaign paused", failed)

	denied.Store(false) // the operator fixed the relay
	// The on-call engineer runs the retry the README shows first: it
	// re-queues nobody, and says why and what re-queues them, rather than
	// leaving "0" as the last word on a campaign whose whole canary failed.
	if r := cli(t, env, "retry", "relay", "--env", "staging"); r.code != 0 || !strings.Contains(r.stdout, "Re-queued 0 temporary failures of relay.") {
		t.Errorf("retry of temporary failures: want 0 re-queued, got exit %d: %s%s", r.code, r.stdout, r.stderr)
	} else {
		contains(t, "retry of temporary failures while permanent ones stand", r.stdout,
			fmt.Sprintf("%d recipient(s) of relay are still failed", failed),
			"tidings report relay --env staging --outcome failed",
			"tidings retry relay --env staging --permanent")
	}
	for _, bad := range []struct{ args []string }{{[]string{"--permanent", "--code", "5.7"}}, {[]string{"--code", "relay"}}} {
		if r := cli(t, env, append([]string{"retry", "relay", "--env", "staging"}, bad.args...)...); r.code != exitUsage || !strings.Contains(r.stderr, "enhanced status code (5.7.1)") {
			t.Errorf("retry %v: exit %d (%s), want 2 and what a code looks like", bad.args, r.code, r.stderr)
		}
	}
	// Another reply code matches nobody.
	if r := cli(t, env, "retry", "relay", "--env", "staging", "--permanent", "--code", "5.1.1"); r.code != 0 || !strings.Contains(r.stdout, "Re-queued 0 temporary and permanent failures with reply code 5.1.1 of relay.") {
		t.Errorf("retry --permanent --code 5.1.1: exit %d: %s%s", r.code, r.stdout, r.stderr)
	}
	r := cli(t, env, "retry", "relay", "--env", "staging", "--permanent", "--code", "5.7.1")
	if want := fmt.Sprintf("Re-queued %d temporary and permanent failures with reply code 5.7.1 of relay; it is paused: they go out after 'tidings resume relay --env staging'.", failed); r.code != 0 || !strings.Contains(r.stdout, want) {
		t.Errorf("retry --permanent --code 5.7.1: exit %d: %s%s; want %q", r.code, r.stdout, r.stderr, want)
	}
	st := status(t, env, "relay")
	if a := st.Audit[len(st.Audit)-1]; a.Action != "retry" || a.Reason != fmt.Sprintf("%d temporary and permanent failures with reply code 5.7.1 re-queued", failed) {
		t.Errorf("last audit entry %+v, want the retry and what it re-queued", a)
	}
	if st.Counts["failed"] != 0 || st.Retries != failed {
		t.Errorf("after the retry: counts %v, %d retries waiting; want 0 failed, %d waiting", st.Counts, st.Retries, failed)
	}
	// Status words them as what they are: failed for good, re-queued by
	// the retry; not "failed temporarily and wait for their retry".
	if st.RequeuedPermanent != failed {
		t.Errorf("after the retry: retries_requeued_permanent %d, want %d", st.RequeuedPermanent, failed)
	}
	text := cli(t, env, "status", "relay", "--env", "staging").stdout
	contains(t, "status after retry --permanent", text, fmt.Sprintf("%d of the pending failed for good and were re-queued by retry: they wait to be sent again (not failed)", failed),
		fmt.Sprintf(", %d failed for good and re-queued by retry, failed 0", failed))
	if strings.Contains(text, "failed temporarily") {
		t.Errorf("status after retry --permanent calls the re-queued permanent failures temporary\n%s", text)
	}
	if r := cli(t, env, "resume", "relay", "--env", "staging", "--reason", "relay fixed"); r.code != 0 {
		t.Fatalf("resume\n%s", r)
	}
	waitState(t, env, "relay", "done", log)
	// Run again, nobody is sent twice.
	if r := cli(t, env, "send", file, "--env", "staging", "--resume-existing", "--rejects", rejects); r.code != 0 || !strings.Contains(r.stdout, "nothing is left to send") {
		t.Errorf("send --resume-existing after everyone was sent: exit %d: %s%s", r.code, r.stdout, r.stderr)
	}

	got := map[string]int{}
	for _, m := range smtp.Messages() {
		for _, to := range m.To {
			got[to]++
		}
	}
	var never, twice int
	for i := 0; i < n; i++ {
		switch got[fmt.Sprintf("u%02d@example.org", i)] {
		case 0:
			never++
		case 1:
		default:
			twice++
		}
	}
	st = status(t, env, "relay")
	if st.RequeuedPermanent != 0 {
		t.Errorf("once the campaign is done: retries_requeued_permanent %d, want 0", st.RequeuedPermanent)
	}
	if never > 0 || twice > 0 || st.Counts["sent"] != n {
		t.Errorf("after the relay was fixed and retry --permanent, resume and send --resume-existing were run: %d of %d recipients never received the campaign (status: %v), %d received it twice; want everyone once",
			never, n, st.Counts, twice)
	}
}
