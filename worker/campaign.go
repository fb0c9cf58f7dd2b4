package worker

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-redis/redis_rate/v10"

	"github.com/tidings-mail/tidings/internal/buildinfo"
	"github.com/tidings-mail/tidings/internal/campaign"
	"github.com/tidings-mail/tidings/internal/journal"
	"github.com/tidings-mail/tidings/internal/nextstep"
	"github.com/tidings-mail/tidings/internal/render"
	"github.com/tidings-mail/tidings/internal/store"
	"github.com/tidings-mail/tidings/internal/unsubscribe"
)

// campaignState is everything the worker needs about one staged campaign,
// loaded once per staging.
type campaignState struct {
	name    string
	stage   string
	run     string
	meta    *store.Meta
	camp    *campaign.Campaign
	engine  *render.Engine
	ledger  *store.Ledger
	policy  store.Policy
	tick    store.TickParams
	compose *Composer
	limit   redis_rate.Limit
	bulk    int // most tokens taken per rate-limiter call (the limiter's burst); 0: the campaign's rate is unlimited
	// hold is how long a chunk may spend the rate tokens it took (take):
	// max(50 ms, one token's interval). Tokens held longer (the
	// connection was stuck) are dropped, not spent late.
	hold time.Duration
	// pace is how long the last message took to render and send on any of
	// this worker's connections (ns): a take asks for the tokens a
	// connection spends within hold at that pace (at most bulk).
	pace    atomic.Int64
	refusal string // non-empty: this worker refuses the campaign, and why
	// refuseAs is the audit action of the pause a refusal makes: "refuse",
	// or "state-loss" (its journal holds deliveries this staging does not
	// cover), which store.Resume will not undo.
	refuseAs string
	lostSaid atomic.Bool // its loss from Redis was logged (Worker.lost)
	// gated is the state key (Worker.check) at which verify last let the
	// campaign's chunks claim.
	gated atomic.Value
	// saidWait is when (Unix s) a chunk last logged that it waits for other
	// workers' checks: once per campaign every 30 s, not once per chunk.
	saidWait atomic.Int64
	// poll is the last answer of gatePoll, shared by the chunks waiting;
	// polling is set while one of them asks Redis.
	poll    atomic.Pointer[gateAnswer]
	polling atomic.Bool

	// orphans holds, for each of its tasks seen active in no live asynq
	// server by the last reconcile, when it was first seen so; turnAt is
	// when this worker last reconciled the campaign. Only the dispatch loop
	// (reconcile) uses them.
	orphans map[string]time.Time
	turnAt  time.Time
}

// due returns when a deferred recipient may be tried again: the campaign's
// backoff after its last attempt, doubled per earlier attempt.
func (cs *campaignState) due(e store.Entry) time.Time {
	return e.At.Add(cs.camp.Retry.Delay(e.Attempts))
}

// campaign returns the cached state of c, loading it on a miss or when c
// was staged again (stage "" accepts any staging); nil when this worker
// refuses the campaign (it cannot send it as approved), which it pauses.
func (w *Worker) campaign(ctx context.Context, c, stage string) (*campaignState, error) {
	cached := func() *campaignState {
		w.mu.Lock()
		defer w.mu.Unlock()
		if cs := w.campaigns[c]; cs != nil && (stage == "" || cs.stage == stage) {
			return cs
		}
		return nil
	}
	if cs := cached(); cs != nil {
		return cs, nil
	}
	lk, _ := w.loading.LoadOrStore(c, new(sync.Mutex))
	lk.(*sync.Mutex).Lock()
	defer lk.(*sync.Mutex).Unlock()
	if cs := cached(); cs != nil {
		return cs, nil
	}
	// Of another stored format: nothing of it is read further, nor
	// written (one HGET, not the meta and its snapshot, while it waits).
	if _, err := w.st.Format(ctx, c); err != nil {
		w.sayFormat(err)
		return nil, err
	}
	cs, err := w.load(ctx, c)
	if err != nil {
		w.sayFormat(err)
		return nil, err
	}
	w.formatSaid.Delete(c)
	// A campaign this worker refuses is not cached: it is paused at once,
	// and when someone fixes the cause and resumes it, it is loaded afresh.
	// The cause is checked once more first, and the pause is made only if
	// nobody changed the campaign's state since it was read before that
	// check: someone may have fixed the cause and resumed the campaign
	// while cs was loading, and a stale refusal must not pause it again.
	if cs.refusal != "" {
		ctl, err := w.st.Control(ctx, c)
		if err != nil || ctl.State != store.StateRunning {
			return nil, err
		}
		if again, err := w.load(ctx, c); err == nil && again.refusal != "" {
			w.pauseCampaign(ctx, c, again.stage, cmp.Or(again.refuseAs, "refuse"), again.refusal, ctl.At)
		}
		return nil, nil
	}
	w.mu.Lock()
	w.campaigns[c] = cs
	w.mu.Unlock()
	return cs, nil
}

