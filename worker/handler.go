package worker

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/hibiken/asynq"

	"github.com/tidings-mail/tidings/internal/journal"
	"github.com/tidings-mail/tidings/internal/redisconn"
	"github.com/tidings-mail/tidings/internal/render"
	"github.com/tidings-mail/tidings/internal/send"
	"github.com/tidings-mail/tidings/internal/store"
)

// payload is the asynq payload of a chunk task.
type payload struct {
	Campaign string `json:"c"`
	Stage    string `json:"s"`
	Chunk    int    `json:"n"`
	Batch    int    `json:"b"`
}

// taskID is the asynq task id of chunk n of campaign c's staging at
// generation gen. The generation moves only when the reconciler replaces a
// lost or abandoned task.
func taskID(c, stage string, n int, gen int64) string {
	return "tidings:" + c + ":" + stage + ":" + strconv.Itoa(n) + ":" + strconv.FormatInt(gen, 10)
}

// retryLater is returned by a chunk whose deferred recipients (temporary
// failures) are due later: asynq runs the task again after it.
type retryLater struct {
	after time.Duration
	why   string // "": deferred recipients are due
}

func (e *retryLater) Error() string {
	if e.why != "" {
		return e.why + "; the chunk runs again in " + e.after.String()
	}
	return "deferred recipients are due in " + e.after.String()
}

// errDraining is returned by a chunk stopped because its worker shuts down:
// asynq gives it to another worker at once.
var errDraining = errors.New("worker shutting down")

// isFailure tells asynq which errors count toward a task's retry limit:
// waiting for deferred recipients, handing over at shutdown and Redis's
// state of the moment (redisHeld) do not.
func isFailure(err error) bool {
	_, later := errors.AsType[*retryLater](err)
	return !later && !errors.Is(err, errDraining) && !redisHeld(err)
}

// heldRetry is when a chunk interrupted by Redis's state of the moment
// (redisHeld) runs again, however often it was before: within a second
// of Redis taking its writes again, as a hold for a refusal
// (refusedPoll) or for the eviction policy (evictionPoll) does. Backed off
// as other errors are (up to 30 s once a task has failed five times,
// which a hold of a minute or more does), such chunks were the last of
// their batch to run again after a Cluster master killed and brought
// back: a second stall of up to 30 s (19 s measured) after the campaign
// had gone on.
const heldRetry = time.Second

// redisHeld reports whether err is Redis's state of the moment rather
// than the chunk's: Redis unreachable or not answering, a Cluster
// failing over or moving a slot (CLUSTERDOWN, MOVED, TRYAGAIN), a write
// refused until a replica is back or a failover is over (NOREPLICAS,
// READONLY, MASTERDOWN), a server loading, busy or out of memory, a step
// not acknowledged by enough replicas. It lasts as long as that state
// does, so it is no failure of the chunk's: retried every heldRetry, it
// does not count toward the task's retries (which would run out, and
// make every later error of the task wait up to 30 s).
func redisHeld(err error) bool {
	if err == nil {
		return false
	}
	switch kindOf(err) {
	case kindUnreachable, kindSlotMove, kindOutOfMemory:
		return true
	case kindRefused, kindEvicting, kindPolicyUnknown:
		return false // settings to fix: refusedPoll, evictionPoll
	}
	if _, ok := errors.AsType[*store.AckError](err); ok {
		return true
	}
	re, ok := errors.AsType[*redisconn.ReplyError](redisconn.Explain(err))
	return ok && !re.Settings
}

// formatRetry is when a chunk of a campaign of another stored format,
// which this worker gives back, runs again (on any worker).
const formatRetry = 5 * time.Second

// retryDelay tells asynq when to run a chunk task again.
func retryDelay(n int, err error, _ *asynq.Task) time.Duration {
	if rl, ok := errors.AsType[*retryLater](err); ok {
		return rl.after
	}
	if errors.Is(err, errDraining) {
		return 0
	}
	if redisHeld(err) {
		return heldRetry
	}
	return min(time.Duration(1<<min(n, 5))*time.Second, 30*time.Second)
}

// handle processes one chunk task: it walks the recipients not yet final a
// window at a time (run.walk). One ledger step (one round trip,
// lua/step.lua; with replica acks, WAIT in the same pipeline) records the
// outcomes of the last window and claims the next (Config.ClaimWindow
// recipients); the claims are journaled, then each claimed recipient is
// checked against the control state, takes a rate token, has the locale
// rule re-checked, is rendered and sent. A chunk that stops (pause,
// approval, cancel) gives back its unsent claims and ends its task; the
// reconciler gives it a new task when the campaign runs again.
func (w *Worker) handle(ctx context.Context, t *asynq.Task) error {
	var p payload
	if err := json.Unmarshal(t.Payload(), &p); err != nil {
		return fmt.Errorf("decode task: %w: %w", err, asynq.SkipRetry)
	}
	log := w.log.With("campaign", p.Campaign, "chunk", p.Chunk, "batch", p.Batch)
	// Live until it returns, however long after its worker's Run: the
	// journal and the SMTP pool stay open meanwhile (Worker.leave), and
	// Run gives back the claims it has not begun to send (Worker.fence).
	r := &run{w: w, p: p, log: log}
	if !w.enter(r) {
		return errDraining
	}
	defer w.leave(r)
	if w.evicting() {
		// Held (evicting.go): nothing read for it, nor claimed, until the
		// policy is noeviction.
		return heldLater
	}
	cs, err := w.campaign(ctx, p.Campaign, p.Stage)
	if errors.Is(err, store.ErrNotFound) {
		log.Warn("dropping a task of a campaign Redis no longer has")
		return nil
	}
	if fe, ok := errors.AsType[*store.FormatError](err); ok {
		// Given back, not ended: the workers of its format send it
		// (sayFormat said why this one does not).
		return &retryLater{after: formatRetry, why: fe.Error()}
	}
	if err != nil || cs == nil { // nil: refused
		return err
	}
	if cs.stage != p.Stage {
		log.Info("dropping a task of an earlier staging")
		return nil
	}
	// The chunk is read with the control and state key verify checks
	// first: one round trip (a chunk's requests cost Redis more than most
	// of what it does for them). It is acted on only once verify passed.
	start := w.st.StartChunk(ctx, p.Campaign, p.Chunk)
	key, ok, err := w.verify(ctx, cs, start)
	if !ok {
		return err // nil: paused for state loss
	}
	if key != start.Key {
		// verify passed for another state than the chunk was read in
		// (Redis restarted, restored or failed over while it waited; a
		// resume): what that Redis answered is not this state's, and a
		// chunk this one lost must pause the campaign as state loss.
		start.Recs, start.ChunkErr = w.st.Chunk(ctx, p.Campaign, p.Chunk)
		start.Fresh = false // what the Redis before said
	}
	r.cs = cs
	r.fresh = start.Fresh && start.Control != nil && start.Control.Stage == cs.stage
	err = r.process(ctx, start.Recs, start.ChunkErr)
	w.pool.Put(r.conn) // a nil conn (none taken) is ignored
	return err
}

