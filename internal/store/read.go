package store

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/tidings-mail/tidings/internal/campaign"
)

// Meta is what staging recorded about a campaign.
type Meta struct {
	Definition   []byte            `json:"-"`
	Hash         string            `json:"hash"`
	Snapshot     map[string][]byte `json:"-"`
	Env          string            `json:"env"`
	CreatedBy    string            `json:"created_by"`
	CreatedAt    time.Time         `json:"created_at"`
	Staged       int               `json:"staged"`
	Rejected     int               `json:"rejected"`
	Batches      []BatchInfo       `json:"-"` // indexed by batch number
	Columns      []string          `json:"columns"`
	Stage        string            `json:"stage"`
	Run          string            `json:"run"`
	ExcludedRuns []string          `json:"excluded_runs,omitempty"`
	Continues    []string          `json:"continues,omitempty"` // StageConfig.Continues
	// Firsts holds the first recipient staged of each matched language,
	// in batch order (the canary batch first), as stored in a chunk; nil
	// for a campaign staged by a version of tidings that did not record
	// them (read the chunks then).
	Firsts map[string]Recipient `json:"-"`
	// Refusals counts the rows refused at staging by why (CountRefusal);
	// nil for a campaign staged by a version that did not count them.
	Refusals []Refusal `json:"-"`
	// Format is the stored format of the campaign's layout (StoredFormat
	// of the build that staged it; FormatNone: a build before them).
	Format int `json:"-"`
	// UnsubscribeKey is StageConfig.UnsubscribeKey: the fingerprint of the
	// unsubscribe secret of its {token}; "" without {token}, or staged by
	// a build before fingerprints.
	UnsubscribeKey string `json:"-"`
}

// ContinuedRuns returns the earlier runs the staging of m's run continued:
// the runs of the journal files its recovery read and excluded
// (ExcludedRuns: "<run>.<worker>@<bytes>", or "<run>"), then the runs
// whose exclusions it was given by other files (Continues: a full report
// written from Redis in a run, or a run that continued it, and the
// exclusions of recoveries), in order, once each; none for a run no
// recovery staged. A recovery that read a run a recovery marked
// (RunExcludedMark) was given that run's exclusions, so what it excluded
// (skipped, in the ledger) lists them too: a report of m's run stands for
// such a run, whatever the clocks of the machines that staged the two
// said.
func (m *Meta) ContinuedRuns() []string {
	runs := []string{} // a report says "none" as [] (JSON) or "" (CSV)
	for _, e := range append(slices.Clip(m.ExcludedRuns), m.Continues...) {
		run, _, _ := strings.Cut(e, ".")
		run, _, _ = strings.Cut(run, "@")
		if run != "" && run != "none" && !slices.Contains(runs, run) {
			runs = append(runs, run)
		}
	}
	return runs
}

// Meta reads the staging metadata of c and its batch table in one round
// trip; withSnapshot also decodes the template snapshot (large).
func (s *Store) Meta(ctx context.Context, c string, withSnapshot bool) (*Meta, error) {
	k := keysFor(c)
	fields := []string{"def", "hash", "env", "created_by", "created_at", "total", "rejected", "columns", "stage", "run", "excluded_runs", "firsts", "refusals", "continues", "format", "unsub_key"}
	if withSnapshot {
		fields = append(fields, "snapshot")
	}
	p := s.rdb.Pipeline()
	metaC := p.HMGet(ctx, k.meta, fields...)
	batC := p.HGetAll(ctx, k.batches)
	if _, err := p.Exec(ctx); err != nil {
		return nil, fmt.Errorf("read meta of %s: %w", c, err)
	}
	if metaC.Val()[0] == nil {
		return nil, s.absent(ctx, k, "read meta")
	}
	f := map[string]string{}
	for i, x := range metaC.Val() {
		f[fields[i]], _ = x.(string)
	}
	if err := checkEnv(c, f["env"], s.cfg.Env); err != nil {
		return nil, err
	}
	m := &Meta{Definition: []byte(f["def"]), Hash: f["hash"], Env: f["env"], CreatedBy: f["created_by"], CreatedAt: fromMS(atoi64(f["created_at"])),
		Staged: atoi(f["total"]), Rejected: atoi(f["rejected"]), Stage: f["stage"], Run: f["run"], Format: atoi(f["format"]), UnsubscribeKey: f["unsub_key"], Batches: make([]BatchInfo, len(batC.Val()))}
	for name, dst := range map[string]any{"columns": &m.Columns, "excluded_runs": &m.ExcludedRuns, "continues": &m.Continues, "snapshot": &m.Snapshot, "firsts": &m.Firsts, "refusals": &m.Refusals} {
		if err := json.Unmarshal([]byte(f[name]), dst); err != nil && f[name] != "" {
			return nil, fmt.Errorf("read meta of %s: %s: %w", c, name, err)
		}
	}
	for i := range m.Batches {
		if err := json.Unmarshal([]byte(batC.Val()[strconv.Itoa(i)]), &m.Batches[i]); err != nil {
			return nil, fmt.Errorf("read batches of %s: batch %d: %w", c, i, err)
		}
	}
	return m, nil
}

