package worker

import (
	"context"
	"crypto/sha1"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/hibiken/asynq"

	"github.com/tidings-mail/tidings/internal/render"
	"github.com/tidings-mail/tidings/internal/send"
	"github.com/tidings-mail/tidings/internal/store"
)

// payload is the asynq payload of a chunk task.
type payload struct {
	Campaign string `json:"c"`
	Epoch    int64  `json:"e"`
	Chunk    int    `json:"n"`
	Gen      int64  `json:"g"`
	Start    int    `json:"s,omitempty"`
	Retry    []int  `json:"r,omitempty"` // retry pass: these indices only
	Field    string `json:"f,omitempty"` // retry pass: its running-set field
}

// handle processes one chunk task: for each recipient, check control state,
// take a rate token, record the previous outcome and claim this one (one
// round trip), re-check the locale rule, render, send.
func (w *Worker) handle(ctx context.Context, t *asynq.Task, pool *send.Pool) error {
	var p payload
	if err := json.Unmarshal(t.Payload(), &p); err != nil {
		return fmt.Errorf("decode task: %w: %w", err, asynq.SkipRetry)
	}
	log := w.log.With("campaign", p.Campaign, "chunk", p.Chunk, "gen", p.Gen)
	cs, err := w.campaign(ctx, p.Campaign, p.Epoch)
	if err != nil {
		return err
	}
	if cs.epoch != p.Epoch {
		log.Info("dropping task of an earlier staging")
		return nil
	}
	retry := p.Retry != nil
	var members []string
	if retry {
		for _, i := range p.Retry {
			members = append(members, strconv.Itoa(p.Chunk)+":"+strconv.Itoa(i))
		}
		if err := w.st.BeginRetry(ctx, p.Campaign, p.Field, w.cfg.WorkerID, members); err != nil {
			return err
		}
	} else {
		current, err := w.st.BeginChunk(ctx, p.Campaign, p.Chunk, p.Gen, w.cfg.WorkerID)
		if err != nil {
			return err
		}
		if !current {
			log.Info("task outdated: chunk taken over by a newer generation")
			return nil
		}
	}
	r := &run{w: w, cs: cs, p: p, log: log, pool: pool}
	done, stale, err := r.process(ctx)
	if r.conn != nil {
		pool.Put(r.conn)
	}
	if stale {
		log.Info("task outdated: chunk taken over by a newer generation")
		return nil
	}
	// Release the chunk even if processing failed, with a context that
	// survives asynq's shutdown deadline.
	ectx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if retry {
		if eerr := w.st.EndRetry(ectx, p.Campaign, p.Field, members[done:]); eerr != nil {
			return errors.Join(err, eerr)
		}
	} else {
		complete := p.Start+done >= r.size
		if eerr := w.st.EndChunk(ectx, p.Campaign, r.batch, p.Chunk, p.Gen, w.cfg.WorkerID, complete, p.Start+done); eerr != nil {
			return errors.Join(err, eerr)
		}
	}
	if err != nil {
		log.Error("chunk failed", "err", err)
		return nil // interrupted; the dispatcher re-enqueues it
	}
	return nil
}

// run is the state of one chunk task.
type run struct {
	w     *Worker
	cs    *campaignState
	p     payload
	log   interface{ Info(string, ...any) }
	pool  *send.Pool
	conn  *send.Conn
	size  int
	batch int

	tokens int
	prev   *store.Record
}

