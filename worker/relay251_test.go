package worker_test

import (
	"context"
	"testing"
	"time"

	"github.com/tidings-mail/tidings/internal/rawsmtp"
	"github.com/tidings-mail/tidings/internal/store"
	"github.com/tidings-mail/tidings/internal/wait"
)

// TestARelayAnswering251IsNotMailedAgain (red team 12c): a relay that
// answers the end of the data with 251 has taken the message (any 2xx is
// success, RFC 5321 4.2.1): each recipient is recorded sent, once.
//
// The promise: README, Guarantees: "At most once per recipient per
// campaign"; PRODUCT.md: "never sends a second message to someone
// already sent".
//
// What happened before the fix: the 251 was classified as a temporary failure, retried
// with backoff, and every recipient receives retry.max_attempts (3)
// messages and ends "failed" with "251" as its reply, a failure that
// `retry` would send again.
//
// Guessed cause: internal/send/pool.go, transact: the final reply is read
// with text.ReadResponse(250) (exactly 250); internal/send/classify.go
// makes every code that is not 5xx temporary.
func TestARelayAnswering251IsNotMailedAgain(t *testing.T) {
	t.Parallel()
	relay := rawsmtp.Start(t, rawsmtp.Options{Final: func() (string, bool) { return "251 2.1.5 Ok: queued as 4BX2, will forward\r\n", false }})
	cfg := relay.Config()
	cfg.Timeout = 5 * time.Second
	e := newEnv(t, nil) // its capture server is not used
	const n = 12
	// Few recipients, so that neither gate pauses the campaign before the
	// retries run (min_attempts 20; max_failure_rate 100%).
	e.stage(t, opts{n: n, size: n, maxFail: 1, maxAttempt: 3, backoff: "100ms"})
	e.startWorker(t, wopts{smtp: &cfg})
	wait.For(t, 60*time.Second, "the campaign to stop or finish", func() bool {
		s := e.state(t)
		return s == store.StatePaused || s == store.StateDone
	})
	st, err := e.st.Status(context.Background(), e.name)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%s (%s): %v", st.State, st.Reason, st.Counts)
	got := relay.Received()
	twice := 0
	for rcpt, c := range got {
		if c > 1 {
			twice++
			t.Errorf("%s was mailed %d times (the relay answered 251 to each)", rcpt, c)
		}
	}
	if twice > 0 {
		t.Errorf("%d of %d recipients were mailed more than once", twice, len(got))
	}
	if len(got) != n || st.State != store.StateDone || st.Counts[store.OutcomeSent] != n {
		t.Errorf("%d recipients reached the relay; campaign %s with %v; want all %d sent once, done", len(got), st.State, st.Counts, n)
	}
}
