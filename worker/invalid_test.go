package worker_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/tidings-mail/tidings/internal/report"
	"github.com/tidings-mail/tidings/internal/statusview"
	"github.com/tidings-mail/tidings/internal/store"
)

// TestUnrenderableRowIsInvalid: a recipient whose row the template cannot
// be rendered with (a posts count that is no number, "lots", staged as it
// is: plan would have filed such a row invalid, so it is staged here
// directly) is recorded invalid, code render-error, with the render error
// as its response, as the README's Outcomes promise: never refused (the
// locale rule's outcome), never sent, never retried. Status (by language
// and by batch), the report (also filtered to --outcome invalid), the
// delivery journal and the worker's metrics all count it invalid, and the
// campaign still finishes.
func TestUnrenderableRowIsInvalid(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := newEnv(t, nil)
	bad := func(i int) bool { return i%5 == 3 }
	e.stage(t, opts{n: 30, size: 100, posts: func(i int) string {
		if bad(i) {
			return "lots"
		}
		return fmt.Sprint(i % 4)
	}})
	jdir := t.TempDir()
	reg := prometheus.NewRegistry()
	e.startWorker(t, wopts{journal: jdir, metrics: reg})
	e.waitState(t, 60*time.Second, store.StateDone)
	st := e.checkReconcile(t) // also: nobody but the sent received a message

	badIDs, badByLang := map[string]bool{}, map[string]int64{}
	for i := range 30 {
		if bad(i) {
			badIDs[fmt.Sprintf("id%05d", i)] = true
			badByLang[testLangs[i%len(testLangs)]]++
		}
	}
	if st.Counts[store.OutcomeInvalid] != 6 || st.Counts[store.OutcomeRefused] != 0 || st.Counts[store.OutcomeSent] != 24 || e.smtp.Count() != 24 {
		t.Errorf("counts %v, server received %d; want 24 sent, 6 invalid, none refused", st.Counts, e.smtp.Count())
	}
	for _, l := range st.Languages {
		if l.Counts[store.OutcomeInvalid] != badByLang[l.Lang] || l.Counts[store.OutcomeRefused] != 0 {
			t.Errorf("%s: counts %v, want %d invalid, none refused", l.Lang, l.Counts, badByLang[l.Lang])
		}
	}
	var inBatches int
	for _, b := range st.Batches {
		inBatches += b.Invalid
		if b.Refused != 0 {
			t.Errorf("batch %d counts %d refused", b.Batch, b.Refused)
		}
	}
	if inBatches != 6 {
		t.Errorf("the batches count %d invalid, want 6", inBatches)
	}
	got := e.received()
	if err := e.st.Report(ctx, e.name, func(r store.Row) error {
		if !badIDs[r.ID] {
			return nil
		}
		if r.Outcome != store.OutcomeInvalid || r.Code != "render-error" || !strings.Contains(r.Response, `"lots"`) {
			t.Errorf("%s: %s, code %q, response %q; want invalid, render-error, naming the value \"lots\"", r.ID, r.Outcome, r.Code, r.Response)
		}
		if got[r.Email] != 0 {
			t.Errorf("%s (invalid) received %d message(s)", r.Email, got[r.Email])
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}

	// The summary status prints (nobody waits for a retry), and `report
	// --outcome invalid`.
	var sv strings.Builder
	statusview.Write(&sv, st, "")
	if !strings.Contains(sv.String(), "invalid 6") || !strings.Contains(sv.String(), "refused 0") || strings.Contains(sv.String(), "wait for their retry") {
		t.Errorf("status does not count the rows invalid:\n%s", sv.String())
	}
	var csv strings.Builder
	if err := report.Write(ctx, e.st, e.name, &csv, report.Options{Format: report.FormatCSV, Outcomes: []string{store.OutcomeInvalid}}); err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(csv.String(), ",invalid,render-error,"); n != 6 || strings.Count(csv.String(), "\n") != 7 {
		t.Errorf("report --outcome invalid: want the header and the 6 invalid rows, got %d such rows\n%s", n, csv.String())
	}

	// The delivery journal (report --journal, --exclude-delivered).
	j, err := report.ReadJournal(jdir, e.name)
	if err != nil {
		t.Fatal(err)
	}
	if j.Counts[store.OutcomeInvalid] != 6 || j.Counts[store.OutcomeRefused] != 0 {
		t.Errorf("the journal counts %v, want 6 invalid, none refused", j.Counts)
	}
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var metric float64
	for _, mf := range mfs {
		if mf.GetName() != "tidings_messages_total" {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, lp := range m.GetLabel() {
				if lp.GetName() == "outcome" && lp.GetValue() == store.OutcomeInvalid {
					metric += m.GetCounter().GetValue()
				}
			}
		}
	}
	if metric != 6 {
		t.Errorf("tidings_messages_total{outcome=\"invalid\"} is %v, want 6", metric)
	}

	// A retry, even of permanent failures, leaves them invalid.
	if retried, err := e.st.Requeue(ctx, e.name, tester, store.RetryScope{Permanent: true}); err != nil || retried.N != 0 {
		t.Errorf("retry --permanent re-queued %d (err %v), want none", retried.N, err)
	}
	after, err := e.st.Status(ctx, e.name)
	if err != nil {
		t.Fatal(err)
	}
	if after.Counts[store.OutcomeInvalid] != 6 || after.Counts[store.OutcomePending] != 0 {
		t.Errorf("after a retry: counts %v, want 6 invalid, none pending", after.Counts)
	}
}