// Chunk reads chunk n of campaign c; a *LostChunksError when Redis lost it.
func (s *Store) Chunk(ctx context.Context, c string, n int) ([]Recipient, error) {
	v, err := s.rdb.MGet(ctx, keysFor(c).chunk(n)).Result()
	if err != nil {
		return nil, fmt.Errorf("read chunk %d of %s: %w", n, c, err)
	}
	return decodeChunk(c, n, v[0])
}

// IDs returns the ids of recs, in order.
func IDs(recs []Recipient) []string {
	ids := make([]string, len(recs))
	for i := range recs {
		ids[i] = recs[i].ID
	}
	return ids
}

// decodeChunk decodes chunk n of c as MGET read it (nil: Redis lost it):
// fast when it is of the shape staging writes (chunkjson.go), else, and
// with its errors, by encoding/json.
func decodeChunk(c string, n int, v any) ([]Recipient, error) {
	str, ok := v.(string)
	if !ok {
		return nil, &LostChunksError{Campaign: c, Chunks: []int{n}}
	}
	if recs, ok := fastChunk(str); ok {
		return recs, nil
	}
	var recs []Recipient
	if err := json.Unmarshal([]byte(str), &recs); err != nil {
		return nil, fmt.Errorf("decode chunk %d of %s: %w", n, c, err)
	}
	return recs, nil
}

// Entry is a recipient's ledger entry, decoded from
// "state|attempts|unix ms|code|flag|response".
type Entry struct {
	State    string // "" (never claimed), sending, deferred, or an outcome
	Attempts int
	At       time.Time // when the entry was written (a deferred recipient is due Backoff after it)
	Code     string
	Temp     bool   // flag "t": a temporary failure
	Response string // SMTP response, reason, or (sending) the claim's token
}

// Final reports whether the entry is a final outcome (nothing left to do).
func (e Entry) Final() bool {
	return e.State != "" && e.State != ledgerSending && e.State != ledgerDeferred
}

// Sending reports whether the recipient is claimed (its outcome not
// recorded yet).
func (e Entry) Sending() bool { return e.State == ledgerSending }

// Deferred reports whether the recipient waits for a retry.
func (e Entry) Deferred() bool { return e.State == ledgerDeferred }