func (w *Worker) load(ctx context.Context, c string) (*campaignState, error) {
	meta, err := w.st.Meta(ctx, c, true)
	if err != nil {
		return nil, err
	}
	if err := meta.CheckFormat(c); err != nil { // staged again by another build since Campaign read its format
		return nil, err
	}
	if w.cfg.Env != "" && meta.Env != w.cfg.Env {
		// Never sent through this environment's SMTP server (nor paused).
		return nil, fmt.Errorf("load campaign %s: %w", c, &store.EnvError{Campaign: c, Env: meta.Env, Want: w.cfg.Env})
	}
	camp, err := campaign.FromDefinition(meta.Definition)
	if err != nil {
		// The definition is what was staged: trying again cannot help, so
		// the campaign is paused, saying why, as for the refusals below.
		fix := "; fix the campaign file (or the environment setting it took) and stage it again"
		if errors.Is(err, campaign.ErrVersion) { // the error says which workers to run
			fix = ", then resume the campaign"
		}
		return &campaignState{name: c, stage: meta.Stage, run: meta.Run, meta: meta,
			refusal: fmt.Sprintf("worker %s on %s cannot load this campaign's definition: %s%s", w.cfg.WorkerID, w.cfg.Host, err.Error(), fix)}, nil
	}
	cs := &campaignState{name: c, stage: meta.Stage, run: meta.Run, meta: meta, camp: camp, ledger: w.st.Ledger(c, meta.Stage)}
	cs.policy = store.Policy{
		MaxAttempts: camp.Retry.MaxAttempts,
		Window:      camp.AutoPause.Window, ErrorRate: camp.AutoPause.ErrorRate, MinAttempts: camp.AutoPause.MinAttempts,
		Host: w.cfg.Host, Env: w.cfg.Env,
		// The step answers what this worker recorded sent in the run, which
		// rollback compares with this worker's journal of the run.
		Sender: meta.Run + "|" + w.cfg.WorkerID,
	}
	cs.tick = store.TickParams{Stage: meta.Stage, Interval: camp.Batches.Interval, ApproveAfterCanary: camp.Batches.ApproveAfterCanary,
		MaxFailureRate: camp.Batches.MaxFailureRate, MaxAttempts: camp.Retry.MaxAttempts, Actor: w.actor()}
	cs.compose = NewComposer(camp, w.cfg.UnsubscribeSecret)
	if err := cs.compose.Err(); errors.Is(err, unsubscribe.ErrNoSecret) {
		// The campaign is right; this worker lacks the key of its tokens,
		// and would send links nobody can check (or none at all).
		cs.refusal = fmt.Sprintf("worker %s on %s has no unsubscribe secret, and this campaign's List-Unsubscribe %q needs one for {token}: it sends nothing rather than a link without its token; give this worker environment %s's secret (%s, the same as the one send used), and every other worker without one too, %s",
			w.cfg.WorkerID, w.cfg.Host, camp.ListUnsubscribe, cmp.Or(meta.Env, w.cfg.Env), unsubscribe.SecretSettings, w.thenResume(c, meta))
		return cs, nil
	} else if err != nil {
		cs.refusal = fmt.Sprintf("worker %s on %s cannot compose this campaign's messages: %s; fix the campaign file and stage it again", w.cfg.WorkerID, w.cfg.Host, err.Error())
		return cs, nil
	}
	if r := w.otherUnsubscribeSecret(c, camp, meta); r != "" {
		cs.refusal = r
		return cs, nil
	}
	if !camp.Rate.Unlimited() {
		cs.bulk = max(1, min(20, int(camp.Rate.PerSecond()/20)))
		cs.limit = redis_rate.Limit{Rate: camp.Rate.Count, Period: camp.Rate.Per, Burst: cs.bulk}
		cs.hold = max(50*time.Millisecond, time.Duration(float64(time.Second)/camp.Rate.PerSecond()))
	}
	if cs.refuseAs, cs.refusal = w.journalRefusal(c, meta); cs.refusal != "" {
		return cs, nil
	}
	rcfg := render.Config{
		Templates: w.cfg.Templates, Locales: w.cfg.Locales, Template: camp.Template, DefaultLocale: camp.DefaultLocale,
		Policy: render.Policy{Aliases: camp.LocalePolicy.Aliases, MissingLocale: camp.LocalePolicy.MissingLocale},
		// The campaign's data is the same for every recipient: the engine
		// folds it into the templates (verified against html/template).
		Data: camp.Data,
	}
	source, fix := "its own template and catalog files", "fix the templates on that worker"
	if w.cfg.Templates == nil {
		rcfg.Templates, rcfg.Locales = render.FromSnapshot(meta.Snapshot)
		// The snapshot is what was approved and cannot be edited: a worker
		// whose tidings cannot read it is of another version.
		source, fix = "the approved snapshot stored with the campaign", "run workers of the same tidings version as the one that staged the campaign"
	}
	eng, err := render.New(rcfg)
	if err != nil {
		cs.refusal = fmt.Sprintf("worker %s on %s cannot load %s: %s; %s, then resume the campaign", w.cfg.WorkerID, w.cfg.Host, source, err.Error(), fix)
		return cs, nil
	}
	cs.engine = eng
	if h := eng.Hash(); h != meta.Hash {
		cs.refusal = fmt.Sprintf("template mismatch: worker %s on %s renders %s with hash %s, but the approved hash is %s%s; deploy the approved templates and catalogs (or run the worker on the approved snapshot), then resume the campaign",
			w.cfg.WorkerID, w.cfg.Host, source, h, meta.Hash, w.snapshotDiff(camp.Template, meta.Snapshot))
	}
	return cs, nil
}

