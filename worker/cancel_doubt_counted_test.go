package worker_test

import (
	"bufio"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/tidings-mail/tidings/internal/send"
	"github.com/tidings-mail/tidings/internal/store"
	"github.com/tidings-mail/tidings/internal/wait"
	"github.com/tidings-mail/tidings/worker"
)

// TestCancelInDoubtIsCounted: recipients claimed by a worker that died
// before it recorded them, in a campaign then cancelled, are recorded in
// doubt by the cancel's sweep (lua/sweep_chunk.lua); no claim ever finds
// them again (the campaign is cancelled), so no worker counted them, and
// a dashboard showed 0 in doubt while `report` listed them. The live
// worker counts them in tidings_messages_total{outcome="in-doubt"} (its
// /metrics) once their claimer is no longer alive, and the count equals
// the ledger's in-doubt recipients, what `report --outcome in-doubt`
// lists. A recipient whose claimer is alive is not counted while it may
// still record its outcome, nor once it recorded it (sent: its worker
// counts that).
func TestCancelInDoubtIsCounted(t *testing.T) {
	t.Parallel()
	const n, dead = 30, 4
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	e := newEnv(t, nil)
	e.stage(t, opts{name: "cancel-doubt", n: n, chunk: 10})
	l, recs := e.releaseFirst(t)
	// A claimer that stays alive (it says so, as a worker does) and has
	// not recorded its claim yet when the campaign is cancelled.
	go func() {
		for ctx.Err() == nil {
			_ = e.st.SayAlive(ctx, "test", "alive-claimer", store.CheckInWindow)
			select {
			case <-ctx.Done():
			case <-time.After(store.CheckInWindow / 5):
			}
		}
	}()
	p := store.Policy{MaxAttempts: 3}
	var cls []store.Claim
	for i, r := range recs[:dead] {
		cls = append(cls, store.Claim{ID: r.ID, Lang: r.Lang, Token: fmt.Sprint("dead-worker/", i)})
	}
	alive := store.Claim{ID: recs[dead].ID, Lang: recs[dead].Lang, Token: "alive-claimer/1"}
	if res, err := l.Step(ctx, nil, append(cls, alive), p, time.Now()); err != nil || len(res.Claims) != dead+1 {
		t.Fatalf("the claims: %+v, %v", res, err)
	}
	done, _, err := e.st.Cancel(ctx, e.name, store.Actor{Who: "oncall", Host: "test", Env: "test"}, "stop it")
	if err != nil || done.InFlight != dead+1 {
		t.Fatalf("cancel: %+v, %v; want %d in flight", done, err, dead+1)
	}

	reg := prometheus.NewRegistry()
	var served http.Handler
	var passes atomic.Int64 // the worker's reconciling passes
	e.startWorker(t, wopts{id: "live", metrics: reg, served: &served, afterPass: func(_ map[string]store.Probe, reconciled bool) {
		if reconciled {
			passes.Add(1)
		}
	}})
	// passed waits for k reconciling passes of the worker to begin and end.
	passed := func(k int64) {
		t.Helper()
		want := passes.Load() + k + 1
		for deadline := time.Now().Add(60 * time.Second); passes.Load() < want; time.Sleep(20 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("the worker made %d reconciling passes in a minute, want %d", passes.Load(), want)
			}
		}
	}
	inDoubt := func() (scraped float64, ledger int) {
		t.Helper()
		return scrapeInDoubt(t, served, e.name), e.countOutcome(t, store.OutcomeInDoubt)
	}
	for deadline := time.Now().Add(60 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		if got, _ := inDoubt(); got == dead {
			break
		} else if time.Now().After(deadline) {
			t.Fatalf("the worker's /metrics counts %v in doubt in a minute, want %d: the dead worker's claims the cancel recorded in doubt", got, dead)
		}
	}
	// The alive claimer's recipient is in doubt in the ledger, not counted:
	// its claimer may still record the real outcome.
	passed(3)
	if got, ledger := inDoubt(); got != dead || ledger != dead+1 {
		t.Errorf("while its claimer lives: %v counted in doubt, %d in doubt in the ledger; want %d and %d", got, ledger, dead, dead+1)
	}
	// Its late record: sent, counted by its own worker, never in doubt.
	if _, err := l.Step(ctx, []store.Record{{ID: alive.ID, Lang: alive.Lang, Kind: store.KindSent, Token: alive.Token}}, nil, p, time.Now()); err != nil {
		t.Fatal(err)
	}
	cancel() // the alive claimer stops saying so: dead too, its outcome recorded
	passed(3)
	if got, ledger := inDoubt(); got != float64(ledger) || ledger != dead {
		t.Errorf("after the late record: %v counted in doubt, %d in doubt in the ledger (what report lists); want %d in both", got, ledger, dead)
	}
	if c := e.smtp.Count(); c != 0 {
		t.Errorf("the server received %d messages, want none: the campaign is cancelled", c)
	}
}

// countOutcome counts the staged recipients whose ledger entry is outcome,
// as `report` lists them.
func (e *env) countOutcome(t *testing.T, outcome string) int {
	t.Helper()
	k := 0
	for _, en := range e.entries(t) {
		if en.State == outcome {
			k++
		}
	}
	return k
}