// run is the state of one chunk task.
type run struct {
	w    *Worker
	cs   *campaignState
	p    payload
	log  interface{ Info(string, ...any) }
	conn *send.Conn
	// fresh: nobody had begun the chunk in this staging (ChunkStart.Fresh),
	// so its recipients have no ledger entry to read.
	fresh bool
	// dialErr is why the connection taken before the window's claims
	// could not be dialled: the outcome of the window's only claim.
	dialErr error

	tries  int               // attempts of a ledger step (default ackRetries)
	tokens int               // rate tokens held (rate-limited campaigns)
	took   time.Time         // when they were asked for: they last cs.hold (ready)
	recs   []store.Record    // outcomes (and given-back claims) not yet recorded
	out    []journal.Entry   // outcome lines of the window, not yet journaled
	claimd []journal.Entry   // the window's claim lines: room reused from window to window (Append keeps none)
	fields map[string]string // the extra columns of the recipient being rendered (deliver)
	next   time.Time         // earliest due time of a deferred recipient
	counts messageCounters   // tidings_messages_total's children counted into (account)

	// mu guards win and fenced, which Worker.fence reads from Run's
	// goroutine while the chunk's own is stuck past the shutdown timeout
	// (a relay slow to answer): the claims of the window it has not begun
	// to send are given back by Run, the others by the chunk.
	mu     sync.Mutex
	win    *window // the window being sent (open), nil between windows
	fenced bool    // Run fenced the chunk: it begins no more messages
}

// window is a window's claims once journaled (open): which of them the
// step made (held, indices into claims), and from which index none has
// begun to be sent.
type window struct {
	claims []store.Claim
	held   []int
	next   int // claims[next:] have not begun to be sent (begin)
	given  int // -1; else Worker.fence gave back claims[given:]
}

// stop says why a chunk's pass ended early.
type stop int

const (
	stopNone     stop = iota
	stopPaused        // the campaign is not running (or gone from Redis, or staged anew)
	stopDraining      // the worker shuts down
	stopHeld          // Redis's maxmemory-policy may evict (evicting.go)
)

// process walks the chunk once, its recipients recs as read (err: why
// they could not be, as Store.Chunk says), and ends the task accordingly.
func (r *run) process(ctx context.Context, recs []store.Recipient, err error) error {
	w, cs, p := r.w, r.cs, r.p
	if _, ok := errors.AsType[*store.LostChunksError](err); ok {
		// The whole campaign is gone (probeLost says so), or it was staged
		// anew (with fewer chunks, say) since this task was queued: the
		// chunk is not lost, the task is stale.
		if pr, perr := w.probeLost(ctx, cs); perr == nil && pr.Stage != cs.stage {
			if pr.State != "" {
				r.log.Info("dropping a task of an earlier staging")
			}
			return nil
		}
		// Part of the campaign's state is gone: its ledger may have lost
		// deliveries too, so nothing more is sent (the chunk would otherwise
		// be re-enqueued every second, its recipients pending for ever).
		w.pauseCampaign(ctx, cs.name, cs.stage, "state-loss", fmt.Sprintf("state loss: Redis lost chunk %d of this campaign (part of its state; its ledger may have lost deliveries too): nothing more is sent; cancel it and stage it again excluding the deliveries recorded in the workers' journals", p.Chunk), time.Time{})
		return nil
	}
	if err != nil {
		return err
	}
	// The entries say who is final (not claimed again) and who waits for
	// a retry's backoff (claimed only once it has elapsed): the claim
	// itself (lua/step.lua) takes a recipient deferred at once, so the
	// backoff rests on this read alone. A chunk nobody had begun in this
	// staging has none (store.ChunkStart.Fresh): the read is skipped. That
	// nothing is sent twice rests on the claim, not on this read: it reads
	// each recipient's entry again and claims none that another holds or
	// that has an outcome.
	entries := make([]store.Entry, len(recs))
	if !r.fresh {
		if entries, err = w.st.Entries(ctx, p.Campaign, store.IDs(recs)); err != nil {
			return err
		}
	}
	why, err := r.walk(ctx, recs, entries)
	// Record the last outcomes even if the walk failed or the worker drains.
	if _, ferr := r.step(context.WithoutCancel(ctx), nil); ferr != nil && err == nil {
		err = ferr
	}
	switch {
	case err != nil && settings(err):
		// Refused for the user's rights (outageLog.refused said so once):
		// the chunk runs again in refusedPoll, not counted a failure (its
		// retries would run out) nor logged each pass.
		return &retryLater{after: refusedPoll, why: "Redis refuses this worker a command for the environment's settings"}
	case err != nil:
		r.log.Info("chunk interrupted", "err", err)
		return err
	case why == stopDraining:
		return errDraining
	case why == stopPaused:
		return nil
	case why == stopHeld:
		// The worker said why once (checkEviction): not a failure, nor a
		// line each pass.
		return heldLater
	}
	finished := r.next.IsZero()
	end, err := w.st.EndChunk(ctx, p.Campaign, cs.stage, p.Batch, p.Chunk, finished)
	if err != nil || !end.Recorded {
		return err
	}
	if end.Advance {
		// The batch's first pass is complete, or every recipient has an
		// outcome: the dispatch loop releases the next batch, applies the
		// gate or marks the campaign done now, not at its next tick.
		wake(w.tick)
	}
	if finished {
		return nil
	}
	return &retryLater{after: max(time.Until(r.next), 100*time.Millisecond)}
}