// sayFormat logs, once per campaign and format, that this worker refuses
// a campaign of another stored format (err a *store.FormatError; any other
// err is ignored): it does not send it, nor write into it, and leaves it
// to the workers of its format. A build's format changes with the stored
// layout of a campaign (store.StoredFormat): an older worker would read
// counters a newer one no longer writes.
func (w *Worker) sayFormat(err error) {
	fe, ok := errors.AsType[*store.FormatError](err)
	if !ok {
		return
	}
	if said, loaded := w.formatSaid.Swap(fe.Campaign, fe.Format); loaded && said == fe.Format {
		return
	}
	fix := "stop this worker or upgrade it"
	if fe.Format < fe.Want {
		fix = "stop this worker until workers of format " + strconv.Itoa(fe.Format) + " (the build that staged it) have finished the campaign"
	}
	w.log.Error("campaign of another stored format: this worker neither sends it nor writes into it", "campaign", fe.Campaign,
		"reason", fmt.Sprintf("campaign %s was staged by a build with stored format %s; this worker (version %s) has format %d: run workers of one build per environment; %s (the campaign stays as it is for them, and its chunks wait meanwhile for this worker's delivery-journal check)",
			fe.Campaign, store.FormatName(fe.Format), buildinfo.String(), fe.Want, fix))
}

// maxDiffFiles is how many differing files a template mismatch names.
const maxDiffFiles = 5

// snapshotDiff names the files in which this worker's own template and
// catalog files differ from the approved snapshot, as a clause of the
// template mismatch reason ("; its files differ from the approved snapshot
// in locales/de.toml (changed)"); "" when it renders from the approved
// snapshot itself, the campaign has none, or no file differs.
func (w *Worker) snapshotDiff(template string, approved map[string][]byte) string {
	if w.cfg.Templates == nil || len(approved) == 0 {
		return ""
	}
	own, err := render.Snapshot(w.cfg.Templates, w.cfg.Locales, template)
	if err != nil {
		// render.New just read the same files; if they changed since and
		// no longer load, the reason keeps the hashes alone.
		return ""
	}
	return diffClause(render.DiffSnapshots(approved, own))
}

// diffClause words the files of diffs for a template mismatch reason, at
// most maxDiffFiles of them.
func diffClause(diffs []render.FileDiff) string {
	if len(diffs) == 0 {
		return ""
	}
	files := make([]string, 0, maxDiffFiles+1)
	for _, d := range diffs[:min(len(diffs), maxDiffFiles)] {
		how := d.Change.String()
		if d.Change != render.FileChanged {
			how += " on this worker"
		}
		files = append(files, fmt.Sprintf("%s (%s)", d.File, how))
	}
	if n := len(diffs) - maxDiffFiles; n > 0 {
		files = append(files, fmt.Sprintf("and %d more", n))
	}
	return "; its files differ from the approved snapshot in " + strings.Join(files, ", ")
}

// journalRefusal returns why this worker must not send campaign c as Redis
// now describes it: its journal holds deliveries of a run of c that Redis
// does not know and that were not excluded when it was staged, i.e. Redis
// lost the campaign and it was staged again as if nobody had been sent.
//
// A staging that holds nobody to send (every row excluded as delivered,
// refused or invalid: a recovery that closes the campaign) is not
// refused: it can mail nobody, and a refusal only paused as state loss
// the campaign that send's own tick was marking done, whichever came
// first.
func (w *Worker) journalRefusal(c string, meta *store.Meta) (action, reason string) {
	if w.journal == nil || meta.Staged == 0 {
		return "", ""
	}
	unknown, err := journal.UnknownRuns(w.journal.Dir(), c, append([]string{meta.Run}, meta.ExcludedRuns...))
	if err != nil {
		return "refuse", fmt.Sprintf("worker %s on %s cannot read its delivery journal to check that this staging (run %s) sends nobody it already delivered: %s; fix the journal directory, then resume the campaign",
			w.cfg.WorkerID, w.cfg.Host, meta.Run, err)
	}
	if len(unknown) == 0 {
		return "", ""
	}
	return "state-loss", fmt.Sprintf("state loss suspected: worker %s on %s delivered messages of this campaign in run %s (journal %s), which this staging (run %s) neither continues nor excludes; Redis lost the campaign and it was staged again as new. Nothing more is sent: cancel it and stage it again excluding the deliveries recorded in the journals",
		w.cfg.WorkerID, w.cfg.Host, strings.Join(unknown, ", "), w.journal.Dir(), meta.Run)
}

// tailBytes is how much of the end of each journal file forgotten reads
// at least (its latest ~280 lines, about 140 recipients, each with a
// claimed and an outcome line: what a restore forgets first; more when
// this worker's connections and claim windows make more claims open at
// once: tailFor), and tailFiles how many files at most: the most recently
// written, each worker process having its own. One check looks up at most
// a few hundred ids per file in the usual case.
const (
	tailBytes = 64 << 10
	tailFiles = 32
)

// tailFor is how much of each journal file forgotten reads with cfg: at
// least tailBytes (enough at the defaults), and enough for every claim a
// worker like this one can hold open at once (a window per connection)
// with as many outcome lines between them, at ~240 bytes a line (228
// measured); at most tailMax, so that a check of 32 files stays cheap.
func tailFor(cfg Config) int64 {
	return min(tailMax, max(tailBytes, int64(2*cfg.Concurrency*cfg.ClaimWindow*240)))
}

// tailMax bounds tailFor: 32 files of it are read every 5 s.
const tailMax = 1 << 20

