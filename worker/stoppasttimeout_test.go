package worker_test

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/tidings-mail/tidings/internal/journal"
	"github.com/tidings-mail/tidings/internal/store"
	"github.com/tidings-mail/tidings/internal/wait"
)

// TestStopPastTheTimeoutKeepsTheCampaignRunning: the worker package is
// "embeddable in your own service" (README, Layout): Run returns and the
// service goes on. A worker stopped while the relay is slow to answer one
// message, longer than ShutdownTimeout (1 s here): Run returns while
// asynq's abandoned handler still waits for the relay. Then the relay
// answers 250.
//
// The handler records that outcome (the ledger has the message sent) and
// the campaign keeps running: Run leaves the delivery journal and the SMTP
// pool open while a handler it abandoned still runs (the last one closes
// them), so the handler does not find the journal closed and pause the
// campaign for every worker as one that "cannot write its delivery
// journal", although the disk is fine (a worker pauses a campaign with
// action `journal` only when its journal is broken).
func TestStopPastTheTimeoutKeepsTheCampaignRunning(t *testing.T) {
	t.Parallel()
	fault, inFlight, release := holdFirst(t)
	e := newEnv(t, fault)
	e.stage(t, opts{n: 20})
	dir := t.TempDir()
	slow := e.stopWhileHeld(t, dir, inFlight)
	release() // the relay answers now
	// Wait until the relay has the message, then until its outcome is
	// recorded or the campaign stops.
	wait.For(t, 30*time.Second, "the slow message accepted", func() bool { return e.received()[slow] == 1 })
	id := ""
	for i := range e.staged {
		if email(i, testLangs[i%len(testLangs)]) == slow {
			id = idOf(i)
		}
	}
	var en store.Entry
	wait.For(t, 30*time.Second, "the slow message's outcome recorded, or the campaign stopped", func() bool {
		es, err := e.st.Entries(context.Background(), e.name, []string{id})
		if err != nil {
			t.Fatal(err)
		}
		en = es[0]
		return en.Final() || e.state(t) != store.StateRunning
	})
	if st := e.state(t); st != store.StateRunning {
		ctl, _ := e.st.Control(context.Background(), e.name)
		t.Errorf("after the embedding service stopped its worker and the relay answered, the campaign is %s (%s by %s), ledger entry of %s: %+v", st, ctl.Reason, ctl.By, slow, en)
	}
	if en.State != store.OutcomeSent {
		t.Errorf("ledger entry of %s, whom the relay accepted: %+v, want sent", slow, en)
	}
	// The journal, still open for the handler, has the delivery too (its
	// line is written before the ledger records it).
	var lines []string
	if err := journal.Read(dir, e.name, func(je journal.Entry) error {
		if je.ID == id {
			lines = append(lines, je.Outcome)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(lines, "sent") {
		t.Errorf("the journal records %s as %v, want sent", slow, lines)
	}
}

// idOf is the id stage gives recipient i.
func idOf(i int) string { return fmt.Sprintf("id%05d", i) }