// walk claims and sends every recipient due now, in order, a window at a
// time: one ledger step records the outcomes of the last window and claims
// the next (Config.ClaimWindow recipients). A window's claims not sent
// because the pass stops are given back (by Run, when the chunk is stuck
// past the shutdown timeout: Worker.fence), so only a crash (or a delivery
// journal that broke: abandoned) leaves claimed recipients in doubt: at most
// one window per connection. A failure is
// recorded at once, so the auto-pause does not wait for the window.
//
// The connection is taken before the first claim: a dial (a relay slow to
// greet, STARTTLS, AUTH: up to the SMTP timeout per step) holds no claim,
// and the claim step after it sees a pause or cancel made meanwhile. A
// dial that fails costs one claim, whose outcome it is (temporary: an
// attempt the gates count), and a connection that fails later (no reply,
// a 421) gives back the rest of its window at once and is dialled again
// before the next window's claims: a relay that never greets holds one
// claim per SMTP timeout, not a window's. Only the redial of a pooled
// connection the server closed while idle (Conn.Send) is made with a
// window's claims held; it is followed by the same check as a window's
// later messages (transmit), before anything is sent.
func (r *run) walk(ctx context.Context, recs []store.Recipient, entries []store.Entry) (stop, error) {
	w, cs := r.w, r.cs
	now := time.Now()
	var todo []int
	for i, e := range entries {
		if e.Deferred() && cs.due(e).After(now) {
			r.later(cs.due(e))
		} else if !e.Final() {
			todo = append(todo, i)
		}
	}
	for len(todo) > 0 {
		if why := r.stopped(ctx); why != stopNone {
			return why, nil
		}
		k := min(w.cfg.ClaimWindow, len(todo))
		if cs.bulk > 0 { // rate-limited
			if why, err := r.ready(ctx); why != stopNone || err != nil {
				return why, err
			}
			k = min(k, r.tokens)
		}
		// After the wait for tokens (a connection dialled before it would
		// sit idle, and a relay's idle timeout would fail its first
		// recipient), before the claims (above).
		if r.conn == nil {
			r.conn, r.dialErr = w.pool.Get(ctx)
			if why := r.stopped(ctx); why != stopNone {
				return why, nil
			}
			if r.dialErr != nil {
				// The relay could not be reached or did not greet: one
				// recipient takes the failure (an attempt, counted by the
				// gates), none waits for another dial.
				k = 1
			}
		}
		claims := make([]store.Claim, k)
		for j, i := range todo[:k] {
			claims[j] = store.Claim{ID: recs[i].ID, Lang: recs[i].Lang, Batch: r.p.Batch}
		}
		w.claimTokens(claims)
		if r.journalBroken(ctx) != nil {
			return stopPaused, nil // claim nobody it could not journal
		}
		mine := w.journaled(cs) // before Redis is read: see rollback
		res, err := r.step(ctx, claims)
		if err != nil {
			return stopNone, err
		}
		var held []int // indices into claims, in order
		why := stopNone
		for j, a := range res.Claims {
			switch a.Result {
			case store.ClaimOK:
				held = append(held, j)
			case store.ClaimStop, store.ClaimStale, store.ClaimGone:
				why = stopPaused
			}
		}
		if why == stopNone && res.Sent >= 0 {
			if reason := w.rollback(cs, mine, res.Sent, "by this worker"); reason != "" {
				// Redis forgot deliveries this worker made: the ledger cannot
				// be trusted to say who was sent. Send nothing more.
				w.pauseCampaign(ctx, cs.name, cs.stage, "state-loss", reason, time.Time{})
				why = stopPaused
			}
		}
		if why != stopNone {
			// Every claim of the window, not only those answered OK: the step
			// may have made them on an attempt whose answer was lost before
			// the one that answered STOP (giving back a claim that was not
			// made changes nothing; nothing is written for a campaign gone
			// or staged anew).
			r.recs = append(r.recs, givenBack(claims)...)
			return why, nil
		}
		// The window's claims go into the journal before its first message:
		// a worker killed between a server's reply and the outcome's line
		// leaves the claim there, which readers take as in doubt.
		if len(held) > 0 {
			cl := slices.Grow(r.claimd[:0], len(held))[:len(held)]
			r.claimd = cl
			now := time.Now()
			for n, j := range held {
				cl[n] = r.entry(now, claims[j].ID, recs[todo[j]].Email, claims[j].Lang, journal.OutcomeClaimed)
				cl[n].Attempt, cl[n].Stage = res.Claims[j].Attempt, cs.stage
			}
			if err := r.journalBroken(ctx, cl...); err != nil {
				if errors.Is(err, journal.ErrNotWritten) {
					r.recs = append(r.recs, givenBack(claims)...)
				} else {
					r.recs = append(r.recs, r.abandoned(claims, 0, held)...) // the lines may be in the file
				}
				return stopPaused, nil
			}
		}
		if !r.open(claims, held) {
			// Run fenced the chunk (it outlived the shutdown timeout in a
			// step) before the window could be given back by it.
			r.unclaim(claims, 0, held)
			return stopDraining, nil
		}
		done := k // todo[:done] are through: sent, or recorded
		ahead := composed{j: -1}
		for n, j := range held {
			if n > 0 {
				if why := r.stopped(ctx); why != stopNone {
					r.unclaim(claims, j, held)
					return why, nil
				}
			}
			if cs.bulk > 0 {
				// The window's tokens may have run out of time while the
				// connection was stuck (a slow step or message): its claims
				// wait for new ones.
				if why, err := r.ready(ctx); why != stopNone || err != nil {
					r.unclaim(claims, j, held)
					return why, err
				}
			}
			if !r.begin(j) { // Run gave this claim back: it is not sent
				r.unclaim(claims, j, held)
				return stopDraining, nil
			}
			rc := &recs[todo[j]]
			began := time.Now()
			cur := ahead
			if cur.j != j {
				cur = r.compose(j, rc)
			}
			// The next recipient's message is rendered before this one
			// goes, so that its commands go out with this one's data: its
			// claim is journaled (a MAIL FROM delivers nothing). Should it
			// not go after all (a stop, the fence, a broken connection),
			// the connection is closed before its data (send.Conn.SendThen)
			// and it is given back as the others not sent.
			ahead = composed{j: -1}
			var next *send.Message
			if n < len(held)-1 && r.chains() {
				j2 := held[n+1]
				ahead = r.compose(j2, &recs[todo[j2]])
				next = ahead.msg
			}
			rec, why := r.deliver(ctx, cur, next)
			if why != stopNone { // stopped while a connection was dialled: nothing sent
				r.unclaim(claims, j, held)
				return why, nil
			}
			if cs.bulk > 0 {
				cs.pace.Store(int64(time.Since(began)))
			}
			rec.Token = claims[j].Token // the record is of this claim only
			rec.Attempt = res.Claims[j].Attempt
			r.recs = append(r.recs, rec)
			// The outcome is journaled with the window's others, before
			// Redis records them (journalOutcomes): one write a window. Until
			// then the journal holds the claim, which readers take as in
			// doubt, as the ledger does until the outcome is recorded.
			r.note(r.entry(time.Now(), rec.ID, rc.Email, rec.Lang, r.journaled(&rec)), &rec)
			r.tokens-- // read only when the campaign is rate-limited
			if att := res.Claims[j].Attempt; rec.Kind == store.KindTemp && att < cs.policy.MaxAttempts {
				r.later(cs.due(store.Entry{At: time.Now(), Attempts: att}))
			}
			// A connection that failed (not dialled, or closed: no reply,
			// a 421) is dialled again before anyone more is claimed, and
			// the rest of its window is given back at once, pending again
			// (nothing was sent to them): each would otherwise wait for a
			// dial of its own (a relay that never greets: smtp.timeout
			// each) while claimed, in doubt should the worker die meanwhile.
			broken := r.conn == nil || r.conn.Broken()
			if broken && n < len(held)-1 {
				r.unclaim(claims, j+1, held)
				done = j + 1
			}
			if broken || n < len(held)-1 && cs.policy.Window > 0 && cs.policy.ErrorRate > 0 &&
				(rec.Kind == store.KindFailed || rec.Kind == store.KindInDoubt || rec.Kind == store.KindTemp && (res.Claims[j].Attempt == 1 || res.Claims[j].Attempt >= cs.policy.MaxAttempts)) {
				// A failure the auto-pause counts is recorded at once, not
				// with the window: the auto-pause sees it now, and the rest of
				// the window is not sent when the campaign no longer runs (so
				// a window's size does not add to what goes out after an
				// auto-pause). A broken connection's outcome and give-backs
				// are recorded before the next dial, which the auto-pause
				// they bring then spares.
				if r.journalOutcomes(ctx) { // a journal found broken stops the window here
					if done == k {
						r.unclaim(claims, j+1, held)
					}
					return stopPaused, nil
				}
				res, err := r.step(ctx, nil)
				if err != nil || res.State != store.StateRunning {
					if done == k {
						r.unclaim(claims, j+1, held)
					}
					return stopPaused, err
				}
			}
			if done < k {
				break
			}
		}
		if done == k {
			r.close()
		}
		if r.conn == nil || r.conn.Broken() {
			w.pool.Put(r.conn) // a broken one is closed; the next window dials before it claims
			r.conn = nil
		}
		if r.journalOutcomes(ctx) {
			return stopPaused, nil
		}
		todo = todo[done:]
	}
	return stopNone, nil
}