// forgotten checks the latest deliveries and open claims that the journals
// of run of campaign c in this worker's journal directory record (every
// worker's that writes there, and this worker's earlier processes'; see
// journal.Recent) against the ledger: one the ledger has as missing, or
// waiting for a retry it had not reached, means Redis went back in time
// (restored from an older backup, or restarted without its last writes),
// and the chunk would send it again. Unlike rollback's counts it needs no
// allowance for outcomes not recorded yet, and it sees other processes'
// deliveries: a worker started after the restore, with a new worker id,
// has none of its own. It returns why the campaign must stop ("" when
// nothing is missing), and an error when Redis cannot be read. A file it
// cannot read is logged and passed over.
func (w *Worker) forgotten(ctx context.Context, c, run, stage string) (string, error) {
	if w.journal == nil {
		return "", nil
	}
	dir := w.journal.Dir()
	// Once per file (or directory) and error: the check runs every 5 s.
	once := func(path string, err error) bool {
		_, said := w.tailWarned.LoadOrStore(path+"\x00"+err.Error(), true)
		return !said
	}
	rec, err := journal.Latest(dir, c, run, stage, tailFor(w.cfg), tailFiles, func(path string, err error) {
		if once(path, err) {
			w.log.Warn("cannot read a delivery journal to check it against Redis; it is passed over: fix its permissions, or move it out of the journal directory if it is not a journal", "campaign", c, "file", path, "err", err)
		}
	})
	if err != nil {
		if !errors.Is(err, fs.ErrNotExist) && once(dir, err) {
			w.log.Warn("cannot list the delivery journals to check them against Redis: fix the journal directory's permissions", "campaign", c, "dir", dir, "err", err)
		}
		return "", nil
	}
	entries, err := w.st.Entries(ctx, c, rec.IDs)
	if err != nil {
		return "", err
	}
	lost, behind := map[string]bool{}, map[string]bool{}
	for i, e := range entries {
		id := rec.IDs[i]
		attempt, claimed := rec.Claim(id)
		done, resolved := rec.Resolved(id)
		switch {
		case claimed && (e.State == "" || e.Deferred() && e.Attempts < attempt):
			// A claim whose outcome was recorded without its line (the
			// journal broke) is deferred, or final, with at least the
			// claim's attempts; one Redis lost is missing, or deferred
			// with fewer.
			lost[id] = true
		case rec.Delivered(id) && !delivery(e):
			// Delivered: the ledger has it sent, in doubt (a late
			// record of the claim), still sending (its record not made
			// yet) or skipped. Missing, deferred, failed, cancelled:
			// Redis went back to before the delivery (a retry delivered
			// a recipient the restored ledger has as failed).
			lost[id] = true
		case resolved && e.State != store.OutcomeSkipped && (e.State == "" || e.Attempts < done):
			// A claim its file resolved (a temporary failure, say) was
			// counted as an attempt; the ledger never goes back below
			// it. A restore from before retries that failed again, whose
			// lines are all the check reads, shows here.
			lost[id] = true
			if e.State != "" {
				behind[id] = true
			}
		}
	}
	if w.ledgerRead != nil {
		w.ledgerRead()
	}
	// A claim given back since its file was read changed the ledger after
	// its unclaimed line was written. (A claim that ended in a temporary
	// failure meanwhile is deferred with the claim's attempts, not lost;
	// one that ended for good is final.)
	rec.DropGivenBack(lost)
	if len(lost) == 0 {
		return "", nil
	}
	// Those the ledger has with fewer attempts than their lines (a retry
	// that failed again) were not all sent: say so.
	never, n := "", 0
	for id := range behind {
		if lost[id] {
			n++
		}
	}
	if n > 0 {
		never = fmt.Sprintf(" or with fewer attempts than the journals record (%d of them)", n)
	}
	return fmt.Sprintf("state loss suspected: of the %d latest deliveries and claims of run %s in the journals in %s, Redis's ledger has %d as never sent%s: Redis lost recent writes (restored from an older backup, or restarted without its last writes). Nothing more is sent: cancel it and stage it again excluding the deliveries recorded in the journals",
		len(rec.IDs), run, dir, len(lost), never), nil
}

// delivery reports whether ledger entry e can be that of a recipient a
// journal records as delivered: sent or in doubt (its outcome recorded),
// sending (not recorded yet), or skipped (a staging excluded it as
// delivered). Nothing moves a delivered recipient's entry to anything
// else: a cancel sweeps only pending, deferred and sending ones, a retry
// only temporary failures, a re-staging keeps deliveries.
func delivery(e store.Entry) bool {
	switch e.State {
	case store.OutcomeSent, store.OutcomeInDoubt, store.OutcomeSkipped:
		return true
	}
	return e.Sending()
}