// process walks the chunk. It returns how many recipients (from Start, or
// of the retry list) were processed, and stale when the task was outdated.
func (r *run) process(ctx context.Context) (done int, stale bool, err error) {
	w, cs, p := r.w, r.cs, r.p
	recs, err := w.st.Chunk(ctx, p.Campaign, p.Chunk)
	if err != nil {
		return 0, false, err
	}
	r.size = len(recs)
	r.batch = -1
	idx := p.Retry
	if idx == nil {
		for i := p.Start; i < len(recs); i++ {
			idx = append(idx, i)
		}
	}
	// The batch of a chunk is the same for all its recipients; find it from
	// the batch table only once per campaign state.
	r.batch = w.batchOf(ctx, cs, p.Chunk)
	if cs.mismatch != "" {
		w.refuseCampaign(ctx, cs)
		return 0, false, nil
	}
	defer func() {
		if r.prev != nil {
			if _, ferr := r.step(context.WithoutCancel(ctx), nil); ferr != nil && err == nil {
				err = ferr
			}
		}
	}()
	for n, i := range idx {
		if i >= len(recs) {
			done = n + 1
			continue
		}
		if w.draining() || w.state(ctx, p.Campaign) != store.StateRunning {
			return n, false, nil
		}
		if cs.limited && r.tokens == 0 {
			// Record the previous outcome before waiting for the rate
			// limiter: until it is recorded, a crash makes it in-doubt.
			if r.prev != nil {
				if _, err := r.step(ctx, nil); err != nil {
					return n, false, err
				}
			}
			if ok, err := r.take(ctx); err != nil || !ok {
				return n, false, err
			}
		}
		rc := &recs[i]
		res, err := r.step(ctx, &store.Claim{ID: rc.ID, Lang: rc.Lang, Batch: r.batch, Chunk: p.Chunk, Gen: p.Gen, Retry: p.Retry != nil, Token: r.w.claimToken()})
		if err != nil {
			return n, false, err
		}
		switch res.Claim {
		case store.ClaimStale:
			return n, true, nil
		case store.ClaimStop:
			return n, false, nil
		case store.ClaimSkip:
			done = n + 1
			continue
		}
		if cs.limited {
			r.tokens--
		}
		r.prev = r.deliver(ctx, rc, i)
		done = n + 1
	}
	return done, false, nil
}

// step records r.prev and performs claim in one round trip, retrying
// briefly on Redis errors so that an accepted message is recorded.
func (r *run) step(ctx context.Context, claim *store.Claim) (store.StepResult, error) {
	var res store.StepResult
	var err error
	for attempt := 0; attempt < 3; attempt++ {
		res, err = r.cs.ledger.Step(ctx, r.prev, claim, r.cs.policy, r.w.cfg.Clock())
		if err == nil {
			break
		}
		time.Sleep(time.Duration(attempt+1) * 100 * time.Millisecond)
	}
	if err != nil {
		return res, err
	}
	if r.prev != nil {
		r.cs.counter(r.w.m, r.prev.Lang, r.prev.Kind).Inc()
	}
	r.prev = nil
	if res.AutoPaused != "" {
		r.w.m.autoPauses.WithLabelValues(r.cs.name).Inc()
		r.w.log.Warn("campaign paused automatically", "campaign", r.cs.name, "reason", res.AutoPaused)
	}
	return res, nil
}

func outcomeLabel(k store.Kind) string {
	if k == store.KindTemp {
		return "deferred"
	}
	return string(k)
}

// take waits for rate tokens from the global limiter; false when the chunk
// must stop (drain, pause).
func (r *run) take(ctx context.Context) (bool, error) {
	start := time.Now()
	defer func() { r.w.m.rateWait.Add(time.Since(start).Seconds()) }()
	for {
		res, err := r.w.limiter.AllowN(ctx, store.RateKey(r.cs.name), r.cs.limit, r.cs.bulk)
		if err != nil {
			return false, fmt.Errorf("take rate tokens: %w", err)
		}
		if res.Allowed > 0 {
			r.tokens = res.Allowed
			return true, nil
		}
		wait := min(res.RetryAfter, 200*time.Millisecond)
		if wait <= 0 {
			wait = time.Millisecond
		}
		select {
		case <-ctx.Done():
			return false, nil
		case <-r.w.drain:
			return false, nil
		case <-time.After(wait):
		}
		if r.w.state(ctx, r.cs.name) != store.StateRunning {
			return false, nil
		}
	}
}

// deliver checks, renders and sends to one claimed recipient and returns the
// record of its outcome.
func (r *run) deliver(ctx context.Context, rc *store.Recipient, i int) *store.Record {
	cs := r.cs
	rec := &store.Record{ID: rc.ID, Lang: rc.Lang, Batch: r.batch, Chunk: r.p.Chunk, Index: i}
	m, err := cs.engine.Resolve(rc.Locale)
	if err != nil {
		rec.Kind, rec.Code, rec.Response = store.KindRefused, refusalCode(err), "locale rule at send time: "+err.Error()
		return rec
	}
	if m.Lang != rc.Lang {
		rec.Kind, rec.Code = store.KindRefused, "lang-changed"
		rec.Response = fmt.Sprintf("locale rule at send time: %q now resolves to %s, but %s was approved at staging", rc.Locale, m.Lang, rc.Lang)
		return rec
	}
	out, err := cs.engine.Render(m, render.Data{ID: rc.ID, Email: rc.Email, Name: rc.Name, Campaign: cs.name, Fields: rc.FieldMap(cs.meta.Columns), Data: cs.camp.Data})
	if err != nil {
		rec.Kind, rec.Code, rec.Response = store.KindRefused, refusalCode(err), "render: "+err.Error()
		return rec
	}
	msg := cs.compose.Message(rc.ID, rc.Email, rc.Name, out, r.w.cfg.Clock())
	start := time.Now()
	err = r.send(ctx, msg)
	r.w.m.duration.Observe(time.Since(start).Seconds())
	if err == nil {
		rec.Kind, rec.Code, rec.Response = store.KindSent, "250", r.conn.Response()
		return rec
	}
	se := send.Classify(err)
	rec.Code = smtpCode(se)
	rec.Response = se.Msg
	switch {
	case se.InDoubt:
		rec.Kind = store.KindInDoubt
	case se.Temporary:
		rec.Kind = store.KindTemp
	default:
		rec.Kind = store.KindFailed
	}
	return rec
}