// journaled is the outcome a journal line gives rec: what the ledger will
// record, as far as the worker knows when it writes the line (before the
// step that records it). A temporary failure on its last attempt is
// failed, and one while the campaign is known to be cancelled is
// cancelled; one the ledger defers stays temp, which readers take as
// pending. A cancel the worker has not read yet leaves it temp, and so
// does another pass of the chunk that found the claim in doubt: the
// ledger's answer then amends the line (amend).
func (r *run) journaled(rec *store.Record) string {
	if rec.Kind != store.KindTemp {
		return string(rec.Kind)
	}
	if o := rec.Outcome(r.cs.policy, r.w.known(r.cs)); o == store.OutcomeFailed || o == store.OutcomeCancelled {
		return o
	}
	return string(store.KindTemp)
}

// note adds out, the outcome line of rec, to the lines to journal before
// the next step, with rec's code; a temporary failure's line is kept
// (Worker.temps) until the ledger records it, in this run or, from the
// backlog, in another: the ledger may record another outcome than the
// line says (amend).
func (r *run) note(out journal.Entry, rec *store.Record) {
	out.Code = rec.Code
	r.out = append(r.out, out)
	if rec.Kind == store.KindTemp {
		r.w.mu.Lock()
		if r.w.temps == nil {
			r.w.temps = map[string]journal.Entry{}
		}
		r.w.temps[rec.Token] = out
		r.w.mu.Unlock()
	}
}