// verify reports whether a chunk of cs may claim recipients: yes once
// this worker's journals (check) and those of every other live worker
// (Store.CheckIn) have been checked against the campaign's state now. A
// Redis restored from an older backup forgets deliveries made since; a
// worker sees only those journaled in its own journal directory, so
// without the others' word it would send the ones another machine's
// worker made again. A check that finds a loss pauses the campaign (no:
// the chunk sends nothing); so does a campaign no longer running while
// it waits (the chunk ends, and runs again when the campaign does). A
// Redis error is returned (the task runs again), and so is a wait longer
// than gateWait (a retryLater: a worker that cannot finish its check
// holds the campaign, which the stall rule reports). A campaign Redis no
// longer has is left to the chunk, which says so.
//
// The first pass checks the control and state key the chunk read with its
// recipients (first, Store.StartChunk); the others read them anew. Once
// the others' checks are in, the state is read again and passes only if
// it is still the one checked. It returns the state key it passed for ("" for a campaign Redis no longer
// has): the chunk's recipients read in another state (first.Key) are read
// again (handle).
func (w *Worker) verify(ctx context.Context, cs *campaignState, first store.ChunkStart) (string, bool, error) {
	waitFrom, said := time.Now(), false
	read := first
	for {
		// Checked again on every pass: the state may change while it waits.
		key, ok, err := w.check(ctx, cs.name, read, w.drain)
		switch {
		case errors.Is(err, store.ErrNotFound):
			return "", true, nil
		case errors.Is(err, errNotRunning):
			return "", false, nil
		case !ok:
			return "", false, err
		case cs.gated.Load() == key:
			return key, true, nil
		}
		mine := key
		if w.journal == nil {
			mine = "*"
		}
		settled, behind, err := w.gatePoll(ctx, cs, key, mine)
		switch {
		case errors.Is(err, store.ErrNotFound):
			return "", true, nil // left to the chunk, as above
		case err != nil:
			return "", false, fmt.Errorf("%s: %w", journalCheck, err)
		case settled && len(behind) == 0:
			// The gate answered for the state read before it asked (with
			// the chunk, first): Redis may have come back as another
			// process meanwhile, with the word of every worker and even
			// this state's check-ins (a quick restart, a failover). Only a
			// state still current passes; another is checked in turn.
			if now := w.readState(ctx, cs.name); now.Err != nil || now.Key != key {
				read = now
				continue
			}
			cs.gated.Store(key)
			return key, true, nil
		case stopped(w.st.Probe(ctx, cs.name)):
			return "", false, nil
		case time.Since(waitFrom) > gateWait:
			why := "waited " + gateWait.String() + " for the delivery-journal checks of workers " + strings.Join(behind, ", ") + " (their logs say why they have not checked)"
			if len(behind) == 0 {
				why = "waited " + gateWait.String() + " for this worker's word that it is alive to reach Redis without gaps (is Redis slow to answer?)"
			}
			return "", false, &retryLater{after: time.Second, why: why}
		case len(behind) > 0 && !said && time.Since(waitFrom) > 2*time.Second && cs.sayWait():
			said = true
			args := []any{"campaign", cs.name, "workers", strings.Join(behind, ", ")}
			if other := w.st.OtherBuilds(ctx, w.cfg.Env, behind, store.StoredFormat); len(other) > 0 { // as status names them
				args = append(args, "other_builds", store.SayOtherBuilds(other, store.StoredFormat))
			}
			w.log.Info("waiting for other workers to check their delivery journals against the campaign's state before claiming", args...)
		}
		select {
		case <-ctx.Done():
			return "", false, ctx.Err()
		case <-w.drain:
			return "", false, errDraining
		case <-time.After(100 * time.Millisecond):
		}
		read = w.readState(ctx, cs.name)
	}
}

// gateAnswer is what gatePoll asked Redis about a state key, and when.
type gateAnswer struct {
	key, mine string
	at        time.Time
	settled   bool
	behind    []string
}

// gatePollEvery is how long gatePoll's answer serves the other chunks of
// the campaign that wait: the poll interval of verify.
const gatePollEvery = 100 * time.Millisecond

// gatePoll asks Redis whether this worker has settled and every worker
// alive has checked state key of cs (Alive, then CheckIn, which also
// checks in this worker's own check, mine), at most once per
// gatePollEvery per campaign: the chunks of cs that wait share the answer
// (a worker with 8 connections would otherwise run both scripts, each
// reading every worker's entry, 80 times a second per campaign, and every
// worker of a large fleet waits at once after a failover). An answer that
// the others have checked is shared anyway (gated); one that they have
// not is what a chunk's own poll would have said a moment ago. A chunk
// never waits for another's poll: while one asks, the others take the last
// answer for key (none: not yet), and ask again 100 ms later. Errors are
// not kept.
func (w *Worker) gatePoll(ctx context.Context, cs *campaignState, key, mine string) (bool, []string, error) {
	last := cs.poll.Load()
	if last != nil && (last.key != key || last.mine != mine) {
		last = nil
	}
	if last != nil && time.Since(last.at) < gatePollEvery {
		return last.settled, last.behind, nil
	}
	if !cs.polling.CompareAndSwap(false, true) {
		if last != nil {
			return last.settled, last.behind, nil
		}
		return false, nil, nil
	}
	defer cs.polling.Store(false)
	settled, live, err := w.st.Alive(ctx, w.cfg.Env, w.cfg.WorkerID, checkInWindow)
	var behind []string
	if err == nil && settled {
		behind, err = w.st.CheckIn(ctx, cs.name, w.cfg.WorkerID, mine, key, live, checkInWindow)
	}
	if err != nil {
		cs.poll.Store(nil)
		return false, nil, err
	}
	cs.poll.Store(&gateAnswer{key: key, mine: mine, at: time.Now(), settled: settled, behind: behind})
	return settled, behind, nil
}

// sayWait reports whether a chunk of cs that waits for other workers'
// checks should say so: no chunk of cs said so in the last 30 s.
func (cs *campaignState) sayWait() bool {
	last, now := cs.saidWait.Load(), time.Now().Unix()
	return last < now-30 && cs.saidWait.CompareAndSwap(last, now)
}

// stopped reports whether a probe read says the campaign no longer runs
// (read from Redis, not the control loop's cache, which may not have seen
// the resume that queued the chunk yet).
func stopped(p store.Probe, err error) bool { return err == nil && p.State != store.StateRunning }

// gateWait bounds one chunk's wait in verify for the other workers' checks.
const gateWait = 30 * time.Second

// checkInWindow is store.CheckInWindow.
const checkInWindow = store.CheckInWindow