func (r *run) send(ctx context.Context, msg *send.Message) error {
	if r.conn == nil {
		c, err := r.pool.Get(ctx)
		if err != nil {
			return err
		}
		r.conn = c
	}
	return r.conn.Send(ctx, msg)
}

func smtpCode(e *send.Error) string {
	if e.Code == 0 {
		return ""
	}
	s := strconv.Itoa(e.Code)
	if e.Enhanced != "" {
		s += " " + e.Enhanced
	}
	return s
}

func refusalCode(err error) string {
	var rf *render.Refusal
	if errors.As(err, &rf) {
		return rf.Code
	}
	return "render-error"
}

// MessageID returns the deterministic Message-ID (without angle brackets)
// of campaign c's message to recipient id: the same recipient always gets
// the same id, so a duplicate could be recognised downstream.
func MessageID(c, id, domain string) string {
	h := sha1.Sum([]byte(id))
	return c + "." + hex.EncodeToString(h[:])[:16] + "@" + domain
}

// Unsubscribe expands a List-Unsubscribe template: {id} and {email} are
// replaced by the URL-escaped recipient id and address.
func Unsubscribe(tmpl, id, email string) string {
	if strings.IndexByte(tmpl, '{') < 0 {
		return tmpl
	}
	var b strings.Builder
	b.Grow(len(tmpl) + len(id) + len(email))
	for {
		i := strings.IndexByte(tmpl, '{')
		if i < 0 {
			b.WriteString(tmpl)
			return b.String()
		}
		b.WriteString(tmpl[:i])
		switch rest := tmpl[i:]; {
		case strings.HasPrefix(rest, "{id}"):
			b.WriteString(url.QueryEscape(id))
			tmpl = rest[len("{id}"):]
		case strings.HasPrefix(rest, "{email}"):
			b.WriteString(url.QueryEscape(email))
			tmpl = rest[len("{email}"):]
		default:
			b.WriteByte('{')
			tmpl = rest[1:]
		}
	}
}

// refuseCampaign pauses a campaign this worker cannot render as approved,
// and forgets its state, so that after the templates are fixed and the
// campaign resumed, this worker loads them again instead of refusing from
// its cache.
func (w *Worker) refuseCampaign(ctx context.Context, cs *campaignState) {
	w.mu.Lock()
	if w.campaigns[cs.name] == cs {
		delete(w.campaigns, cs.name)
	}
	w.mu.Unlock()
	_, moved, err := w.st.Transition(ctx, cs.name, []store.State{store.StateRunning}, store.StatePaused, w.actor(), "pause", cs.mismatch, false)
	if err != nil {
		w.log.Error("pause campaign", "campaign", cs.name, "err", err)
		return
	}
	if moved {
		w.m.autoPauses.WithLabelValues(cs.name).Inc()
		w.log.Warn("campaign paused: this worker refuses it", "campaign", cs.name, "reason", cs.mismatch)
	}
}

// batchOf finds the batch of chunk n.
func (w *Worker) batchOf(ctx context.Context, cs *campaignState, n int) int {
	w.mu.Lock()
	b := cs.batches
	w.mu.Unlock()
	if b == nil {
		bs, err := w.st.Batches(ctx, cs.name)
		if err != nil {
			return 0
		}
		w.mu.Lock()
		cs.batches = bs
		b = bs
		w.mu.Unlock()
	}
	for i, bi := range b {
		if n >= bi.First && n <= bi.Last {
			return i
		}
	}
	return 0
}