// line returns, and forgets, the outcome line noted of the temporary
// failure of claim token (note).
func (r *run) line(token string) (journal.Entry, bool) {
	r.w.mu.Lock()
	defer r.w.mu.Unlock()
	e, ok := r.w.temps[token]
	delete(r.w.temps, token)
	return e, ok
}

// amend returns the journal line that amends the outcome line of rec, a
// temporary failure, when the ledger recorded another outcome (o) than
// that line says: failed (the late record of a claim another pass of the
// chunk found in doubt, or a last attempt the worker did not know of),
// cancelled (a cancel it had not read yet), or deferred, temp again (a
// line that said failed). The record is compared with the line its
// worker wrote (note), whichever run of the worker records it; one of
// which none was noted, with the line journaled would write now.
func (r *run) amend(rec store.Record, o string) (journal.Entry, bool) {
	if rec.Kind != store.KindTemp { // recorded as it is (a delivery above all)
		return journal.Entry{}, false
	}
	line, ok := r.line(rec.Token)
	if !ok {
		line = r.entry(time.Time{}, rec.ID, "", rec.Lang, r.journaled(&rec))
	}
	if o == store.Deferred {
		o = string(store.KindTemp)
	}
	if line.Outcome == o {
		return journal.Entry{}, false
	}
	e := r.entry(time.Now(), rec.ID, line.Email, rec.Lang, o)
	e.Code, e.Amends = rec.Code, true
	return e, true
}

// journalOutcomes appends the outcome lines not yet journaled, in one
// write, and reports whether the journal is broken (journalBroken). Every
// step calls it first, so the journal holds an outcome before Redis
// records it.
func (r *run) journalOutcomes(ctx context.Context) bool {
	if len(r.out) == 0 {
		return false
	}
	broken := r.journalBroken(ctx, r.out...) != nil
	r.out = r.out[:0]
	return broken
}

// stopped says whether the pass must stop before the next recipient: the
// worker drains, or the chunk's staging no longer runs (as last read): the
// campaign is not running, or it was staged again (Worker.runs), or
// Redis's maxmemory-policy may evict (Worker.evicting).
func (r *run) stopped(ctx context.Context) stop {
	select {
	case <-r.w.drain:
		return stopDraining
	default:
	}
	if !r.w.runs(ctx, r.cs) {
		return stopPaused
	}
	if r.w.evicting() {
		return stopHeld
	}
	return stopNone
}

// later notes a deferred recipient due at t.
func (r *run) later(t time.Time) {
	if r.next.IsZero() || t.Before(r.next) {
		r.next = t
	}
}

// givenBack returns the records that give claims back (claimed, not
// sent) with the next step (appended to run.recs): those recipients are
// pending again, not in doubt. Giving back a claim that was not made
// changes nothing: no entry holds its token.
func givenBack(claims []store.Claim) []store.Record {
	recs := make([]store.Record, len(claims))
	for i, c := range claims {
		recs[i] = store.Record{ID: c.ID, Lang: c.Lang, Batch: c.Batch, Kind: store.KindUnclaim, Token: c.Token}
	}
	return recs
}

// open makes claims, journaled as claimed (held: those the step made,
// indices into claims), the run's window: from then on Worker.fence gives
// back those not begun (begin) should the run outlive its worker's
// shutdown timeout. It returns false when Run has fenced the run already:
// the caller gives them back itself.
func (r *run) open(claims []store.Claim, held []int) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.fenced {
		return false
	}
	r.win = &window{claims: claims, held: held, given: -1}
	return true
}

// begin says that the window's claim j begins to be sent (checked,
// rendered, sent): Worker.fence no longer gives it back. It returns false
// when the fence came first: claim j was given back (or is the caller's
// to give back: unclaim), and must not be sent.
func (r *run) begin(j int) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.fenced || r.win == nil {
		return false
	}
	r.win.next = j + 1
	return true
}

// close ends the window, and returns how many of its claims are the
// run's to give back: all of them, or those before the ones Worker.fence
// gave back.
func (r *run) close() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	to := -1
	if r.win != nil && r.win.given >= 0 {
		to = r.win.given
	}
	r.win = nil
	return to
}

// fence is Worker.fence for one run: no message begins after it, and it
// returns the records that give back the claims of the open window that
// none has begun to send (journaled as unclaimed first: unclaimed), for
// Run to record. The run gives back the others, should it stop before
// sending them.
func (r *run) fence() []store.Record {
	r.mu.Lock()
	r.fenced = true
	win := r.win
	if win != nil {
		win.given = win.next
	}
	r.mu.Unlock()
	if win == nil || win.next >= len(win.claims) {
		return nil
	}
	return r.unclaimed(win.claims, win.next, win.held)
}

// unclaim ends the window and gives back its claims from index from on
// (givenBack), none of them sent, but those Worker.fence gave back already:
// unclaimed.
func (r *run) unclaim(claims []store.Claim, from int, held []int) {
	if to := r.close(); to >= 0 {
		claims = claims[:max(to, from)]
	}
	if from < len(claims) {
		r.recs = append(r.recs, r.unclaimed(claims, from, held)...)
	}
}