// scrapeInDoubt reads tidings_messages_total{outcome="in-doubt"} of
// campaign c, summed over its languages, in the worker's /metrics (h).
func scrapeInDoubt(t *testing.T, h http.Handler, c string) float64 {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	if rec.Code != http.StatusOK {
		t.Fatalf("GET /metrics: %d %s", rec.Code, rec.Body)
	}
	var sum float64
	sc := bufio.NewScanner(rec.Body)
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, "tidings_messages_total{") || !strings.Contains(line, `outcome="in-doubt"`) || !strings.Contains(line, `campaign="`+c+`"`) {
			continue
		}
		v, err := strconv.ParseFloat(line[strings.LastIndexByte(line, ' ')+1:], 64)
		if err != nil {
			t.Fatalf("read %q: %v", line, err)
		}
		sum += v
	}
	return sum
}

// TestCancelInDoubtOfAStoppedWorkerIsCounted: a real worker stopped while
// the relay holds its message, past its shutdown timeout (Run returns;
// the message stays in the relay's hands, as with a process that exits),
// then the campaign is cancelled: that recipient is in doubt, and a live
// worker's /metrics counts it in doubt, as `report` lists it.
func TestCancelInDoubtOfAStoppedWorkerIsCounted(t *testing.T) {
	t.Parallel()
	fault, inFlight, _ := holdFirst(t) // released when the test ends
	e := newEnv(t, fault)
	e.stage(t, opts{name: "cancel-stopped", n: 20})
	w, err := worker.New(worker.Config{
		Redis: e.rdb, Concurrency: 1, WorkerID: "stopped",
		SMTP: send.Config{Host: e.smtp.Host(), Port: e.smtp.Port(), TLS: send.TLSNone, Timeout: time.Minute},
		Env:  "test", ControlInterval: 50 * time.Millisecond, TickInterval: 50 * time.Millisecond, ReconcileInterval: 200 * time.Millisecond,
		ShutdownTimeout: time.Second,
	})
	if err != nil {
		t.Fatal(err)
	}
	stop := runWorker(t, w)
	select {
	case <-inFlight:
	case <-time.After(30 * time.Second):
		t.Fatal("no message reached the relay within 30 s")
	}
	stop() // past its shutdown timeout: the relay still holds the message
	res, _, err := e.st.Cancel(context.Background(), e.name, store.Actor{Who: "oncall", Host: "test", Env: "test"}, "stop it")
	if err != nil || res.InFlight != 1 {
		t.Fatalf("cancel: %+v, %v; want 1 in flight (the message the relay holds)", res, err)
	}
	reg := prometheus.NewRegistry()
	var served http.Handler
	e.startWorker(t, wopts{id: "live", metrics: reg, served: &served})
	wait.For(t, 60*time.Second, "the live worker's /metrics counts the stopped worker's recipient in doubt", func() bool {
		return scrapeInDoubt(t, served, e.name) == 1
	})
	if got, ledger := scrapeInDoubt(t, served, e.name), e.countOutcome(t, store.OutcomeInDoubt); got != float64(ledger) {
		t.Errorf("%v counted in doubt, %d in doubt in the ledger (what report lists): want them equal", got, ledger)
	}
	if c := e.smtp.Count(); c != 0 {
		t.Errorf("the server received %d messages, want none (the one held is not received yet)", c)
	}
}

// TestDoubtedForgetsACampaignRedisNoLongerHas: a campaign whose cancel
// recorded recipients in doubt, then unlinked from Redis before a worker
// counted them (README: freeing a campaign, or an eviction), left nothing
// to count, yet stayed listed in tidings:doubted for ever, and every
// worker read its state again at each reconciling pass. A worker takes it
// out of the list once Redis has neither its control nor its doubted
// recipients.
func TestDoubtedForgetsACampaignRedisNoLongerHas(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := newEnv(t, nil)
	e.stage(t, opts{name: "doubt-gone", n: 20, chunk: 10})
	l, recs := e.releaseFirst(t)
	cl := store.Claim{ID: recs[0].ID, Lang: recs[0].Lang, Token: "dead-worker/1"}
	if res, err := l.Step(ctx, nil, []store.Claim{cl}, store.Policy{MaxAttempts: 3}, time.Now()); err != nil || len(res.Claims) != 1 {
		t.Fatalf("the claim: %+v, %v", res, err)
	}
	if done, _, err := e.st.Cancel(ctx, e.name, store.Actor{Who: "oncall", Host: "test", Env: "test"}, "stop it"); err != nil || done.InFlight != 1 {
		t.Fatalf("cancel: %+v, %v; want 1 in flight", done, err)
	}
	if ok, err := e.rdb.SIsMember(ctx, "tidings:doubted", e.name).Result(); err != nil || !ok {
		t.Fatalf("after the cancel, %s listed in tidings:doubted: %v, %v; want listed", e.name, ok, err)
	}
	keys, err := e.rdb.Keys(ctx, "tidings:{"+e.name+"}:*").Result()
	if err != nil || len(keys) == 0 {
		t.Fatalf("the campaign's keys: %v, %v", keys, err)
	}
	if err := e.rdb.Unlink(ctx, keys...).Err(); err != nil {
		t.Fatal(err)
	}
	var passes atomic.Int64
	e.startWorker(t, wopts{id: "live", afterPass: func(_ map[string]store.Probe, reconciled bool) {
		if reconciled {
			passes.Add(1)
		}
	}})
	for deadline := time.Now().Add(60 * time.Second); passes.Load() < 3; time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("the worker made %d reconciling passes in a minute, want 3", passes.Load())
		}
	}
	if ok, err := e.rdb.SIsMember(ctx, "tidings:doubted", e.name).Result(); err != nil || ok {
		t.Errorf("after 3 reconciling passes, %s still listed in tidings:doubted (%v, %v), though Redis has nothing of it to count", e.name, ok, err)
	}
}