// Entries reads the ledger entries of ids of campaign c in one round trip.
func (s *Store) Entries(ctx context.Context, c string, ids []string) ([]Entry, error) {
	out := make([]Entry, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	v, err := s.rdb.HMGet(ctx, keysFor(c).ledger, ids...).Result()
	if err != nil {
		return nil, fmt.Errorf("read the ledger of %s: %w", c, err)
	}
	for i, x := range v {
		if str, ok := x.(string); ok {
			out[i] = parseEntry(str)
		}
	}
	return out, nil
}

// BatchProgress are the counters of one batch.
type BatchProgress struct {
	Attempted int `json:"attempted"`
	Sent      int `json:"sent"`
	Failed    int `json:"failed"`
	Errors1   int `json:"first_attempt_errors"`    // failed or in doubt: what the batch gate counts
	Doubt1    int `json:"first_attempts_in_doubt"` // of Errors1, the ones in doubt
	// Retried1 is, of Errors1, the recipients a retry re-queued whose
	// retried attempt has not ended: the gate takes an error back when its
	// retry is sent, and it stands again on any other outcome.
	Retried1   int `json:"first_attempt_errors_retried"`
	Temp       int `json:"temporary_errors"`
	Perm       int `json:"permanent_errors"`
	Refused    int `json:"refused"`
	Invalid    int `json:"invalid"` // rows the worker could not render
	InDoubt    int `json:"in_doubt"`
	Skipped    int `json:"skipped"`
	Cancelled  int `json:"cancelled"`
	ChunksDone int `json:"chunks_done"`
	// RequeuedPerm is, of the recipients attempted without an outcome,
	// the permanent failures a retry re-queued that wait to be sent again.
	RequeuedPerm int `json:"requeued_permanent"`
}

// Waiting returns the recipients of b attempted at least once that have
// no outcome yet: they wait for a retry after a temporary failure (or a
// permanent one a retry re-queued), or are being sent right now.
func (b BatchProgress) Waiting() int {
	return max(b.Attempted-b.Outcomes(), 0)
}

// Outcomes returns the recipients of b with an outcome, cancelled
// included (less b.Cancelled: those done, what a progress bar counts).
// It sums b's field of each final outcome (terminal): the batch counters
// the Lua scripts write, one field each, not a list to range over.
func (b BatchProgress) Outcomes() int {
	return b.Sent + b.Failed + b.Refused + b.Invalid + b.InDoubt + b.Skipped + b.Cancelled
}

// Terminal is the number of recipients (staged and rejected) with a final
// outcome, from counts.
func Terminal(counts map[string]int64) int64 {
	var n int64
	for _, o := range terminal {
		n += counts[o]
	}
	return n
}

// eachChunk calls fn for every chunk of c in batch order, reading up to 32
// chunks of a batch at a time. A chunk Redis lost is passed over, and named
// in the *LostChunksError returned after the others.
func (s *Store) eachChunk(ctx context.Context, c string, fn func(batch, chunk int, recs []Recipient) error) error {
	meta, err := s.Meta(ctx, c, false)
	if err != nil {
		return err
	}
	var lost []int
	for b, bi := range meta.Batches {
		ns := make([]int, 0, bi.Last-bi.First+1)
		for n := bi.First; n <= bi.Last; n++ {
			ns = append(ns, n)
		}
		l, err := s.readChunks(ctx, c, ns, func(n int, recs []Recipient) error { return fn(b, n, recs) })
		if err != nil {
			return err
		}
		lost = append(lost, l...)
	}
	if len(lost) > 0 {
		return &LostChunksError{Campaign: c, Chunks: lost}
	}
	return nil
}

// readChunks calls fn for chunks ns of c, in order, reading up to 32 at a
// time (one MGET each); it returns the chunks Redis lost, passed over.
func (s *Store) readChunks(ctx context.Context, c string, ns []int, fn func(chunk int, recs []Recipient) error) (lost []int, err error) {
	k := keysFor(c)
	for first := 0; first < len(ns); first += 32 {
		part := ns[first:min(first+32, len(ns))]
		ks := make([]string, len(part))
		for i, n := range part {
			ks[i] = k.chunk(n)
		}
		vs, err := s.rdb.MGet(ctx, ks...).Result()
		if err != nil {
			return nil, fmt.Errorf("read chunks: %w", err)
		}
		for i, v := range vs {
			if v == nil {
				lost = append(lost, part[i])
				continue
			}
			recs, err := decodeChunk(c, part[i], v)
			if err == nil {
				err = fn(part[i], recs)
			}
			if err != nil {
				return nil, err
			}
		}
	}
	return lost, nil
}

// TrimRate drops per-second counters older than a minute.
func (s *Store) TrimRate(ctx context.Context, c string, now time.Time) error {
	k := keysFor(c)
	f, err := s.rdb.HKeys(ctx, k.persec).Result()
	if err != nil {
		return fmt.Errorf("trim rate of %s: %w", c, err)
	}
	old := slices.DeleteFunc(f, func(sec string) bool { return sec == tableField || atoi64(sec) >= now.Unix()-60 })
	if len(old) == 0 {
		return nil
	}
	return s.rdb.HDel(ctx, k.persec, old...).Err()
}

// Status is a campaign's live status. Its JSON form is stable (status --json).
type Status struct {
	Campaign   string           `json:"campaign"`
	Control                     // state, reason, by, at, approved, current_batch, stage, run, action
	Env        string           `json:"env"`
	Hash       string           `json:"hash"`
	CreatedAt  time.Time        `json:"created_at"`
	CreatedBy  string           `json:"created_by"`
	Total      int64            `json:"total"` // staged + rejected
	Staged     int64            `json:"staged"`
	Rejected   int64            `json:"rejected"`
	Counts     map[string]int64 `json:"counts"` // every outcome, including pending
	Languages  []LangStatus     `json:"languages"`
	Batches    []BatchStatus    `json:"batches"`
	Retries    int64            `json:"retries_waiting"`
	Errors     []ErrorGroup     `json:"errors"`
	Audit      []AuditEntry     `json:"audit"`
	Rate       float64          `json:"rate"`                  // recipients given an outcome per second over the last 10 s (not retries deferred); 0 once done or cancelled
	ETASeconds float64          `json:"eta_seconds,omitempty"` // until every recipient has an outcome (eta.go); 0: unknown
	// ETAWaitsFor is what the ETA waits for when no number can be given
	// (ETAWaitsForApproval), "" otherwise.
	ETAWaitsFor string `json:"eta_waits_for,omitempty"`
	// GateWaitsForRetried is, while the current batch's gate waits for
	// them (lua/tick.lua), how many retried recipients of that batch have
	// no outcome yet: their first attempts failed, and whether those
	// failures stand decides the gate; 0 otherwise.
	GateWaitsForRetried int `json:"gate_waits_for_retried,omitempty"`
	// LastProgress is when an outcome was last recorded (zero: never); a
	// temporary failure deferred for a retry is no outcome.
	LastProgress time.Time `json:"last_progress,omitzero"`
	// RetriesDue is by when the recipients waiting for a retry are all due
	// (each its campaign's backoff after its last temporary failure; zero
	// when none waits or it is not known): the ETA waits for it.
	RetriesDue time.Time `json:"retries_due,omitzero"`
	// DueSince is since when the campaign has had recipients that workers
	// should be sending now (zero: none; eta.go's dueSince): with no
	// outcome since, no worker sends it.
	DueSince time.Time `json:"due_since,omitzero"`
	// Now is when Status read it, in Redis's clock (TIME): the now its
	// times (a state change, a release, DueSince, LastProgress) are to be
	// compared with, not the reading host's (statusview.ReadAt). Zero
	// when not read from Redis.
	Now time.Time `json:"-"`
	// LostChunks names the chunks of the campaign Redis lost (part of its
	// state: their recipients, whom no worker sends, are in no report read
	// from Redis now); nil when none is.
	LostChunks []int `json:"lost_chunks,omitempty"`
	// Awaited lists, while it runs, the workers alive that have not
	// checked in lately as having checked their delivery journals against
	// its current state (Store.Awaited): a chunk that starts now waits for
	// them before it claims (chunks already past the wait go on).
	Awaited []string `json:"awaited_checks,omitempty"`
	// AwaitedOtherFormat is, of Awaited, the workers that recorded
	// another stored format than the campaign's (SayBuild), with their
	// builds: they never check in for it, so its chunks wait until they
	// stop (workers of two builds at once, an upgrade under way).
	AwaitedOtherFormat []WorkerBuild `json:"-"`
	// RequeuedPermanent is, of Retries, the recipients failed for good
	// whose failures a retry --permanent re-queued: they wait to be sent
	// again, and did not fail temporarily.
	RequeuedPermanent int64 `json:"retries_requeued_permanent"`
	// PausedWhileStaging is, of a campaign whose staging has not ended
	// (StateStagingInterrupted, StateRestagingInterrupted, set by Status;
	// StateBeingStaged, by whoever reads its control), the pause made
	// meanwhile (who, when, why): it stays when the campaign is staged, and
	// nothing else acts on it until then. Nil when none was made.
	PausedWhileStaging *Control `json:"paused_while_staging,omitempty"`
	// Format is the stored format of the build that staged it (Meta.Format;
	// FormatNone: a build before stored formats): workers of a build of
	// another format (StoredFormat) neither send it nor write into it. Nil
	// when not read (its first staging has not ended).
	Format *int `json:"stored_format,omitempty"`
	// MetaLost: Redis lost the campaign's meta (part of its state) and
	// still has its control: no worker sends it, and its definition,
	// batches and languages are unknown (Status reads its control, counts,
	// total and audit log alone).
	MetaLost bool `json:"meta_lost,omitempty"`
}

// LangStatus is the progress of one matched language.
type LangStatus struct {
	Lang   string           `json:"lang"`
	Staged int64            `json:"staged"`
	Counts map[string]int64 `json:"counts"` // outcome -> n, including pending
}

// BatchStatus is the progress of one batch.
type BatchStatus struct {
	Batch    int  `json:"batch"`
	Canary   bool `json:"canary"`
	Size     int  `json:"size"`
	Released bool `json:"released"`
	Done     bool `json:"done"` // every recipient attempted at least once
	BatchProgress
}

// ErrorGroup is a group of recent failures with the same SMTP response.
type ErrorGroup struct {
	Code      string `json:"code"`
	Response  string `json:"response"`
	Temporary bool   `json:"temporary"`
	// InDoubt: the whole message went and no reply came (it may have been
	// delivered): never sent again.
	InDoubt bool      `json:"in_doubt"`
	Count   int       `json:"count"`
	Last    time.Time `json:"last"`
	// Exhausted is, of a temporary group, how many of its recipients are
	// failed now: their retries ran out (retry.max_attempts), and nothing
	// sends them again unless they are re-queued.
	Exhausted int `json:"retries_exhausted,omitempty"`
}

// States a status gives a campaign whose staging has not ended; no
// control holds them. One whose first staging has not ended has no
// definition yet; one whose re-staging was interrupted has the definition
// of its staging before, which no worker sends, and a control naming the
// new staging (only a pause acts on it: lua/transition.lua).
const (
	StateBeingStaged          State = "being-staged"          // its first staging runs
	StateStagingInterrupted   State = "staging-interrupted"   // its first staging stopped before its end
	StateRestagingInterrupted State = "restaging-interrupted" // it exists, and its staging again stopped before its end
)

// Status reads the live status of c; of a campaign whose first staging
// was interrupted, the status says so (unstaged), and so it does of one
// whose re-staging was interrupted (restagingInterrupted), and of one
// whose meta Redis lost while its control stayed (MetaLost: its control,
// counts and audit log alone, metaLostStatus), and of one whose control
// Redis lost while its meta stayed (StateControlLost). While its first
// staging runs, it is a *BeingStagedError (BeingStaged is its status in a
// list).
func (s *Store) Status(ctx context.Context, c string) (*Status, error) {
	k := keysFor(c)
	meta, err := s.Meta(ctx, c, false)
	if err != nil {
		return s.unstaged(ctx, c, err)
	}
	p := s.rdb.Pipeline()
	ctlC := p.HGetAll(ctx, k.control)
	cntC := p.HGetAll(ctx, k.counts)
	errC := p.LRange(ctx, k.errors, 0, 99)
	audC := p.LRange(ctx, k.audit, 0, -1)
	secC := p.HGetAll(ctx, k.persec)
	bsC := p.HGetAll(ctx, k.bstats)
	var chunks []string // every chunk's key, chunk nums[i]'s at i
	var nums []int
	for _, bi := range meta.Batches {
		for n := bi.First; n <= bi.Last; n++ {
			chunks, nums = append(chunks, k.chunk(n)), append(nums, n)
		}
	}
	exC := p.Exists(ctx, append(chunks, k.meta)...) // one key at least
	leaseC := p.Exists(ctx, k.staging)
	// Now is Redis's: the times status compares it with (a release, a
	// batch's end, a state change a tick makes) are (lua/tick.lua).
	nowC := p.Time(ctx)
	if _, err := p.Exec(ctx); err != nil {
		return nil, fmt.Errorf("read status of %s: %w", c, err)
	}
	ctl := parseControl(ctlC.Val())
	var lost []int
	if exC.Val() <= int64(len(chunks)) { // some are missing: which
		ex := make([]*redis.IntCmd, len(chunks))
		for i, key := range chunks {
			ex[i] = p.Exists(ctx, key)
		}
		if _, err := p.Exec(ctx); err != nil {
			return nil, fmt.Errorf("read status of %s: %w", c, err)
		}
		for i, e := range ex {
			if e.Val() == 0 {
				lost = append(lost, nums[i])
			}
		}
	}
	st := &Status{LostChunks: lost, Campaign: c, Control: *ctl, Env: cmp.Or(meta.Env, s.cfg.Env), // an older version's record may lack it
		Hash: meta.Hash, CreatedAt: meta.CreatedAt, CreatedBy: meta.CreatedBy, Format: &meta.Format,
		Staged: int64(meta.Staged), Rejected: int64(meta.Rejected), Total: int64(meta.Staged + meta.Rejected), Counts: map[string]int64{}}
	langs := map[string]*LangStatus{}
	lang := func(l string) *LangStatus {
		if langs[l] == nil {
			langs[l] = &LangStatus{Lang: l, Counts: map[string]int64{}}
		}
		return langs[l]
	}
	deferredAt := map[int]time.Time{} // attempts -> the last deferral of a temporary failure at that attempt
	for f, v := range cntC.Val() {
		n := atoi64(v)
		switch {
		case strings.HasPrefix(f, "staged:"):
			lang(f[len("staged:"):]).Staged = n
		case f == "deferred":
			st.Retries = n
		case f == "deferred_perm":
			st.RequeuedPermanent = n
		case strings.HasPrefix(f, "deferred_at:"):
			deferredAt[atoi(f[len("deferred_at:"):])] = fromMS(n)
		case f == "progress_at":
			st.LastProgress = fromMS(n)
		case f == tableField:
		case strings.HasPrefix(f, "lang:"):
			rest := f[len("lang:"):]
			i := strings.LastIndex(rest, ":")
			if i > 0 {
				lang(rest[:i]).Counts[rest[i+1:]] = n
			}
		default:
			st.Counts[f] = n
		}
	}
	for _, o := range terminal {
		st.Counts[o] += 0 // every outcome is listed, 0 or not
	}
	st.Counts[OutcomePending] = st.Total - Terminal(st.Counts)
	for _, l := range langs {
		l.Counts[OutcomePending] = l.Staged - Terminal(l.Counts)
		st.Languages = append(st.Languages, *l)
	}
	sort.Slice(st.Languages, func(i, j int) bool { return st.Languages[i].Lang < st.Languages[j].Lang })
	for i, bi := range meta.Batches {
		// bstats: "<batch>:<counter>" -> n
		n := func(counter string) int { return atoi(bsC.Val()[strconv.Itoa(i)+":"+counter]) }
		// Attempted: tried + sent - sent_late (lua/step.lua: a first
		// attempt sent increments sent alone), or an earlier build's
		// attempted when more, as lua/tick.lua's gate reads it.
		bp := BatchProgress{Attempted: max(n("tried")+n("sent")-n("sent_late"), n("attempted")), Sent: n("sent"), Failed: n("failed"), Errors1: n("errors1"), Doubt1: n("doubt1"), Retried1: n("retried1"), RequeuedPerm: n("deferred_perm"), Temp: n("temp"), Perm: n("perm"),
			Refused: n("refused"), Invalid: n("invalid"), InDoubt: n("in-doubt"), Skipped: n("skipped"), Cancelled: n("cancelled"), ChunksDone: n("chunks_done")}
		st.Batches = append(st.Batches, BatchStatus{Batch: i, Canary: bi.Canary, Size: bi.Size, Released: i <= ctl.CurBatch,
			Done: bp.ChunksDone >= bi.Last-bi.First+1, BatchProgress: bp})
	}
	if st.Errors, err = s.errorGroups(ctx, c, errC.Val(), st.Counts[OutcomeFailed]); err != nil {
		return nil, err
	}
	for _, a := range audC.Val() {
		var e AuditEntry
		if err := json.Unmarshal([]byte(a), &e); err != nil {
			// Kept in its place (the notifier's cursor and event ids count
			// entries), and shown: an audit log is not edited silently.
			e = AuditEntry{Action: AuditUnreadable, Reason: fmt.Sprintf("an audit entry tidings cannot read (%v): %.200q", err, a)}
		}
		st.Audit = append(st.Audit, e)
	}
	// Rate over the last 10 complete seconds; none once the campaign has
	// ended (its last seconds' outcomes are no current rate).
	now := nowC.Val()
	st.Now = now
	if !st.State.Finished() {
		st.Rate = perSecond(secC.Val(), now, time.Time{})
	}
	// A definition this version cannot read leaves the ETA unknown.
	if camp, err := campaign.FromDefinition(meta.Definition); err == nil {
		ctl := ctlC.Val()
		releasedAt, doneAt := fromMS(atoi64(ctl["released_at"])), fromMS(atoi64(ctl["batch_done_at"]))
		st.RetriesDue = retriesDueBy(st, camp, deferredAt)
		idle := time.Duration(atoi64(ctl["idle_ms"])) * time.Millisecond
		// The ETA's recent rate: over the seconds since the campaign last
		// became running, not a pause before a resume, and, while a batch
		// sends, since its release, not the interval before it.
		since := st.At
		if doneAt.IsZero() {
			since = laterOf(since, releasedAt)
		}
		st.ETASeconds, st.ETAWaitsFor = eta(st, perSecond(secC.Val(), now, since), camp, releasedAt, doneAt, idle, now)
		st.DueSince = dueSince(st, camp, releasedAt, doneAt)
		if st.ETAWaitsFor == "" && waitsForOutcome(st, now) {
			st.ETASeconds, st.ETAWaitsFor = 0, ETAWaitsForOutcome
		}
		st.GateWaitsForRetried = gateWaits(st, camp.Batches.MaxFailureRate, doneAt)
	}
	switch {
	case len(ctlC.Val()) == 0 && leaseC.Val() == 0: // a staging writes its control first
		controlLost(st)
	case ctl.Stage != meta.Stage && leaseC.Val() == 0:
		restagingInterrupted(st, ctlC.Val())
	}
	if st.State == StateRunning {
		// Unknown (nil) when unreadable: the status is still worth showing.
		if key, err := s.StateKey(ctx, c, st.At); err == nil {
			st.Awaited, _ = s.Awaited(ctx, c, meta.Env, key)
		}
		if len(st.Awaited) > 0 {
			st.AwaitedOtherFormat = s.OtherBuilds(ctx, meta.Env, st.Awaited, meta.Format)
		}
	}
	return st, nil
}

// restagingInterrupted makes st, the status of a campaign whose control
// (ctl, as stored) names a staging its definition does not record and no
// send stages now (its lease is gone), say that its re-staging stopped
// before its end (StateRestagingInterrupted): who began it and when (by
// and at, as they are on the page and in status), and a pause made
// meanwhile, which stays when it is staged. Its counts and batches are the
// ones that staging cleared or began writing: no worker sends it.
func restagingInterrupted(st *Status, ctl map[string]string) {
	if st.State == StatePaused {
		p := st.Control
		st.PausedWhileStaging = &p // said by its readers, not in the reason: once
	}
	st.State = StateRestagingInterrupted
	st.By, st.At = ctl["staging_by"], cmp.Or(fromMS(atoi64(ctl["staging_at"])), st.At)
	st.Reason = "its staging again never finished: the send that staged it again stopped before its end (interrupted, or it failed); no worker sends it until that send is run again"
}

// BeingStaged is the status, in a list of the campaigns of environment
// env or of it alone, of campaign c whose first staging runs (e, Status's
// error): its state is StateBeingStaged, by whom and since when e says
// (At zero when its send has not recorded its start yet).
func BeingStaged(c, env string, e *BeingStagedError) *Status {
	st := blank(c, env, StateBeingStaged)
	st.By, st.At, st.Reason = e.By, e.Since, "its first staging runs: only a pause acts on it until that staging ends"
	st.Staged = int64(e.Staged) // written so far
	return st
}

// blank is the status of campaign c of environment env in state state
// that has no definition yet: every count 0.
func blank(c, env string, state State) *Status {
	st := &Status{Campaign: c, Env: env, Control: Control{State: state, CurBatch: -1}, Counts: map[string]int64{OutcomePending: 0}}
	for _, o := range terminal {
		st.Counts[o] = 0
	}
	return st
}

// unstaged is the status of campaign c whose definition Meta could not
// read (err) when its first staging was interrupted
// (StateStagingInterrupted): who began it, when, and in which
// environment (its record as begun), and a pause made meanwhile, which
// stays when it is staged; err for any other error. It has no audit log:
// what the notifier announces begins once it is staged.
func (s *Store) unstaged(ctx context.Context, c string, err error) (*Status, error) {
	if errors.As(err, new(*NotFoundError)) {
		return s.metaLostStatus(ctx, c, err) // err when Redis has no trace of c
	}
	if !errors.As(err, new(*UnfinishedStagingError)) {
		return nil, err
	}
	p := s.rdb.Pipeline()
	begunC := p.HGet(ctx, keyStagings, c)
	ctlC := p.HGetAll(ctx, keysFor(c).control)
	if _, err := p.Exec(ctx); err != nil && !errors.Is(err, redis.Nil) {
		return nil, fmt.Errorf("read status of %s: %w", c, err)
	}
	var b begun
	_ = json.Unmarshal([]byte(begunC.Val()), &b)
	if err := checkEnv(c, b.Env, s.cfg.Env); err != nil {
		return nil, err
	}
	ctl := parseControl(ctlC.Val())
	st := blank(c, cmp.Or(b.Env, s.cfg.Env), StateStagingInterrupted)
	st.CreatedBy, st.CreatedAt = b.By, fromMS(b.At)
	// By and At: who began the staging, and when.
	st.Stage, st.Run, st.By, st.At = ctl.Stage, ctl.Run, b.By, cmp.Or(st.CreatedAt, ctl.At)
	st.Reason = "its first staging never finished: the send that staged it stopped before its end (interrupted, or it failed), or Redis lost its state since; no worker sends it"
	if ctl.State == StatePaused {
		st.PausedWhileStaging = ctl // said by its readers, not in the reason: once
	}
	return st, nil
}

// gateWaits returns how many retried recipients the gate of running
// campaign st's current batch waits for, as lua/tick.lua decides it: the
// batch's first pass is complete and its gate (max, the campaign's
// max_failure_rate) not applied yet (doneAt zero), and its retried
// first-attempt errors undecided can still decide it: the errors that
// stand without them pass it, and with them they would not. 0 otherwise.
func gateWaits(st *Status, max float64, doneAt time.Time) int {
	if st.State != StateRunning || !doneAt.IsZero() || max <= 0 || st.CurBatch < 0 || st.CurBatch >= len(st.Batches) {
		return 0
	}
	b := st.Batches[st.CurBatch]
	if !b.Done || b.Retried1 <= 0 || b.Attempted <= 0 {
		return 0
	}
	if a := float64(b.Attempted); float64(b.Errors1-b.Retried1)/a > max || float64(b.Errors1)/a <= max {
		return 0
	}
	return b.Retried1
}

// List returns the names of the campaigns staged in environment env (""
// for every environment), sorted: those listed among the campaigns, and
// those whose first staging began and has not ended (it runs, or it was
// interrupted: Status says which), by the environment it was begun in.
func (s *Store) List(ctx context.Context, env string) ([]string, error) {
	p := s.rdb.Pipeline()
	listedC := p.SMembers(ctx, keyCampaigns)
	begunC := p.HGetAll(ctx, keyStagings)
	if _, err := p.Exec(ctx); err != nil {
		return nil, fmt.Errorf("list campaigns: %w", err)
	}
	v := listedC.Val()
	for c := range begunC.Val() {
		if !slices.Contains(v, c) {
			v = append(v, c)
		}
	}
	sort.Strings(v) // the campaigns of env keep this order
	if env == "" {
		return v, nil
	}
	envs := make([]*redis.SliceCmd, len(v))
	for i, c := range v {
		envs[i] = p.HMGet(ctx, keysFor(c).meta, "env", "hash")
	}
	if _, err := p.Exec(ctx); err != nil && !errors.Is(err, redis.Nil) {
		return nil, fmt.Errorf("list campaigns: %w", err)
	}
	var out []string
	lost := map[string][2]*redis.StringCmd{} // no meta, no staging begun: the state and first audit entry of each, read below
	for i, c := range v {
		e, _ := envs[i].Val()[0].(string)
		hash, _ := envs[i].Val()[1].(string)
		var b begun // no definition yet: the environment it is being staged in
		if e == "" && json.Unmarshal([]byte(begunC.Val()[c]), &b) == nil {
			e = b.Env
		}
		// A definition of an older version that lacks its environment is
		// read in any (checkEnv): listed in every one, as status shows it.
		if e == env || e == "" && hash != "" {
			out = append(out, c)
		} else if e == "" && hash == "" {
			lost[c] = [2]*redis.StringCmd{p.HGet(ctx, keysFor(c).control, "state"), p.LIndex(ctx, keysFor(c).audit, 0)}
		}
	}
	if len(lost) == 0 {
		return out, nil
	}
	// A campaign whose meta Redis lost while its control stayed (Status:
	// MetaLost) is listed in the environment its staging's audit entry
	// names, so that a list says so.
	if _, err := p.Exec(ctx); err != nil && !errors.Is(err, redis.Nil) {
		return nil, fmt.Errorf("list campaigns: %w", err)
	}
	for c, r := range lost {
		var e AuditEntry
		if r[0].Val() != "" && json.Unmarshal([]byte(r[1].Val()), &e) == nil && e.Env == env {
			out = append(out, c)
		}
	}
	sort.Strings(out)
	return out, nil
}

// Row is one recipient of the report.
type Row struct {
	Line     int       `json:"line"`
	ID       string    `json:"id"`
	Email    string    `json:"email"`
	Name     string    `json:"name,omitempty"`
	Locale   string    `json:"locale"`             // requested
	Lang     string    `json:"lang,omitempty"`     // matched catalog language
	Outcome  string    `json:"outcome"`            // one of Outcomes
	Code     string    `json:"code,omitempty"`     // SMTP code or refusal code
	Response string    `json:"response,omitempty"` // SMTP response or reason
	At       time.Time `json:"at,omitzero"`
	Attempts int       `json:"attempts,omitempty"`
	Batch    int       `json:"batch"` // -1 for rejected rows
}

// Report calls fn for every recipient of c: staged ones in batch and chunk
// order with their ledger outcome (or pending), then the rows rejected at
// staging. Chunks Redis lost are passed over and named, after every other
// row, in a *LostChunksError.
func (s *Store) Report(ctx context.Context, c string, fn func(Row) error) error {
	return s.ReportOf(ctx, c, nil, fn)
}

// ReportOf is Report reading the ledger entries of the rows need asks for
// only (every row's when need is nil), so that a page listing 200 rows of
// a million asks Redis for 200 entries, not a million. need sees each row
// once, in the order fn will, before fn sees its chunk: a staged row
// without its ledger entry (Outcome "", no code, response, time or
// attempts), a row rejected at staging whole. fn then sees every row; one
// need did not ask for has Outcome "" (its outcome unread).
func (s *Store) ReportOf(ctx context.Context, c string, need func(Row) bool, fn func(Row) error) error {
	partial := s.eachChunk(ctx, c, func(batch, chunk int, recs []Recipient) error {
		rows := make([]Row, len(recs))
		var ids []string
		var at []int // rows[at[i]]'s entry is ids[i]'s
		for i, r := range recs {
			rows[i] = Row{Line: r.Line, ID: r.ID, Email: r.Email, Name: r.Name, Locale: r.Locale, Lang: r.Lang, Batch: batch}
			if need == nil || need(rows[i]) {
				ids, at = append(ids, r.ID), append(at, i)
			}
		}
		es, err := s.Entries(ctx, c, ids)
		if err != nil {
			return err
		}
		for i, e := range es {
			row := &rows[at[i]]
			row.Outcome, row.Code, row.Response, row.At, row.Attempts = OutcomePending, e.Code, e.Response, e.At, e.Attempts
			if e.Final() {
				row.Outcome = e.State
			}
		}
		for _, row := range rows {
			if err := fn(row); err != nil {
				return err
			}
		}
		return nil
	})
	// Chunks Redis lost: every other row still comes, then the error.
	var lost *LostChunksError
	if partial != nil && !errors.As(partial, &lost) {
		return fmt.Errorf("report %s: %w", c, partial)
	}
	each := fn
	if need != nil {
		each = func(row Row) error { need(row); return fn(row) }
	}
	if err := s.Rejects(ctx, c, each); err != nil {
		return fmt.Errorf("report %s: %w", c, err)
	}
	return wrapf(partial, "report %s", c)
}

// Rejects calls fn for every row of c rejected at staging (refused,
// invalid or skipped: Batch -1, Response the reason), in file order,
// without reading the staged recipients.
func (s *Store) Rejects(ctx context.Context, c string, fn func(Row) error) error {
	for start := int64(0); ; start += 1000 {
		v, err := s.rdb.LRange(ctx, keysFor(c).rejects, start, start+999).Result()
		if err != nil {
			return fmt.Errorf("read rejects of %s: %w", c, err)
		}
		rows := make([]Row, len(v))
		var kept []string // ids of rows whose ledger kept their earlier outcome
		var at []int
		for i, x := range v {
			var r Reject
			if err := json.Unmarshal([]byte(x), &r); err != nil {
				return fmt.Errorf("decode a reject of %s: %w", c, err)
			}
			rows[i] = Row{Line: r.Line, ID: r.ID, Email: r.Email, Locale: r.Locale, Outcome: r.Outcome, Code: r.Code, Response: r.Reason, Batch: -1}
			if r.Kept {
				kept, at = append(kept, r.ID), append(at, i)
			}
		}
		es, err := s.Entries(ctx, c, kept)
		if err != nil {
			return err
		}
		for j, e := range es {
			// A final outcome other than skipped is the one the row
			// keeps (Reject.Kept): sent stays sent.
			if e.Final() && e.State != OutcomeSkipped {
				row := &rows[at[j]]
				row.Outcome, row.Code, row.Response, row.At, row.Attempts = e.State, e.Code, e.Response, e.At, e.Attempts
			}
		}
		for _, row := range rows {
			if err := fn(row); err != nil {
				return err
			}
		}
		if len(v) < 1000 {
			return nil
		}
	}
}