// unclaimed returns the records that give back claims from index from
// on, none of them sent, and journals as unclaimed those of them the
// journal holds as claimed: the held ones (indices into claims), and only
// those: an unclaimed line for a recipient this window did not claim would
// resolve an earlier claim of it, which may have been sent. Should that
// line not be written, they are abandoned instead (abandoned).
func (r *run) unclaimed(claims []store.Claim, from int, held []int) []store.Record {
	if r.w.journal == nil {
		return givenBack(claims[from:])
	}
	var un []journal.Entry
	now := time.Now()
	for _, j := range held {
		if j >= from && j < len(claims) {
			un = append(un, r.entry(now, claims[j].ID, "", claims[j].Lang, journal.OutcomeUnclaimed))
		}
	}
	if err := r.w.journal.Append(un...); err != nil {
		// The next window of any chunk finds the journal broken and
		// pauses the campaign (journalBroken).
		r.w.log.Error("append to the delivery journal; the window's unsent claims are recorded in doubt", "campaign", r.cs.name, "err", err)
		return r.abandoned(claims, from, held)
	}
	return givenBack(claims[from:])
}

// abandoned returns the records that end the window's claims from index
// from on, none of them sent, when the journal may hold the held ones as
// claimed (the journal broke) and no unclaimed line can say otherwise:
// those are recorded in doubt, as the journal reads them, and never sent;
// given back in Redis, a claim the journal holds would read to the journal
// check as one Redis lost. The others are given back.
func (r *run) abandoned(claims []store.Claim, from int, held []int) []store.Record {
	var recs []store.Record
	for j := from; j < len(claims); j++ {
		c := claims[j]
		if !slices.Contains(held, j) {
			recs = append(recs, givenBack(claims[j:j+1])...)
			continue
		}
		recs = append(recs, store.Record{ID: c.ID, Lang: c.Lang, Batch: c.Batch, Kind: store.KindInDoubt, Code: journal.ClaimedCode,
			Response: "claimed, not sent: the delivery journal could not record it given back", Token: c.Token})
	}
	return recs
}

// entry is a journal line of r's campaign and run, by this worker.
func (r *run) entry(at time.Time, id, email, lang, outcome string) journal.Entry {
	return journal.Entry{At: at, Campaign: r.cs.name, Run: r.cs.run, ID: id, Email: email, Lang: lang, Outcome: outcome, Worker: r.w.cfg.WorkerID}
}

// ackRetries is how often a step not acknowledged by the replicas (or
// failing, during a failover) is tried again before the chunk gives up
// (and gives its claims back).
const ackRetries = 6

// ledgerStep is the command a refusal (outageLog.refused) names for a
// ledger step.
const ledgerStep = "ledger step (claims and outcomes)"

// step records r.recs (after the campaign's backlog) and makes claims in
// one round trip; without claims it flushes the outcomes, and with nothing
// to record either it does nothing. A step that fails or is not
// acknowledged by enough replicas is tried again (same records, same claim
// tokens: harmless) with a growing pause. When it still fails, every claim
// is given back (whether or not it was made: its reply may be what was
// lost) and never sent, and the records go to the campaign's backlog, for
// the next step of any chunk.
func (r *run) step(ctx context.Context, claims []store.Claim) (res store.StepResult, err error) {
	r.journalOutcomes(ctx) // broken: the campaign is paused, and the outcomes are true all the same
	if b := r.w.takeBacklog(r.cs); len(b) > 0 {
		r.recs = append(b, r.recs...)
	}
	if len(r.recs) == 0 && len(claims) == 0 {
		return res, nil
	}
	tries := cmp.Or(r.tries, ackRetries)
	// What the ledger wrote of each record, as the first try that wrote it
	// answered: a try not acknowledged by the replicas may have written
	// it, and the next one then changes nothing ("").
	recorded := make([]string, len(r.recs))
	// The claims that recorded their recipient in doubt, as the try that
	// did answered (the tries after it find it in doubt already).
	doubt := make([]bool, len(claims))
	for attempt := 0; attempt < tries; attempt++ {
		res, err = r.cs.ledger.Step(ctx, r.recs, claims, r.cs.policy, time.Now())
		for i, o := range res.Recorded {
			recorded[i] = cmp.Or(recorded[i], o)
		}
		for j, a := range res.Claims {
			doubt[j] = doubt[j] || a.InDoubt
		}
		if err == nil {
			r.w.outage.answered(ledgerStep)
		}
		// Refused for the user's rights (refused): no try helps, and Redis
		// ran nothing of it; said once, the chunk ends as on a failure.
		if err == nil || r.w.outage.refused(ledgerStep, err) || attempt == tries-1 {
			break
		}
		r.w.log.Warn("ledger step failed; trying again", "campaign", r.cs.name, "attempt", attempt+1, "err", redisconn.Explain(err))
		select {
		case <-time.After(time.Duration(100<<attempt) * time.Millisecond):
		case <-ctx.Done():
			attempt = tries
		}
	}
	gone := slices.ContainsFunc(res.Claims, func(a store.ClaimAnswer) bool { return a.Result == store.ClaimGone || a.Result == store.ClaimStale }) ||
		(err == nil && res.State == "")
	if gone { // or staged anew: probeLost tells which, and says so when gone
		_, _ = r.w.probeLost(ctx, r.cs)
	}
	// A step not acknowledged may have written them all the same: they go
	// to the backlog below, and are accounted for now, once.
	r.account(ctx, recorded, err != nil && !gone)
	// A claim that found its recipient held by a claim whose sender died
	// recorded it in doubt: an outcome this worker counts, once (nobody
	// else can: the dead worker never learnt it). Not when no try was
	// acknowledged: a failover may lose the write, and the claim that
	// finds the recipient again would count it twice.
	for j, d := range doubt {
		if d && err == nil {
			r.counts.inc(r.w.m.messages, r.cs.name, claims[j].Lang, store.OutcomeInDoubt)
		}
	}
	if err == nil || gone {
		r.recs = r.recs[:0]
	}
	if err != nil {
		// Claimed on the master but never acknowledged, or claimed with the
		// reply lost: give them back so that they are pending again, not in
		// doubt (a give-back of a claim never made changes nothing).
		r.recs = append(r.recs, givenBack(claims)...)
		r.w.keep(r.cs, r.recs)
		r.recs = nil
		return store.StepResult{}, err
	}
	if res.AutoPaused != "" {
		r.w.m.autoPauses.WithLabelValues(r.cs.name).Inc()
		r.w.log.Warn("campaign paused automatically", "campaign", r.cs.name, "reason", res.AutoPaused)
	}
	return res, nil
}