// readState reads c's control and its state key as a check needs them
// (Store.StartChunk reads them with a chunk).
func (w *Worker) readState(ctx context.Context, c string) store.ChunkStart {
	var read store.ChunkStart
	if read.Control, read.Err = w.st.Control(ctx, c); read.Err == nil {
		read.Key, read.Err = w.st.StateKey(ctx, c, read.Control.At)
	}
	return read
}

// check checks the deliveries that this worker's journal directory records
// for campaign c (the latest lines, forgotten, then every delivery of the
// run, forgottenAnywhere) against the ledger, and that it holds none of a
// run the staging does not know (journalRefusal), once per state of the
// campaign: its control's at (a resume, an approval, a staging) and the
// run id of the Redis server process that answers (INFO; not known on
// Cluster, nor where INFO is refused). It returns that state's key, and
// false when the check found a loss (and paused the campaign) or failed.
// The key checked is what the worker's check-ins say (checkIn), and is
// also checked in at once, so that claimers waiting for it go on.
//
// read is c's control and state key as read (readState, or
// Store.StartChunk with a chunk). One check of c runs at a time; a chunk's
// (stop: the worker's drain) waits for the lock only while the campaign
// runs (lockCheck).
func (w *Worker) check(ctx context.Context, c string, read store.ChunkStart, stop <-chan struct{}) (string, bool, error) {
	if read.Err != nil {
		return "", false, fmt.Errorf("%s: %w", journalCheck, read.Err)
	}
	ctl, key := read.Control, read.Key
	if w.journal == nil {
		return key, true, nil
	}
	lk, _ := w.checking.LoadOrStore(c, make(chan struct{}, 1))
	if err := w.lockCheck(ctx, c, lk.(chan struct{}), stop); err != nil {
		return "", false, err
	}
	defer func() { <-lk.(chan struct{}) }()
	w.mu.Lock()
	done := w.checked[c] == key
	w.mu.Unlock()
	if done {
		return key, true, nil
	}
	if w.beforeCheck != nil {
		w.beforeCheck()
	}
	cctx, cancel := context.WithTimeout(ctx, w.cfg.JournalCheck)
	reason, err := w.forgotten(cctx, c, ctl.Run, ctl.Stage)
	cancel()
	if err == nil && reason == "" {
		cctx, cancel := context.WithTimeout(ctx, wholeCheck)
		reason, err = w.forgottenAnywhere(cctx, c, ctl.Run)
		cancel()
	}
	action := "state-loss"
	if err == nil && reason == "" {
		// Deliveries of a run this staging neither continues nor excludes
		// (Redis lost the campaign, and it was staged again as new): what
		// a load refuses, checked here too, since this worker may not load
		// the campaign before others claim.
		var meta *store.Meta
		if meta, err = w.st.Meta(ctx, c, false); err == nil {
			action, reason = w.journalRefusal(c, meta)
		}
	}
	switch {
	case err != nil:
		return "", false, fmt.Errorf("%s: %w", journalCheck, err)
	case reason != "":
		// Even when ctx ends now (the worker stops, the chunk is cancelled):
		// this pause is what the others wait for. Only while the state is
		// still the one checked; a newer one is checked anew.
		pctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		w.pauseCampaign(pctx, c, ctl.Stage, action, reason, ctl.At)
		cancel()
		return "", false, nil
	}
	w.mu.Lock()
	w.checked[c] = key
	w.mu.Unlock()
	if _, err := w.st.CheckIn(ctx, c, w.cfg.WorkerID, key, "", nil, checkInWindow); err != nil && !errors.Is(err, store.ErrNotFound) {
		w.log.Warn("check in", "campaign", c, "err", err) // the control loop checks in again
	}
	return key, true, nil
}

// lockCheck takes sem, the lock of campaign c's journal check. A chunk
// behind another's check of the whole journal (a million deliveries:
// seconds, bounded by wholeCheck) gives up when stop closes (errDraining:
// its worker shuts down) or a probe every 250 ms finds the campaign no
// longer running (errNotRunning: paused, cancelled; it runs again when the
// campaign does), as a chunk waiting in verify does. The check loop's
// (stop nil) waits for ctx alone.
func (w *Worker) lockCheck(ctx context.Context, c string, sem chan struct{}, stop <-chan struct{}) error {
	select {
	case sem <- struct{}{}: // free: verify polls every 100 ms, mostly so
		return nil
	default:
	}
	var probe <-chan time.Time // nil: the check loop's wait probes nothing
	if stop != nil {
		tick := time.NewTicker(250 * time.Millisecond)
		defer tick.Stop()
		probe = tick.C
	}
	for {
		select {
		case sem <- struct{}{}:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		case <-stop:
			return errDraining
		case <-probe:
			if stopped(w.st.Probe(ctx, c)) {
				return errNotRunning
			}
		}
	}
}

// errNotRunning: a chunk waiting for its campaign's journal check found
// the campaign no longer running.
var errNotRunning = errors.New("campaign not running")

// wholeCheck bounds forgottenAnywhere (a million deliveries: seconds).
const wholeCheck = 2 * time.Minute

