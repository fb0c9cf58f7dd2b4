package worker_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/tidings-mail/tidings/internal/smtpcapture"
	"github.com/tidings-mail/tidings/internal/store"
	"github.com/tidings-mail/tidings/internal/wait"
)

// messagesByOutcome sums tidings_messages_total over the registries (one a
// worker), by outcome.
func messagesByOutcome(t *testing.T, regs ...*prometheus.Registry) map[string]float64 {
	t.Helper()
	return messagesBy(t, func(labels map[string]string) string { return labels["outcome"] }, regs...)
}

// messagesBy sums tidings_messages_total over the registries, by the key
// key makes of each series' labels ("": not summed).
func messagesBy(t *testing.T, key func(labels map[string]string) string, regs ...*prometheus.Registry) map[string]float64 {
	t.Helper()
	return countersBy(t, "tidings_messages_total", key, regs...)
}

// countersBy sums counter name over the registries, by the key key makes
// of each series' labels ("": not summed).
func countersBy(t *testing.T, name string, key func(labels map[string]string) string, regs ...*prometheus.Registry) map[string]float64 {
	t.Helper()
	out := map[string]float64{}
	for _, r := range regs {
		mfs, err := r.Gather()
		if err != nil {
			t.Fatal(err)
		}
		for _, mf := range mfs {
			if mf.GetName() != name {
				continue
			}
			for _, m := range mf.GetMetric() {
				labels := map[string]string{}
				for _, l := range m.GetLabel() {
					labels[l.GetName()] = l.GetValue()
				}
				if k := key(labels); k != "" {
					out[k] += m.GetCounter().GetValue()
				}
			}
		}
	}
	return out
}

// TestMessagesTotalSumsToTheLedgerAcrossTwoWorkers: README (Metrics):
// tidings_messages_total is "the recipients it recorded, by the outcome the
// ledger recorded". Two workers send a rate-limited campaign whose relay
// greylists every fifth recipient once and refuses every thirteenth for
// good; one worker is stopped mid-campaign (its chunks go to the other), or
// the campaign is cancelled mid-way. Summed over both workers, the sent and
// failed counters equal the ledger's counts (nobody counted twice across
// retries, give-backs or the worker that stopped), nobody is left pending
// or in doubt, and the SMTP server received exactly the sent ones.
func TestMessagesTotalSumsToTheLedgerAcrossTwoWorkers(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name   string
		cancel bool
	}{{"a worker stopped mid-campaign", false}, {"cancelled mid-campaign", true}} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var mu sync.Mutex
			seen := map[string]int{}
			e := newEnv(t, func(rcpt string) error {
				var i int
				if _, err := fmtSscanf(rcpt, &i); err != nil {
					return nil
				}
				mu.Lock()
				seen[rcpt]++
				first := seen[rcpt] == 1
				mu.Unlock()
				switch {
				case i%13 == 0:
					return smtpcapture.Reject(550, "5.1.1 no such user")
				case i%5 == 0 && first:
					return smtpcapture.Reject(451, "4.7.1 greylisted")
				}
				return nil
			})
			e.stage(t, opts{n: 600, size: 200, rate: "150/s", errorRate: 0.9, backoff: "300ms"})
			r1, r2 := prometheus.NewRegistry(), prometheus.NewRegistry()
			stop1 := e.startWorker(t, wopts{metrics: r1, id: "w1"})
			stop2 := e.startWorker(t, wopts{metrics: r2, id: "w2"})
			if tt.cancel {
				wait.For(t, 30*time.Second, "250 messages", func() bool { return e.smtp.Count() >= 250 })
				if _, _, err := e.st.Cancel(context.Background(), e.name, tester, "test"); err != nil {
					t.Fatal(err)
				}
				wait.For(t, 30*time.Second, "no chunk active", func() bool { return e.active(t) == 0 })
			} else {
				wait.For(t, 30*time.Second, "200 messages", func() bool { return e.smtp.Count() >= 200 })
				stop1()
				e.waitState(t, 60*time.Second, store.StateDone)
			}
			stop1()
			stop2()
			st := e.checkReconcile(t)
			m := messagesByOutcome(t, r1, r2)
			for _, o := range []string{store.OutcomeSent, store.OutcomeFailed, store.OutcomeInDoubt} {
				if int64(m[o]) != st.Counts[o] {
					t.Errorf("tidings_messages_total{outcome=%q} summed over both workers is %v, the ledger counts %d", o, m[o], st.Counts[o])
				}
			}
			if st.Counts[store.OutcomePending] != 0 || st.Counts[store.OutcomeInDoubt] != 0 || st.Retries != 0 {
				t.Errorf("counts %v, %d retries waiting: want nobody pending, in doubt or waiting", st.Counts, st.Retries)
			}
			if int64(e.smtp.Count()) != st.Counts[store.OutcomeSent] {
				t.Errorf("the SMTP server received %d, the ledger counts %d sent", e.smtp.Count(), st.Counts[store.OutcomeSent])
			}
		})
	}
}