// account counts in tidings_messages_total the records of r.recs the
// ledger wrote (recorded: what it wrote of each, "" for nothing), and
// journals the lines that amend theirs (amend), once each: neither a
// give-back nor a record that changed nothing (another claim's outcome
// stands, or the campaign is gone or staged anew). A record the ledger
// answered for in a step not acknowledged by the replicas is accounted for
// then, and goes to the backlog (kept): the step that records it again
// finds it written (or writes it again, after a failover lost it) and
// does not account for it twice (Worker.answered, by claim token).
func (r *run) account(ctx context.Context, recorded []string, kept bool) {
	var amends []journal.Entry
	for i, rec := range r.recs {
		if rec.Kind == store.KindUnclaim || r.w.answered(rec.Token, recorded[i] != "", kept) {
			continue
		}
		if recorded[i] == "" {
			if !kept && rec.Kind == store.KindTemp {
				r.line(rec.Token) // recorded nothing: no line to amend
			}
			continue
		}
		r.counts.inc(r.w.m.messages, r.cs.name, rec.Lang, recorded[i])
		if e, ok := r.amend(rec, recorded[i]); ok {
			amends = append(amends, e)
		}
	}
	if len(amends) > 0 {
		_ = r.journalBroken(ctx, amends...) // broken: the campaign is paused
	}
}

// journalBroken appends es (when any) to the delivery journal, and
// returns the error when the journal is broken: then the worker pauses the
// campaign, since what it sent from then on could not be told apart from
// what Redis might forget (a loss of Redis state would mail those
// recipients twice), and the chunk stops.
func (r *run) journalBroken(ctx context.Context, es ...journal.Entry) error {
	j := r.w.journal
	if j == nil {
		return nil
	}
	var err error
	if len(es) > 0 {
		err = j.Append(es...) // fails with the stored error too
	} else {
		err = j.ErrFor(r.cs.name, r.cs.run)
	}
	if err == nil {
		return nil
	}
	// A failure of this campaign's file alone (deleted, replaced) stops
	// this campaign; one of the disk's or the directory's (journal.Shared)
	// stops every campaign of this worker, each at its next window.
	scope := "this campaign's journal file or directory alone failed (deleted, replaced, its path taken or not permitted): the worker's other campaigns go on; do what the error says, restart that worker, then resume the campaign"
	if journal.Shared(err) {
		scope = "the journal directory fails for every campaign of this worker, which all pause: fix the journal directory (space, permissions, the disk), restart that worker, then resume the campaigns"
	}
	r.w.log.Error("append to the delivery journal", "campaign", r.cs.name, "shared", journal.Shared(err), "err", err)
	r.w.m.journalFailed(r.cs.name)
	r.w.pauseCampaign(ctx, r.cs.name, r.cs.stage, "journal", fmt.Sprintf("worker %s on %s cannot write its delivery journal (%v): nothing more is sent, since a loss of Redis state would then go unnoticed; %s",
		r.w.cfg.WorkerID, r.w.cfg.Host, err, scope), time.Time{})
	return err
}

// ready makes sure the run holds a rate token it may spend now. Tokens
// are spent within cs.hold of being taken or never: those held longer (the
// connection was stuck in a slow transaction or step while the limiter
// refilled) are dropped, so that a connection never spends a hoard on top of
// what the limiter hands out, and the burst over the rate stays what the
// README states (Sending semantics), whatever the number of connections.
// New tokens are taken after the outcomes so far are recorded: until they
// are, a crash makes them in doubt.
func (r *run) ready(ctx context.Context) (stop, error) {
	if r.tokens > 0 && time.Since(r.took) <= r.cs.hold {
		return stopNone, nil
	}
	r.tokens = 0
	res, err := r.step(ctx, nil)
	if err != nil {
		return stopNone, err
	}
	if res.State != "" && res.State != store.StateRunning {
		// The outcomes just recorded paused it (the auto-pause), or it
		// was paused: nothing more goes out, even if tokens come at once.
		return stopPaused, nil
	}
	return r.take(ctx)
}

// take waits for rate tokens from the global limiter: as many as a
// connection spends within cs.hold at the campaign's last pace, at most
// cs.bulk (the limiter's burst).
func (r *run) take(ctx context.Context) (stop, error) {
	start := time.Now()
	defer func() { r.w.m.rateWait.Add(time.Since(start).Seconds()) }()
	n := r.cs.bulk
	if pace := time.Duration(r.cs.pace.Load()); pace > 0 {
		n = max(1, min(n, int(r.cs.hold/pace)))
	}
	failures := 0
	key := store.RateKey(r.cs.name)
	cmd := "take rate tokens (the rate limiter's key " + key + ")" // as a refusal names it
	for {
		asked := time.Now() // the limiter grants them no earlier
		res, err := r.w.limiter.AllowN(ctx, key, r.cs.limit, n)
		wait := time.Duration(100<<(failures+1)) * time.Millisecond
		if err == nil {
			r.w.outage.answered(cmd)
		}
		switch {
		case r.w.outage.refused(cmd, err):
			// A setting to fix (the user's rights): no claim is held
			// here; wait for it without spinning, and go on once allowed.
			wait = refusedPoll
		case err != nil:
			// Redis failing over (READONLY, NOREPLICAS, a dropped
			// connection) for a few seconds: wait for it, as a step does.
			if failures++; failures >= ackRetries {
				return stopNone, fmt.Errorf("take rate tokens: %w", err)
			}
			r.w.log.Warn("take rate tokens failed; trying again", "campaign", r.cs.name, "attempt", failures, "err", redisconn.Explain(err))
		case res.Allowed > 0:
			r.tokens, r.took = res.Allowed, asked
			return stopNone, nil
		default:
			wait = max(min(res.RetryAfter, 200*time.Millisecond), time.Millisecond)
		}
		select {
		case <-ctx.Done():
			return stopDraining, nil
		case <-r.w.drain:
			return stopDraining, nil
		case <-time.After(wait):
		}
		if err == nil && !r.w.runs(ctx, r.cs) {
			return stopPaused, nil
		}
	}
}

