package worker

import (
	"context"
	"io"
	"log/slog"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/tidings-mail/tidings/internal/redistest"
	"github.com/tidings-mail/tidings/internal/send"
	"github.com/tidings-mail/tidings/internal/smtpcapture"
	"github.com/tidings-mail/tidings/internal/store"
)

// lostReply fails the first ledger step that makes a claim of worker wk
// after it ran on Redis (its answer is lost, as on a dropped connection),
// and runs pause first.
type lostReply struct {
	done  atomic.Bool
	pause func()
}

func (h *lostReply) DialHook(next redis.DialHook) redis.DialHook { return next }
func (h *lostReply) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		err := next(ctx, cmd)
		if name := strings.ToLower(cmd.Name()); err != nil || (name != "evalsha" && name != "eval") || h.done.Load() {
			return err
		}
		for _, a := range cmd.Args() {
			s, ok := a.(string)
			if p, isPtr := a.(*string); isPtr { // the step's tokens go as pointers to the claims' own
				s, ok = *p, true
			}
			if ok && strings.HasPrefix(s, "wk/") {
				h.done.Store(true)
				h.pause()
				cmd.SetErr(io.ErrUnexpectedEOF)
				return io.ErrUnexpectedEOF
			}
		}
		return err
	}
}
func (h *lostReply) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return next
}

// TestStopAfterALostReply: a window's claims are made, but the step's
// answer is lost; the campaign is paused before the step is tried again,
// which answers STOP. The claims the lost answer made are given back:
// those recipients are pending, not left "sending" (the next run would
// report them in doubt although they were never sent).
func TestStopAfterALostReply(t *testing.T) {
	ctx := context.Background()
	plain := redistest.Start(t).Client()
	sum := stageTest(t, store.New(plain), "ls", 4, 0, true)
	hooked := redis.NewClient(plain.Options())
	t.Cleanup(func() { _ = hooked.Close() })
	h := &lostReply{pause: func() {
		if _, err := store.New(plain).Pause(ctx, "ls", store.Actor{Who: "op"}, "look"); err != nil {
			t.Error(err)
		}
	}}
	hooked.AddHook(h)
	st := store.New(hooked)
	m, err := newMetrics(nil, plain, "q", "")
	if err != nil {
		t.Fatal(err)
	}
	srv, err := smtpcapture.Start(ctx, smtpcapture.Config{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Close() })
	pool := send.NewPool(send.Config{Host: srv.Host(), Port: srv.Port(), TLS: send.TLSNone}, 1)
	t.Cleanup(func() { _ = pool.Close() })
	lg := slog.New(slog.DiscardHandler)
	w := &Worker{cfg: Config{WorkerID: "wk", ClaimWindow: 4, Concurrency: 1}.WithDefaults(), log: lg, st: st, m: m, drain: make(chan struct{}), pool: pool,
		states: map[string]store.Probe{"ls": {State: store.StateRunning, Stage: sum.Stage}}, campaigns: map[string]*campaignState{},
		backlog: map[*campaignState][]store.Record{}, outage: &outageLog{log: lg, sites: map[string]*outage{}}}
	cs := &campaignState{name: "ls", stage: sum.Stage, ledger: st.Ledger("ls", sum.Stage), policy: store.Policy{MaxAttempts: 3}}
	r := &run{w: w, cs: cs, p: payload{Campaign: "ls", Stage: sum.Stage}, log: lg}
	recs, err := st.Chunk(ctx, "ls", 0)
	if err != nil {
		t.Fatal(err)
	}
	if why, err := r.walk(ctx, recs, make([]store.Entry, len(recs))); err != nil || why != stopPaused {
		t.Fatalf("walk: %v %v, want stopped by the pause", why, err)
	}
	if _, err := r.step(ctx, nil); err != nil { // the chunk's last flush
		t.Fatal(err)
	}
	if !h.done.Load() {
		t.Fatal("no answer was lost")
	}
	pool.Put(r.conn)
	if n := srv.Count(); n != 0 {
		t.Errorf("%d messages sent, want none", n)
	}
	ids := make([]string, len(recs))
	for i := range recs {
		ids[i] = recs[i].ID
	}
	es, err := store.New(plain).Entries(ctx, "ls", ids)
	if err != nil {
		t.Fatal(err)
	}
	for i, e := range es {
		if e.State != "" {
			t.Errorf("%s: %+v, want no entry (pending: never sent)", ids[i], e)
		}
	}
}
