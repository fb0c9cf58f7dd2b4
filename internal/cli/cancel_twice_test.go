package cli

import (
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tidings-mail/tidings/internal/smtpcapture"
	"github.com/tidings-mail/tidings/internal/wait"
)

// TestSecondCancelSaysAlreadyCancelled: a second `tidings cancel` of a
// cancelled campaign (two on-call engineers, or one running the command
// again to be sure) changes nothing and records nothing, as a second pause
// does: it says whose cancel holds, when and why, that nothing changed and
// that its reason is not recorded, and never "Cancelled". The audit log
// keeps the first cancel only. (TestControlCommands: a second resume or
// approve says the same.)
func TestSecondCancelSaysAlreadyCancelled(t *testing.T) {
	t.Parallel()
	env, _ := redisEnv(t)
	c := stageCampaign(t, env, "c2x")
	if r := cli(t, env, "cancel", c, "--env", "staging", "--reason", "wrong recipients file"); r.code != 0 {
		t.Fatalf("first cancel\n%s", r)
	}
	r := cli(t, env, "cancel", c, "--env", "staging", "--reason", "legal asked us to stop")
	if r.code != 0 {
		t.Fatalf("second cancel\n%s", r)
	}
	for _, want := range []string{c + " was already cancelled by ", " (wrong recipients file): nothing changed, and this reason is not recorded."} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("the second cancel does not say %q:\n%s", want, r)
		}
	}
	if strings.HasPrefix(r.stdout, "Cancelled ") {
		t.Errorf("the second cancel says it cancelled although it changed nothing:\n%s", r)
	}
	st := status(t, env, c)
	var reasons []string
	for _, a := range st.Audit {
		if a.Action == "cancel" {
			reasons = append(reasons, a.Reason)
		}
	}
	if len(reasons) != 1 || reasons[0] != "wrong recipients file" {
		t.Errorf("audit log's cancels: %q, want the first one only", reasons)
	}
}

// TestCancelSaysTheCountIsNotFinalWhileMessagesAreInFlight: `tidings
// cancel` while a worker holds a message in the SMTP server's hands (the
// server has not answered its RCPT yet) says how many it cancelled, that
// some were being sent (claimed by the worker) and so the count is not
// final, and where to read the final one; once the server answers, the
// worker records them (the held one sent), as status then says.
func TestCancelSaysTheCountIsNotFinalWhileMessagesAreInFlight(t *testing.T) {
	t.Parallel()
	renv, _ := redisEnv(t)
	smtp, held, release := holdingSMTP(t)
	env := merge(renv, smtpEnv(smtp))
	file := writeCampaign(t, campaignFile{name: "inflight", rows: []string{"ada@example.org,Ada,en,1", "bo@example.org,Bo,en,2", "cy@example.org,Cy,en,3"}})
	if r := cli(t, env, "send", file, "--env", "staging"); r.code != 0 {
		t.Fatalf("send\n%s", r)
	}
	_, log := startWorker(t, env, "--concurrency", "1", "--log-level", "warn")
	select {
	case <-held:
	case <-time.After(time.Minute):
		t.Fatalf("no message reached the SMTP server\n%s", log)
	}
	r := cli(t, env, "cancel", "inflight", "--env", "staging", "--reason", "wrong recipients file")
	m := regexp.MustCompile(`^Cancelled inflight: (\d+) unsent recipients recorded as cancelled; (\d+) were being sent at that moment`).FindStringSubmatch(r.stdout)
	if r.code != 0 || m == nil || m[2] == "0" {
		t.Fatalf("cancel while a message is in the SMTP server's hands: want exit 0 saying how many were being sent\n%s", r)
	}
	contains(t, "cancel's output", r.stdout, "so this count is not final: run `tidings status inflight --env staging` for the final count")
	release()
	// The worker records those in flight (the one held, and the rest of
	// its claim window: sent, or given back as cancelled): none is left in
	// doubt, and the final count adds up.
	wait.For(t, time.Minute, "the messages in flight to be recorded", func() bool {
		st := status(t, env, "inflight")
		return st.Counts["sent"] >= 1 && st.Counts["sent"]+st.Counts["cancelled"] == 3 && st.Counts["in-doubt"] == 0
	}, func() string {
		return cli(t, env, "status", "inflight", "--env", "staging").stdout + "\n" + log.String()
	})
	// A second cancel says what is true now: nothing is being sent, so
	// not the first's "were being sent at that moment ... not final".
	again := cli(t, env, "cancel", "inflight", "--env", "staging", "--reason", "again")
	contains(t, "a second cancel's output", again.stdout, "none is being sent now")
	for _, stale := range []string{"were being sent at that moment", "not final"} {
		if strings.Contains(again.stdout, stale) {
			t.Errorf("a second cancel, once every message in flight was recorded, says %q\n%s", stale, again)
		}
	}
}

// holdingSMTP starts an SMTP capture server that holds every RCPT (a relay
// slow to answer) until release is called (at the latest, the test's end);
// held receives each recipient held.
func holdingSMTP(t *testing.T) (srv *smtpcapture.Server, held <-chan string, release func()) {
	t.Helper()
	h, stop := make(chan string, 64), make(chan struct{})
	var once sync.Once
	srv = startSMTP(t, smtpcapture.Config{Fault: func(rcpt string) error {
		h <- rcpt
		<-stop
		return nil
	}})
	release = func() { once.Do(func() { close(stop) }) }
	t.Cleanup(release)
	return srv, h, release
}