// composed is a claimed recipient's message, or the record of why none is
// sent (deliver): rendered ahead of its turn so that its commands can go
// out with the message before it (chains).
type composed struct {
	j   int           // the window's claim it is for; -1: none
	rec store.Record  // final when msg is nil (refused, invalid)
	msg *send.Message // nil when the recipient is refused or invalid
}

// compose checks and renders claim j's recipient rc: its message, or the
// record of its refusal (the locale rule, a rendering refused) or of a row
// the template cannot be rendered with. It sends nothing. The record is a
// value, not a pointer: it would escape, an allocation a message.
func (r *run) compose(j int, rc *store.Recipient) composed {
	cs := r.cs
	c := composed{j: j, rec: store.Record{ID: rc.ID, Lang: rc.Lang, Batch: r.p.Batch}}
	rec := &c.rec
	// The locale rule again (Resolve's errors are all *render.Refusal), then
	// the rendering: a refusal of either is recorded refused.
	m, err := cs.engine.Resolve(rc.Locale)
	by, out, link := "locale rule at send time: ", render.Rendered{}, send.Link{}
	if err == nil && m.Lang != rc.Lang {
		rec.Kind, rec.Code = store.KindRefused, "lang-changed"
		rec.Response = fmt.Sprintf("locale rule at send time: %q now resolves to %s, but %s was approved at staging", rc.Locale, m.Lang, rc.Lang)
		return c
	}
	if err == nil {
		// rc's extra columns in the run's one map, refilled for each
		// recipient: Render reads it and keeps nothing of it.
		r.fields = rc.FieldsInto(r.fields, cs.meta.Columns)
		by = "render: "
		link = cs.compose.Link(rc.ID, rc.Email)
		out, err = cs.engine.Render(m, render.Data{ID: rc.ID, Email: rc.Email, Name: rc.Name, Campaign: cs.name, Fields: r.fields, Data: cs.camp.Data,
			Unsubscribe: link.Web()})
	}
	if rf, ok := errors.AsType[*render.Refusal](err); ok {
		rec.Kind, rec.Code, rec.Response = store.KindRefused, rf.Code, by+err.Error()
		return c
	} else if err != nil {
		// Not the locale rule: the row is one the template cannot be
		// rendered with, invalid as plan calls such a row (README,
		// Outcomes), never sent nor retried.
		rec.Kind, rec.Code, rec.Response = store.KindInvalid, "render-error", "the template cannot be rendered with this row: "+err.Error()
		return c
	}
	c.msg = cs.compose.Message(rc.ID, rc.Email, rc.Name, link, out, time.Now())
	return c
}

// chains says whether the window's next message is rendered ahead and its
// MAIL, RCPT and DATA written with this one's data (send.Conn.SendThen):
// only when the campaign is not rate-limited, so that the limiter gates
// messages, never a message's commands, and no command waits on the
// server for a rate token.
func (r *run) chains() bool { return r.cs.bulk == 0 }

// deliver sends c, a claimed recipient's message (next, when not nil, is
// the window's next one, whose commands go out with it: transmit), and
// returns the record of its outcome, or why the pass stopped before
// anything was sent (transmit; the record is then the zero Record). A
// recipient refused or invalid (compose) is recorded so, nothing sent.
func (r *run) deliver(ctx context.Context, c composed, next *send.Message) (store.Record, stop) {
	rec := c.rec
	if c.msg == nil {
		return rec, stopNone
	}
	start := time.Now()
	why, err := r.transmit(ctx, c.msg, next)
	if why != stopNone {
		return store.Record{}, why
	}
	r.w.m.duration.Observe(time.Since(start).Seconds())
	if err == nil {
		rec.Kind, rec.Code, rec.Response = store.KindSent, "250", r.conn.Response()
		return rec, stopNone
	}
	se := send.Classify(err)
	rec.Code, rec.Response = smtpCode(se), se.Msg
	switch {
	case se.InDoubt:
		rec.Kind = store.KindInDoubt
	case se.Temporary:
		rec.Kind = store.KindTemp
	default:
		rec.Kind = store.KindFailed
	}
	return rec, stopNone
}

// errStopped ends a send whose pass must stop (transmit).
var errStopped = errors.New("the pass stops")

// transmit sends msg on the run's connection (with next's commands:
// send.Conn.SendThen), taking one from the pool when it
// has none (its dial before the window's claims failed: that failure is
// this message's outcome, the window's only one). After any dial it makes, before the
// transaction, it asks stopped again, as the window does before each
// message: a pause, cancel or shutdown that came while a relay was slow to
// greet is obeyed, and nothing is sent.
func (r *run) transmit(ctx context.Context, msg, next *send.Message) (stop, error) {
	if r.conn == nil {
		err := r.dialErr
		r.dialErr = nil
		if err == nil {
			r.conn, err = r.w.pool.Get(ctx)
		}
		if err != nil {
			return stopNone, err
		}
		if why := r.stopped(ctx); why != stopNone {
			return why, nil
		}
	}
	why := stopNone
	err := r.conn.SendThen(ctx, msg, next, func(ctx context.Context) error {
		if why = r.stopped(ctx); why != stopNone {
			return errStopped
		}
		return nil
	})
	return why, err
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