// forgottenAnywhere looks up every recipient that the journals of run of
// campaign c in this worker's journal directory record as delivered (sent
// or in doubt, whole files, not only their latest lines) in the ledger:
// one the ledger does not have as delivered (delivery) means Redis went
// back in time. forgotten reads only the latest lines, which a retry's
// attempts, or a cancel and a re-staging of the run (which clears what is
// not final), can fill with lines that say nothing about deliveries
// further back. It costs a read of the journals and one ledger lookup per
// delivery, so verify runs it once per state change. A file it cannot
// read is logged and passed over, as forgotten does.
//
// A file's last line cut short is read as a delivery (a worker that died
// mid-write may have sent that message), but it may also be a line that a
// live worker is still writing (another worker's, or one of this worker's
// connections: the kernel copies a write into the file a page at a time,
// and a reader can see its first part alone), of a temporary failure or a
// give-back, say, which that worker then records in Redis, before the
// lookup here: such a recipient the ledger does not have as delivered is
// counted only if its line, read again after the ledger, is still cut, or
// now says delivered. (A worker writes a line before Redis records what
// it says, so a ledger that has moved on has the line whole.)
func (w *Worker) forgottenAnywhere(ctx context.Context, c, run string) (string, error) {
	files, err := journal.CampaignFiles(w.journal.Dir(), c)
	if err != nil {
		return "", nil // no journal yet, or one forgotten has warned of
	}
	type cutLine struct {
		file journal.File
		at   int64
	}
	var (
		ids         []string // looked up 10,000 at a time
		total, lost int
		rerr        error               // Redis's
		cuts        = map[int]cutLine{} // ids[i] is a file's cut last line
		recheck     []cutLine           // cut lines of recipients the ledger has not as delivered
	)
	lookup := func() error {
		entries, err := w.st.Entries(ctx, c, ids)
		if err != nil {
			rerr = err
			return err
		}
		if w.ledgerRead != nil {
			w.ledgerRead()
		}
		for i, e := range entries {
			switch cl, isCut := cuts[i]; {
			case delivery(e):
			case isCut:
				recheck = append(recheck, cl)
			default:
				lost++
			}
		}
		ids = ids[:0]
		clear(cuts)
		return ctx.Err()
	}
	for _, f := range files {
		if f.Run != run {
			continue
		}
		cutAt, err := f.EachDelivery(run, func(id string) error {
			total++
			// Looked up before the next id is added: the last one
			// waits until EachDelivery says whether its line was cut.
			if len(ids) == 10000 {
				if err := lookup(); err != nil {
					return err
				}
			}
			ids = append(ids, id)
			return nil
		})
		if err != nil && (rerr != nil || ctx.Err() != nil) {
			return "", cmp.Or(rerr, ctx.Err())
		}
		if err != nil {
			w.log.Warn("cannot read a delivery journal to check it against Redis; it is passed over", "campaign", c, "file", f.Path, "err", err)
			continue
		}
		if cutAt >= 0 && len(ids) > 0 {
			cuts[len(ids)-1] = cutLine{f, cutAt}
		}
	}
	if err := lookup(); err != nil {
		return "", err
	}
	for _, cl := range recheck {
		var e *journal.Entry
		_, err := cl.file.After(cl.at, func(line journal.Entry) error {
			if e == nil {
				e = &line
			}
			return nil
		})
		if err != nil || e == nil || e.Delivered() {
			lost++ // still cut (its worker died mid-write), or a delivery
		}
	}
	if lost == 0 {
		return "", nil
	}
	return fmt.Sprintf("state loss suspected: of the %d deliveries of run %s in the journals in %s, Redis's ledger has %d as never delivered: Redis lost writes (restored from an older backup, or restarted without its last writes). Nothing more is sent: cancel it and stage it again excluding the deliveries recorded in the journals",
		total, run, w.journal.Dir(), lost), nil
}

// journalCheck is what the journal check logs when it cannot read Redis.
const journalCheck = "check the latest journaled deliveries against Redis"

// checkJournals checks the journals against every running campaign of
// this worker's environment whose state changed since (check: what claimers
// wait for), then runs forgotten for every running campaign this worker
// has loaded, each bounded by Config.JournalCheck: in a loop of its own,
// so that a slow journal disk does not delay the control loop's pauses.
// It reports whether every campaign could be checked.
func (w *Worker) checkJournals(ctx context.Context) bool {
	w.mu.Lock()
	cached, states := maps.Clone(w.campaigns), w.states
	w.mu.Unlock()
	ok := true
	for c, p := range states {
		if p.State != store.StateRunning || !w.ours(p) {
			continue
		}
		// Whether or not this worker sends it: claimers wait for its word.
		if _, _, err := w.check(ctx, c, w.readState(ctx, c), nil); err != nil && !errors.Is(err, store.ErrNotFound) {
			ok = false
			w.outage.warn(journalCheck, err, "campaign", c)
		}
	}
	for c, cs := range cached {
		if p, known := states[c]; cs == nil || !known || p.State != store.StateRunning || p.Stage != cs.stage {
			continue
		}
		cctx, cancel := context.WithTimeout(ctx, w.cfg.JournalCheck)
		reason, err := w.forgotten(cctx, c, cs.run, cs.stage)
		cancel()
		switch {
		case err != nil:
			ok = false
			w.outage.warn(journalCheck, err, "campaign", c)
		case reason != "":
			w.outage.answered(journalCheck)
			w.pauseCampaign(ctx, c, cs.stage, "state-loss", reason, time.Time{})
		default:
			w.outage.answered(journalCheck)
		}
	}
	return ok
}

