package cli

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/tidings-mail/tidings/internal/smtpcapture"
	"github.com/tidings-mail/tidings/internal/wait"
)

// TestCancelledCampaignDoesNotSayRetried: the errors of a
// cancelled campaign, as status words them.
//
// README (Operator's walk-through, 6. Watch): "A temporary error is
// `temporary, retried` while retries remain; once a recipient's retries ran
// out it is `temporary, retries exhausted: N failed`". README (On-call):
// cancel "stops the campaign (only `send --resume-existing` runs it
// again) ... Every unsent recipient becomes `cancelled`".
//
// A campaign whose relay answered 451 to its first attempts is cancelled
// while those recipients wait for their retry: they are cancelled and
// nothing is retried. Red team 14d found status listed the group as
// "451 4.7.1 try again later (temporary, retried, last ...)" under
// "CANCELLED"; the wording now depends on the campaign's state
// (statusview's errorKind): "temporary; any still waiting for a retry were
// cancelled".
func TestCancelledCampaignDoesNotSayRetried(t *testing.T) {
	t.Parallel()
	smtp := startSMTP(t, smtpcapture.Config{Fault: func(string) error {
		return smtpcapture.Reject(451, "4.7.1 try again later")
	}})
	renv, _ := redisEnv(t)
	env := merge(renv, smtpEnv(smtp))
	var rows []string
	for i := range 20 {
		rows = append(rows, fmt.Sprintf("p%02d@example.org,P,en,1", i))
	}
	file := writeCampaign(t, campaignFile{name: "greylisted", rows: rows,
		extra: "auto_pause:\n  error_rate: 0.9\n  window: 50\n  min_attempts: 50\nretry:\n  max_attempts: 5\n  backoff: 1h\n"})
	if r := cli(t, env, "send", file, "--env", "staging"); r.code != 0 {
		t.Fatalf("send\n%s", r)
	}
	_, log := startWorker(t, env)
	wait.For(t, time.Minute, "every recipient waiting for its retry", func() bool { return status(t, env, "greylisted").Retries == 20 }, log.String)
	if r := cli(t, env, "cancel", "greylisted", "--env", "staging", "--reason", "wrong list"); r.code != 0 {
		t.Fatalf("cancel\n%s", r)
	}
	st := status(t, env, "greylisted")
	if st.State != "cancelled" || st.Counts["cancelled"] != 20 {
		t.Fatalf("after cancel: %+v", st)
	}
	r := cli(t, env, "status", "greylisted", "--env", "staging")
	if want := "451 4.7.1 try again later (temporary; any still waiting for a retry were cancelled, last "; !strings.Contains(r.stdout, want) {
		t.Errorf("status of the cancelled campaign lacks %q\n%s", want, r.stdout)
	}
	// The audit log keeps what was said at the time (a batch gate that
	// paused the campaign before the cancel said "retried later" then):
	// only what status says of the campaign now is checked.
	now, _, _ := strings.Cut(r.stdout, "Audit log:")
	for _, l := range strings.Split(now, "\n") {
		if strings.Contains(l, "451 4.7.1") && strings.Contains(l, "temporary, retried") {
			t.Errorf("status of the cancelled campaign (20 cancelled, nothing will be retried) says its temporary failures are retried:\n%s\n\n%s", l, r.stdout)
		}
	}
}
