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

// TestShutdownGivesBackTheClaimsItDidNotSend: one worker, one SMTP
// connection, the default claim window of 16. The relay is slow to answer
// the first recipient of the window (a content scanner, a greylisting
// tarpit: the README itself waits up to 10 minutes for a final reply), and
// the worker gets SIGTERM (its context ends) meanwhile, with a shutdown
// timeout of one second. asynq's shutdown timeout abandons the handler
// that waits for the relay, and Run returns; the process would exit there.
//
// The README promises (Guarantees): "claims a stopping worker did not use
// are given back, never left in doubt". So when Run returns, only the
// recipient in the relay's hands is still claimed ("sending"): the 15 other
// claims of the window were given back by Run (Worker.fence), and the next
// worker sends them; none of them ends in doubt without a message.
func TestShutdownGivesBackTheClaimsItDidNotSend(t *testing.T) {
	t.Parallel()
	fault, inFlight, _ := holdFirst(t) // the relay answers only once the test is over
	e := newEnv(t, fault)
	e.stage(t, opts{n: 20})

	dir := t.TempDir()
	slow := e.stopWhileHeld(t, dir, inFlight)

	// The worker has returned: its process would exit now. Who is still
	// claimed ("sending") in the ledger?
	var ids []string
	byID := map[string]string{}
	for i := range e.staged {
		id := fmt.Sprintf("id%05d", i)
		ids = append(ids, id)
		byID[id] = email(i, testLangs[i%len(testLangs)])
	}
	es, err := e.st.Entries(context.Background(), e.name, ids)
	if err != nil {
		t.Fatal(err)
	}
	var claimed []string
	for i, en := range es {
		if en.State == "sending" && byID[ids[i]] != slow {
			claimed = append(claimed, byID[ids[i]])
		}
	}
	if len(claimed) > 0 {
		t.Errorf("after the worker stopped, %d recipients it never sent to are still claimed (sending): %v; only %s was in the relay's hands", len(claimed), claimed, slow)
	}

	// Its journal says the same: the claims given back are journaled as
	// unclaimed, so that a reader of the journal (a recovery after Redis
	// lost the campaign) does not take them as in doubt either.
	var open []string
	if err := journal.Read(dir, e.name, func(je journal.Entry) error {
		if je.Outcome == journal.OutcomeInDoubt {
			open = append(open, je.Email)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(open, []string{slow}) {
		t.Errorf("after the worker stopped, its journal holds %v claimed without an outcome; want only %s, in the relay's hands", open, slow)
	}

	// What that costs: the next worker runs the chunk again.
	stop := e.startWorker(t, wopts{id: "w2", concurrency: 1})
	defer stop()
	wait.For(t, 30*time.Second, "the campaign done", func() bool { return e.state(t) == store.StateDone })
	got := e.received()
	var neverSent []string
	err = e.st.Report(context.Background(), e.name, func(r store.Row) error {
		if r.Outcome == store.OutcomeInDoubt && r.Email != slow && got[r.Email] == 0 {
			neverSent = append(neverSent, r.Email)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(neverSent) > 0 {
		t.Errorf("%d recipients who were never sent a message are in-doubt (never sent again): %v", len(neverSent), neverSent)
	}
}