// journaled returns how many messages of cs's run this worker's journal
// records as sent, or -1 (nil cs, no journal, unreadable). Take it before
// reading the Redis count rollback compares it with: a message journaled
// after Redis was read would otherwise look like one Redis forgot (at
// 5,500 msg/s, a few milliseconds between the two reads is dozens).
func (w *Worker) journaled(cs *campaignState) int64 {
	if cs == nil || w.journal == nil {
		return -1
	}
	n, err := w.journal.Count(cs.name, cs.run, "sent")
	if err != nil {
		return -1
	}
	return n
}

// rollback compares redisSent, the number of recipients Redis says were
// sent in cs's run (by this worker, as a ledger step answers it; by any,
// as the control loop's probe reads it: mine is then compared with more
// than its own and Redis's forgetting shows less), with mine, what this
// worker's own journal recorded as sent before Redis was read
// (journaled): Redis can never hold fewer,
// except by the outcomes not recorded yet (journaled when their window
// ends, recorded in Redis with the next step: at most one window per
// connection) and those a concurrent claimer marked in doubt until their
// record arrives. Fewer than that means Redis went back in time (restored
// from an older backup, or it lost its last writes): it returns why, or "".
func (w *Worker) rollback(cs *campaignState, mine, redisSent int64, whose string) string {
	slack := int64(2 * w.cfg.Concurrency * w.cfg.ClaimWindow)
	if mine < 0 || mine <= redisSent+slack {
		return ""
	}
	return fmt.Sprintf("state loss suspected: Redis records %d messages sent %s in run %s, but worker %s on %s journaled %d (%s): Redis lost recent writes (restored from an older backup?). Nothing more is sent: cancel it and stage it again excluding the deliveries recorded in the journals",
		redisSent, whose, cs.run, w.cfg.WorkerID, w.cfg.Host, mine, w.journal.Dir())
}

// pauseCampaign pauses c on this worker's behalf, with reason, but only
// while its control's At is still at (zero: always).
func (w *Worker) pauseCampaign(ctx context.Context, c, stage, action, reason string, at time.Time) {
	_, moved, err := w.st.Transition(ctx, c, store.TransitionParams{From: []store.State{store.StateRunning}, To: store.StatePaused,
		Actor: w.actor(), Action: action, Reason: reason, IfAt: at, Stage: stage})
	if te := (*store.TransitionError)(nil); errors.As(err, &te) && te.PausedFor == store.StagedAgain {
		return // the staging judged is no longer the campaign's
	}
	if err != nil {
		w.log.Error("pause campaign", "campaign", c, "err", err)
		return
	}
	if moved {
		w.m.autoPauses.WithLabelValues(c).Inc()
		w.log.Warn("campaign paused by this worker", "campaign", c, "reason", reason)
	}
}

// forget drops cached states of campaigns no longer active (not probed, or
// done or cancelled), and their load locks, so that a worker running for
// weeks does not grow, nor read every campaign it ever ran (the control
// loop probes the cached ones); the outcomes one still holds for Redis are
// flushed all the same (Worker.backlog). One that runs again (retry) is
// loaded afresh.
func (w *Worker) forget(states map[string]store.Probe) {
	w.mu.Lock()
	defer w.mu.Unlock()
	gone := func(c string) bool {
		p, ok := states[c]
		return !ok || p.State.Finished()
	}
	maps.DeleteFunc(w.campaigns, func(c string, _ *campaignState) bool { return gone(c) })
	maps.DeleteFunc(w.checked, func(c string, _ string) bool { return gone(c) })
	for _, m := range []*sync.Map{&w.checking, &w.loading} { // loading: also of campaigns never cached (refused)
		m.Range(func(c, _ any) bool {
			if gone(c.(string)) {
				m.Delete(c)
			}
			return true
		})
	}
}

// drop removes cs from the cache, if it is still the cached state of its
// campaign: the campaign is loaded afresh when it is needed again.
func (w *Worker) drop(cs *campaignState) {
	w.mu.Lock()
	if w.campaigns[cs.name] == cs {
		delete(w.campaigns, cs.name)
	}
	w.mu.Unlock()
}

// otherUnsubscribeSecret says why this worker refuses to send campaign
// c, camp (staged as meta), when its unsubscribe secret is not the one the
// campaign's {token} was staged with: every link it mailed would be one
// the site refuses. "" when they agree, when the campaign has no {token},
// or when it was staged before fingerprints were stored (nothing to
// compare).
func (w *Worker) otherUnsubscribeSecret(c string, camp *campaign.Campaign, meta *store.Meta) string {
	if meta.UnsubscribeKey == "" || !unsubscribe.UsesToken(camp.ListUnsubscribe) {
		return ""
	}
	got := unsubscribe.KeyFingerprint([]byte(w.cfg.UnsubscribeSecret.Reveal()))
	if got == meta.UnsubscribeKey {
		return ""
	}
	return fmt.Sprintf("worker %s on %s holds another unsubscribe secret than the one this campaign was staged with (key fingerprint %s, staged with %s): the site would refuse every link it mails, so it sends nothing; give this worker environment %s's secret (%s, the same as the one send used and the site holds), and every other worker that holds another too, %s",
		w.cfg.WorkerID, w.cfg.Host, got, meta.UnsubscribeKey, cmp.Or(meta.Env, w.cfg.Env), unsubscribe.SecretSettings, w.thenResume(c, meta))
}

// thenResume ends a refusal that setting something on the workers fixes
// with the exact command to run then: status's hint for a paused
// campaign (nextstep.Hint), for campaign c of meta's environment.
func (w *Worker) thenResume(c string, meta *store.Meta) string {
	return "then " + nextstep.Hint(store.NextResume, c, cmp.Or(meta.Env, w.cfg.Env, "ENV"))
}
