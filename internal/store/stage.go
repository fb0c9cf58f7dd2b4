package store

import (
	"cmp"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/tidings-mail/tidings/internal/address"
)

// StageConfig configures a Stager.
type StageConfig struct {
	Campaign   string            // campaign name ([a-z0-9-])
	Definition []byte            // resolved campaign definition (JSON), stored as meta "def"
	Hash       string            // approved template + catalog content hash
	Snapshot   map[string][]byte // template + catalog files the hash covers (render.Snapshot)
	Env        string            // environment the campaign is staged in
	Who        string            // who stages it
	Host       string            // host staging it
	Columns    []string          // extra (template data) columns, in file order

	// ChunkSize is the number of recipients per chunk, i.e. per worker task
	// (default 200). The batch layout is the caller's (the plan's): see Add.
	ChunkSize int
	// Canary says the layout starts with a canary batch (batch 0); regular
	// batches are then numbered from 1.
	Canary bool

	// UnsubscribeKey is the unsubscribe.KeyFingerprint of the secret the
	// {token} of the campaign's List-Unsubscribe is made with; "" when it
	// has no {token}. Stored as meta "unsub_key" (Meta.UnsubscribeKey).
	UnsubscribeKey string
	// NewUnsubscribeKey lets a re-staging (ResumeExisting) store an
	// UnsubscribeKey other than the one the campaign was staged with;
	// without it that is refused (*UnsubscribeKeyError).
	NewUnsubscribeKey bool

	// ResumeExisting allows staging a campaign that exists and is not
	// running, awaiting approval or done; a paused one stays paused (Finish
	// does not start it). The ledger, audit log and recent
	// errors are kept, and so is the run id (the journals of the run stay
	// valid); everything else is staged afresh from the new recipients. A
	// recipient whose ledger entry is sent, in-doubt, failed permanently
	// or skipped (delivered in an earlier run: Reject writes it) keeps it
	// and is never sent again, matched by id and by mailbox (identity.go):
	// under a new id, the entry of the id its mailbox was staged under
	// before is carried over (Kept and Carried count it); an id that holds
	// another mailbox's entry fails the staging (*IDConflictError; Check
	// finds them first). Other entries are cleared, so those recipients
	// are sent (again checked by the worker). A recipient left "sending"
	// by a crash becomes in-doubt.
	ResumeExisting bool

	// ExcludedRuns names what of earlier runs of this campaign had its
	// deliveries excluded from this staging (recovery after Redis lost the
	// campaign): a whole run ("<run>") or one worker's journal of a run
	// ("<run>.<worker>"); "none" when only reports were read. A worker
	// whose delivery journal holds deliveries of an earlier run not named
	// here refuses the new run (journal.UnknownRuns).
	ExcludedRuns []string
	// Continues names the earlier runs whose recoveries' exclusions
	// (beyond the journals) this staging was given by files other than
	// journals, and so excluded again: those a full report written from
	// Redis stands for (its run, and the runs its run continued), and
	// those whose recoveries an exclusions file lists. Never read by
	// workers (ExcludedRuns is): a report of a run does not hold what
	// was delivered in it after it was written.
	Continues []string
	// ExcludedElsewhere says that deliveries recorded outside the journals
	// (a report, or the recipients earlier recoveries excluded) were
	// excluded too: the new run's id ends in RunExcludedMark, so that its
	// journal files, wherever they are copied, say that a recovery from
	// them needs those exclusions as well.
	ExcludedElsewhere bool
}

// RunExcludedMark ends the id of a run staged with deliveries recorded
// outside the journals excluded (StageConfig.ExcludedElsewhere).
const RunExcludedMark = "-excl"

// Recipient is one staged recipient, as stored in a chunk.
type Recipient struct {
	Line   int               `json:"n"`
	ID     string            `json:"i"`
	Email  string            `json:"e"`
	Name   string            `json:"m,omitempty"`
	Locale string            `json:"o,omitempty"` // requested locale, raw
	Lang   string            `json:"l"`           // matched catalog language
	Via    string            `json:"v,omitempty"` // exact|match|alias|missing_locale
	Fields map[string]string `json:"-"`           // extra columns (Stager.Add input)
	Values []string          `json:"f,omitempty"` // extra column values in Columns order (stored form)
	// Key is the identity of the mailbox (address.KeyOf(Email); computed
	// when empty), not stored in chunks.
	Key string `json:"-"`
}

// FieldsInto returns the extra columns of a staged recipient (as read
// from a chunk: Values) as a map, given the campaign's columns
// (Meta.Columns): m, cleared first, or a new map when m is nil (a caller
// that reads one recipient's fields at a time, as the worker renders every
// message of a chunk, passes the same map).
func (r *Recipient) FieldsInto(m map[string]string, columns []string) map[string]string {
	if m == nil {
		m = make(map[string]string, len(columns))
	}
	clear(m)
	for i, c := range columns {
		if i < len(r.Values) {
			m[c] = r.Values[i]
		}
	}
	return m
}

// Reject is a row not staged, recorded for the report: refused or invalid
// at planning time, or skipped (excluded as already delivered).
type Reject struct {
	Line    int    `json:"line"`
	ID      string `json:"id,omitempty"`
	Email   string `json:"email,omitempty"`
	Locale  string `json:"locale,omitempty"`
	Outcome string `json:"outcome"` // refused | invalid | skipped
	Code    string `json:"code,omitempty"`
	Field   string `json:"field,omitempty"`
	Reason  string `json:"reason"`
	// KeepEarlier, for a skipped row of a re-staging (ResumeExisting),
	// keeps the recipient's earlier outcome when the ledger holds one a
	// re-staging keeps (sent, in doubt, failed for good, skipped, or a
	// claim): a row suppressed since it was sent stays sent. Without one,
	// the row is skipped in the ledger, as any skipped row. Not stored.
	KeepEarlier bool `json:"-"`
	// Kept, stored, says the ledger kept the row's earlier outcome
	// (KeepEarlier): the report shows that outcome, as the ledger has it.
	Kept bool `json:"kept,omitempty"`
}

// Refusal counts the rows refused at staging for one reason: one code
// and, for a locale refusal, one locale.
type Refusal struct {
	Code   string `json:"code"`
	Field  string `json:"field,omitempty"`
	Locale string `json:"locale,omitempty"` // the locale refused, when Field is "locale"
	Reason string `json:"reason"`           // the first row's
	Count  int    `json:"count"`
}

// MaxRefusals bounds the groups CountRefusal keeps: rows refused for a
// reason met after that many others are counted by no group.
const MaxRefusals = 50

// CountRefusal counts refused row r in rs (rows of another outcome are
// not counted) and returns rs.
func CountRefusal(rs []Refusal, r Reject) []Refusal {
	if r.Outcome != OutcomeRefused {
		return rs
	}
	locale := ""
	if r.Field == "locale" {
		locale = r.Locale
	}
	for i := range rs {
		if rs[i].Code == r.Code && rs[i].Field == r.Field && rs[i].Locale == locale {
			rs[i].Count++
			return rs
		}
	}
	if len(rs) == MaxRefusals {
		return rs
	}
	return append(rs, Refusal{Code: r.Code, Field: r.Field, Locale: locale, Reason: r.Reason, Count: 1})
}

// BatchInfo describes one batch: an inclusive range of chunks.
type BatchInfo struct {
	First  int  `json:"first"`
	Last   int  `json:"last"`
	Size   int  `json:"size"`
	Canary bool `json:"canary,omitempty"`
}

// StageSummary is what Finish staged.
type StageSummary struct {
	Staged   int // recipients in chunks
	Rejected int // rows recorded as refused, invalid or skipped
	Batches  int
	Chunks   int
	Kept     int    // ResumeExisting: recipients whose earlier outcome was kept
	Carried  int    // of Kept, found under another id (their mailbox's earlier id)
	Stage    string // id of this staging
	Run      string // id of the run (kept by ResumeExisting)
	// State is the campaign's state after Finish: staged, running when
	// started, or paused when someone paused it before (ResumeExisting) or
	// while it was being staged; Paused then says by whom and why.
	State  State
	Paused string
}

// Stager streams accepted recipients into Redis. It is not safe for
// concurrent use.
type Stager struct {
	s   *Store
	cfg StageConfig
	k   keys

	sum    StageSummary // what is staged so far (Batches: set by Finish)
	canary []Recipient  // the canary batch, written at the end

	cur      []Recipient // current chunk
	batches  []BatchInfo // regular batches, the last one being filled
	curBatch int         // batch number of the regular batch being filled (-1: none)
	firstReg int         // number of the first regular batch (1 with a canary)

	lease *lease // the campaign's staging lease, held until Finish or Abort
	begun begun  // a first staging's record as begun (open), with its count written (flush)

	pipe    redis.Pipeliner // chunks (with ResumeExisting, their ledger lookups) and rejects not yet written
	lookups []ledgerLookup
	// started is set by Finish before it writes what starts the run
	// (MayHaveStarted).
	started  bool
	counts   map[string]int64 // the counts hash's increments: staged:<lang>, rejected and kept outcomes
	bstats   map[string]int64
	finished bool
	// The first recipient staged of each language, of the canary batch
	// and of the regular ones (Meta.Firsts), and the refused rows by why
	// (Meta.Refusals).
	firsts, canaryFirsts map[string]Recipient
	refusals             []Refusal

	// A campaign that exists is re-staged (ResumeExisting): nothing of it
	// changes until the first Add, Reject or Finish (open), so that a
	// staging refused after Check leaves it as it was.
	exists    bool
	afterLost bool // a first staging after one whose meta Redis lost (clearLost): keepLost
	done      bool // the campaign that exists is done: Check only, every write refused
	opened    bool
	nchunks   int // of the staging before
	conflicts IDConflictError
	// canaryKept counts, by language, the canary recipients whose earlier
	// sent outcome is kept; hashBefore and staleBefore are the staging
	// before's hash and canary_stale (staleCanary).
	canaryKept              map[string]int
	hashBefore, staleBefore string
	keyBefore               string // the UnsubscribeKey of the staging before
}

type ledgerLookup struct {
	batch, chunk int
	recs         []Recipient
}

// newID returns the id of a staging or a run: the Unix seconds of now in
// base 36, "-", then the nanoseconds within that second (8 hex digits)
// and 8 random bytes (16 hex digits). The time is the clock of the machine that staged
// it, which may be off: no order of runs is read from ids (see
// Meta.ContinuedRuns).
func newID() string {
	now := time.Now()
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return strconv.FormatInt(now.Unix(), 36) + fmt.Sprintf("-%08x", now.Nanosecond()) + hex.EncodeToString(b)
}

// NewStager checks that the campaign may be staged and prepares it. A
// campaign that exists is refused (ErrCampaignExists) unless
// ResumeExisting; a running one is refused (*TransitionError). A done one
// stays done: its stager only checks rows (Check, Done), and refuses every
// write (ErrNothingToSend).
func (s *Store) NewStager(ctx context.Context, cfg StageConfig) (*Stager, error) {
	if cfg.Campaign == "" {
		return nil, errors.New("stage campaign: empty campaign name")
	}
	if cfg.ChunkSize < 1 {
		cfg.ChunkSize = 200
	}
	k := keysFor(cfg.Campaign)
	if env, err := s.rdb.HGet(ctx, k.meta, "env").Result(); err == nil && checkEnv(cfg.Campaign, env, cfg.Env) != nil {
		return nil, fmt.Errorf("stage %s: %w", cfg.Campaign, checkEnv(cfg.Campaign, env, cfg.Env)) // before taking its lease
	}
	stage := newID()
	// One staging of a campaign at a time: two would mix their chunks,
	// counters and metadata. The lease is renewed every stagingLease/3
	// (lease.hold) and let go by Finish or Abort; a staging that died lets go
	// when it runs out.
	l := &lease{rdb: s.rdb, key: k.staging, id: stage, d: stagingLease}
	ok, err := l.take(ctx, Actor{Who: cfg.Who, Host: cfg.Host}.String())
	if err != nil {
		return nil, fmt.Errorf("stage %s: %w", cfg.Campaign, err)
	}
	if !ok {
		v, _ := s.rdb.Get(ctx, k.staging).Result()
		return nil, fmt.Errorf("stage %s: %w", cfg.Campaign, &BeingStagedError{Campaign: cfg.Campaign, By: leaseHolder(v)})
	}
	sg, err := s.begin(ctx, cfg, k, stage)
	if err != nil {
		l.release(ctx)
		return nil, fmt.Errorf("stage %s: %w", cfg.Campaign, err)
	}
	sg.lease = l
	l.hold(ctx)
	return sg, nil
}

// held returns an error when the staging lost its lease: another staging
// may be writing the campaign, so this one must write nothing more.
func (sg *Stager) held(ctx context.Context) error {
	ok, err := sg.lease.held(ctx)
	if err == nil && !ok {
		err = fmt.Errorf("its lease ran out (the send was suspended, or Redis did not answer for %s), and another staging may have begun: nothing more is written; stage it again", stagingLease)
	}
	return wrapf(err, "stage %s", sg.cfg.Campaign)
}

// BeingStagedError says that a send is staging campaign Campaign (By: who,
// on which host): refused for now, until that staging ends.
type BeingStagedError struct {
	Campaign, By string
	// Since is when that staging began (its record as begun); zero when
	// not known (a send that has not written it yet, or a re-staging).
	Since time.Time
	// Staged is how many recipients that staging has written so far (its
	// record as begun, rewritten with each batch of chunks written).
	Staged int
}

func (e *BeingStagedError) Error() string {
	return fmt.Sprintf("campaign %q is being staged by %s: one send stages a campaign at a time, and only a pause acts on it until that staging ends (a send that died lets go within %s)", e.Campaign, e.By, stagingLease)
}

// keyStagings is the hash of the first stagings begun and not ended:
// campaign -> begun (JSON). A first staging writes it before anything of
// the campaign, and Finish removes it once the campaign is listed among
// the campaigns; single-key commands, as for the other global sets.
const keyStagings = "tidings:stagings"

// begun is the record of a first staging in keyStagings.
type begun struct {
	Env string `json:"env"`
	By  string `json:"by"` // who@host
	At  int64  `json:"at"` // Unix ms
	// Staged is how many recipients the staging has written so far,
	// rewritten with each batch of chunks it writes (flush), not per row.
	Staged int `json:"staged,omitempty"`
	// AfterLost: a staging after one whose meta Redis lost (clearLost),
	// whose ledger it keeps: a cancel that drops it (dropStaging) keeps
	// the ledger, and the same send run again is one too.
	AfterLost bool `json:"after_lost,omitempty"`
}

// UnfinishedStagingError says that Redis holds the start of a first
// staging of campaign Campaign but no definition, and no sign that it ever
// finished (its record as begun, keyStagings, is still there): its send died, or Redis lost its state since
// (restored from a snapshot taken while it was staged). It is ErrNotFound
// too: the campaign cannot be read or sent.
type UnfinishedStagingError struct{ Campaign string }

func (e *UnfinishedStagingError) Error() string {
	return fmt.Sprintf("campaign %q was being staged, but that staging never finished (the send that staged it stopped before the end, or Redis lost its state since): run that send again on the host that started it, which stages it, or, if the campaign was started, refuses and says how to recover", e.Campaign)
}

// Unwrap makes it ErrNotFound.
func (e *UnfinishedStagingError) Unwrap() error { return ErrNotFound }

// leaseHolder is who holds a staging lease of value v ("<stage>|<who>").
func leaseHolder(v string) string {
	_, by, _ := strings.Cut(v, "|")
	return cmp.Or(by, "another send")
}

// absent explains why campaign c has no definition (meta) in Redis: a send
// is staging it (its lease), a first staging never finished (its record
// as begun is there), or Redis has no trace of it (or lost the definition of a campaign
// that was staged).
func (s *Store) absent(ctx context.Context, k keys, action string) error {
	p := s.rdb.Pipeline()
	leaseC := p.Get(ctx, k.staging)
	begunC := p.HGet(ctx, keyStagings, k.name)
	_, _ = p.Exec(ctx) // redis.Nil for a missing key; other errors: said as not found below
	// These two say all a reader needs: no "read meta:" before them.
	switch {
	case leaseC.Val() != "":
		var b begun // none yet: no time
		_ = json.Unmarshal([]byte(begunC.Val()), &b)
		return &BeingStagedError{Campaign: k.name, By: leaseHolder(leaseC.Val()), Since: fromMS(b.At), Staged: b.Staged}
	case begunC.Err() == nil:
		return &UnfinishedStagingError{Campaign: k.name}
	}
	return s.notFound(ctx, action, k.name)
}

// Abort ends a staging that will not Finish, so that the campaign can be
// staged again at once; after a Finish that let go of the lease it finds
// nothing to let go (one round trip), after one that failed it lets go.
func (sg *Stager) Abort(ctx context.Context) {
	sg.lease.release(ctx)
}

// UnsubscribeKeyError refuses to stage campaign Campaign again with the
// unsubscribe secret of fingerprint Now (StageConfig.UnsubscribeKey) when
// it was staged with the one of fingerprint Staged: its workers hold the
// first and would pause it, or the links it mailed before and after are
// made with two secrets, one of which the site refuses. Nothing is staged.
type UnsubscribeKeyError struct{ Campaign, Staged, Now string }

func (e *UnsubscribeKeyError) Error() string {
	return fmt.Sprintf("campaign %q was staged with another unsubscribe secret (key fingerprint %s) than this send holds (%s): its workers, holding the first, would pause it, and the links mailed before and after would be made with two secrets, one of which the site refuses; nothing was staged",
		e.Campaign, e.Staged, e.Now)
}

// checkUnsubscribeKey refuses (*UnsubscribeKeyError) cfg, a staging again
// of a campaign staged with the unsubscribe secret of fingerprint staged,
// when cfg's is another and cfg.NewUnsubscribeKey does not allow it. Either
// "" passes: no {token} now or then (nothing to keep apart), or a
// campaign staged before fingerprints were stored.
func checkUnsubscribeKey(cfg StageConfig, staged string) error {
	if staged == "" || cfg.UnsubscribeKey == "" || staged == cfg.UnsubscribeKey || cfg.NewUnsubscribeKey {
		return nil
	}
	return &UnsubscribeKeyError{Campaign: cfg.Campaign, Staged: staged, Now: cfg.UnsubscribeKey}
}

// begin checks that cfg may be staged, as stage, and prepares it
// (NewStager says which campaign its errors are about). A campaign that
// exists has the ids of its staging before recorded (recordIdentities) and
// is changed no further until open.
func (s *Store) begin(ctx context.Context, cfg StageConfig, k keys, stage string) (*Stager, error) {
	meta, err := s.rdb.HMGet(ctx, k.meta, "nchunks", "run", "excluded_runs", "env", "stage", "ids_of", "continues", "format", "hash", "canary_stale", "unsub_key").Result()
	if err != nil {
		return nil, fmt.Errorf("read meta: %w", err)
	}
	if env, _ := meta[3].(string); checkEnv(cfg.Campaign, env, cfg.Env) != nil {
		return nil, checkEnv(cfg.Campaign, env, cfg.Env)
	}
	run := newID()
	if cfg.ExcludedElsewhere {
		run += RunExcludedMark
	}
	exists, done := meta[0] != nil, false
	if exists {
		if !cfg.ResumeExisting {
			return nil, s.existsError(ctx, k, cfg.Campaign)
		}
		// Its ledger and counters are kept: only a build of the layout
		// that wrote them may read them and write beside them.
		if err := restageFormat(cfg.Campaign, atoi(strOr(meta[7], ""))); err != nil {
			return nil, err
		}
		_, err := s.stageState(ctx, k, cfg.Campaign, true)
		if done = errors.Is(err, ErrNothingToSend); err != nil && !done {
			return nil, err
		}
		if err := checkUnsubscribeKey(cfg, strOr(meta[10], "")); err != nil && !done {
			return nil, err
		}
		if r, ok := meta[1].(string); ok && r != "" && len(cfg.ExcludedRuns) == 0 {
			// The same run goes on, with the deliveries of earlier runs it
			// excluded (their recipients' ledger entries say skipped);
			// staging with deliveries excluded starts a new one.
			run = r
			if ex, _ := meta[2].(string); ex != "" {
				_ = json.Unmarshal([]byte(ex), &cfg.ExcludedRuns) // written by Finish
			}
			if cont, _ := meta[6].(string); cont != "" && len(cfg.Continues) == 0 {
				_ = json.Unmarshal([]byte(cont), &cfg.Continues) // written by Finish
			}
		}
	}
	sg := &Stager{
		s: s, cfg: cfg, k: k, sum: StageSummary{Stage: stage, Run: run}, curBatch: -1,
		counts: map[string]int64{}, bstats: map[string]int64{}, pipe: s.rdb.Pipeline(),
		firsts: map[string]Recipient{}, canaryFirsts: map[string]Recipient{}, refusals: []Refusal{},
		exists: exists, done: done, nchunks: atoi(strOr(meta[0], "0")), conflicts: IDConflictError{Campaign: cfg.Campaign},
		canaryKept: map[string]int{}, hashBefore: strOr(meta[8], ""), staleBefore: strOr(meta[9], ""), keyBefore: strOr(meta[10], ""),
	}
	if cfg.Canary {
		sg.firstReg = 1
	}
	if exists {
		return sg, sg.recordIdentities(ctx, strOr(meta[4], ""), strOr(meta[5], ""))
	}
	return sg, sg.open(ctx)
}

// restageFormat refuses to stage again, keeping its outcomes, campaign
// c of stored format f when this build does not read and write that
// format (checkFormat); else nil.
func restageFormat(c string, f int) error {
	if err := checkFormat(c, f); err != nil {
		return fmt.Errorf("stage it again keeping its outcomes: %w: stage it again with the build that staged it (stored format %d), whose workers finish it; campaigns this build stages are sent by workers of this build", err, f)
	}
	return nil
}

// stageState is the state a campaign is staged in: staged, or paused
// when a person paused it (a pause of tidings' own, such as an
// auto-pause, was about the earlier staging). Of a campaign that exists
// (staged again), a running one, or one awaiting approval, is refused
// (*TransitionError), and so is a done one (ErrNothingToSend). Of one
// without a definition, a person's pause since a first staging of it began
// stays too (a send interrupted before its end, run again: on-call's pause
// stays, as one made while a staging runs does).
func (s *Store) stageState(ctx context.Context, k keys, c string, exists bool) (State, error) {
	m, err := s.rdb.HGetAll(ctx, k.control).Result()
	if err != nil {
		return "", fmt.Errorf("read control of %s: %w", c, err)
	}
	ctl := parseControl(m) // no control (it is gone): staged afresh
	switch {
	case exists && (ctl.State == StateRunning || ctl.State == StateAwaitingApproval):
		return "", &TransitionError{Campaign: c, Action: "stage", State: ctl.State}
	case exists && ctl.State == StateDone:
		return "", fmt.Errorf("the campaign is done: %w", ErrNothingToSend)
	case ctl.State == StatePaused && ctl.Action == "pause":
		return StatePaused, nil
	}
	return StateStaged, nil
}

// ExistsError is ErrCampaignExists (errors.Is) for a campaign staged
// without StageConfig.ResumeExisting, with the state it is in, so that
// what to do can be said for that state (done: nothing is left to send).
type ExistsError struct {
	Campaign string
	// State is the campaign's state: StateControlLost when Redis lost
	// its control while its definition stayed.
	State State
	// Action is the control's last action: "state-loss" for a campaign a
	// worker paused because Redis forgot deliveries (Control.Next).
	Action string
}

func (e *ExistsError) Error() string {
	return fmt.Sprintf("campaign %s already exists (%s)", e.Campaign, e.State)
}

// Is reports whether target is ErrCampaignExists.
func (e *ExistsError) Is(target error) bool { return target == ErrCampaignExists }

// existsError returns the ExistsError of campaign c, which exists, with
// the state its control holds.
func (s *Store) existsError(ctx context.Context, k keys, c string) error {
	m, err := s.rdb.HGetAll(ctx, k.control).Result()
	if err != nil {
		return fmt.Errorf("read control of %s: %w", c, err)
	}
	return existsOf(c, m)
}

// existsOf is the ExistsError of campaign c, which exists, whose control
// is m (empty: Redis lost it).
func existsOf(c string, m map[string]string) *ExistsError {
	ctl := parseControl(m)
	if len(m) == 0 {
		ctl.State = StateControlLost
	}
	return &ExistsError{Campaign: c, State: ctl.State, Action: ctl.Action}
}

// CheckExisting is begin's refusals of a campaign that exists asked
// early, before a send shows its confirmation, in one round trip and
// without the staging lease: cfg, a staging of a campaign staged in
// cfg.Env, is refused without ResumeExisting (*ExistsError, with its
// state), and with it when the campaign is of another stored format
// (*FormatError), is running or awaiting approval (*TransitionError, as
// stageState refuses them), or, not done (staging a done one again stages
// nothing: ErrNothingToSend), was staged with another unsubscribe secret
// than cfg's (*UnsubscribeKeyError, checkUnsubscribeKey). A campaign not
// staged, another environment's, or one a send stages now (its lease)
// passes: NewStager decides, and checks all again under the lease.
func (s *Store) CheckExisting(ctx context.Context, cfg StageConfig) error {
	c, k := cfg.Campaign, keysFor(cfg.Campaign)
	p := s.rdb.Pipeline()
	metaC := p.HMGet(ctx, k.meta, "nchunks", "env", "format", "unsub_key")
	ctlC := p.HGetAll(ctx, k.control)
	leaseC := p.Exists(ctx, k.staging)
	if _, err := p.Exec(ctx); err != nil && !errors.Is(err, redis.Nil) {
		return fmt.Errorf("read whether %s is staged: %w", c, err)
	}
	env, _ := metaC.Val()[1].(string)
	if metaC.Val()[0] == nil || checkEnv(c, env, cfg.Env) != nil || leaseC.Val() > 0 {
		return nil // or a send stages it now: NewStager says so
	}
	if !cfg.ResumeExisting {
		return fmt.Errorf("stage %s: %w", c, existsOf(c, ctlC.Val()))
	}
	if err := restageFormat(c, atoi(strOr(metaC.Val()[2], ""))); err != nil {
		return fmt.Errorf("stage %s: %w", c, err) // begin's first refusal
	}
	switch st := parseControl(ctlC.Val()).State; st {
	case StateRunning, StateAwaitingApproval:
		return fmt.Errorf("stage %s: %w", c, &TransitionError{Campaign: c, Action: "stage", State: st})
	case StateDone:
		return nil
	}
	staged, _ := metaC.Val()[3].(string)
	return checkUnsubscribeKey(cfg, staged)
}

// Done reports whether the campaign staged again is done: a done campaign
// stays done, so the stager only checks rows against it (Check), and Add,
// Reject and Finish refuse (ErrNothingToSend) and change nothing.
func (sg *Stager) Done() bool { return sg.done }

// MayHaveStarted reports whether Finish began writing what starts the run
// (the campaign's metadata and state): until then, a staging that fails
// started nothing, and workers cannot have claimed anyone in its run;
// after, a failure may have come once the run started.
func (sg *Stager) MayHaveStarted() bool { return sg.started }

// Run is the id of the run being staged (Finish's StageSummary.Run),
// known before Finish releases it to the workers.
func (sg *Stager) Run() string { return sg.sum.Run }

// open begins writing the staging: its control first (from here on the
// writers of an earlier staging, a late record, a chunk's end, a tick, see
// another stage id and write nothing, so nothing of theirs lands in what
// is cleared), then it clears what the staging before left. The state is
// read again: a campaign resumed meanwhile is refused.
func (sg *Stager) open(ctx context.Context) error {
	if sg.opened {
		return nil
	}
	state, err := sg.s.stageState(ctx, sg.k, sg.cfg.Campaign, sg.exists)
	if err != nil {
		return fmt.Errorf("stage %s: %w", sg.cfg.Campaign, err) // and again at the next write
	}
	k, who, now := sg.k, Actor{Who: sg.cfg.Who, Host: sg.cfg.Host}.String(), ms(time.Now())
	if !sg.exists { // listed as begun until Finish lists the campaign (List, Status)
		var err error
		if sg.afterLost, err = sg.s.clearLost(ctx, sg.cfg.Campaign, sg.cfg.Env, k); err != nil {
			return fmt.Errorf("stage %s: %w", sg.cfg.Campaign, err)
		}
		sg.begun = begun{Env: sg.cfg.Env, By: who, At: now, AfterLost: sg.afterLost}
		rec, _ := json.Marshal(sg.begun)
		if err := sg.s.rdb.HSet(ctx, keyStagings, sg.cfg.Campaign, rec).Err(); err != nil {
			return fmt.Errorf("stage %s: record the staging begun: %w", sg.cfg.Campaign, err)
		}
	}
	// Who began a staging again, and when, with its stage id: of one that
	// never ends, the status says so (restagingInterrupted); stage_end.lua
	// removes them. A first staging's are in its record as begun alone.
	fields := []any{"state", string(state), "stage", sg.sum.Stage, "run", sg.sum.Run, "approved", "0"}
	if sg.exists {
		fields = append(fields, "staging_by", who, "staging_at", now)
	}
	if err := sg.s.rdb.HSet(ctx, k.control, fields...).Err(); err != nil {
		return fmt.Errorf("stage %s: %w", sg.cfg.Campaign, err)
	}
	if sg.exists {
		p := sg.s.rdb.Pipeline()
		p.Del(ctx, k.ofStaging()...)
		for i := 0; i < sg.nchunks; i++ {
			p.Del(ctx, k.chunk(i))
		}
		if _, err := p.Exec(ctx); err != nil {
			return fmt.Errorf("stage %s: clear the previous staging: %w", sg.cfg.Campaign, err)
		}
	}
	sg.opened = true // a write refused or failed above is tried again by the next
	return nil
}

// Add stages one accepted recipient in the batch the plan gave it: canary
// recipients (batch 0, StageConfig.Canary) in any order, regular batches in
// order, each complete before the next starts (the plan's layout follows
// the file's order).
func (sg *Stager) Add(ctx context.Context, r Recipient, batch int, canary bool) error {
	if err := sg.open(ctx); err != nil {
		return err
	}
	if r.Lang == "" {
		return fmt.Errorf("stage %s: line %d: recipient %s has no matched language", sg.cfg.Campaign, r.Line, r.ID)
	}
	outOfOrder := func(want int) error {
		return fmt.Errorf("stage %s: line %d: batch %d out of order (want %d): the batch layout must follow the file's order", sg.cfg.Campaign, r.Line, batch, want)
	}
	if canary && (!sg.cfg.Canary || batch != 0) {
		return outOfOrder(0)
	}
	if !canary && batch != sg.curBatch {
		if want := sg.firstReg + len(sg.batches); batch != want {
			return outOfOrder(want)
		}
		if len(sg.cur) > 0 {
			sg.queueChunk(sg.curBatch)
		}
		sg.curBatch = batch
		sg.batches = append(sg.batches, BatchInfo{First: sg.sum.Chunks})
	}
	sg.sum.Staged++
	sg.counts["staged:"+r.Lang]++
	// The stored form: extra columns as values in Columns order.
	if len(sg.cfg.Columns) > 0 && r.Fields != nil {
		r.Values = make([]string, len(sg.cfg.Columns))
		for i, c := range sg.cfg.Columns {
			r.Values[i] = r.Fields[c]
		}
	}
	r.Fields = nil
	if sg.exists && r.Key == "" {
		r.Key = address.KeyOf(r.Email)
	}
	firsts := sg.firsts
	if canary {
		firsts = sg.canaryFirsts
	}
	if _, ok := firsts[r.Lang]; !ok {
		firsts[r.Lang] = r
	}
	if canary {
		sg.canary = append(sg.canary, r)
		return nil
	}
	b := &sg.batches[len(sg.batches)-1]
	b.Size++
	b.Last = sg.sum.Chunks // the chunk r goes to
	if sg.cur == nil {
		sg.cur = make([]Recipient, 0, sg.cfg.ChunkSize)
	}
	sg.cur = append(sg.cur, r)
	if len(sg.cur) == sg.cfg.ChunkSize {
		sg.queueChunk(batch)
	}
	if sg.pipe.Len() >= 16 {
		return sg.flush(ctx)
	}
	return nil
}

func (sg *Stager) queueChunk(batch int) {
	data, _ := json.Marshal(sg.cur) // Recipient has only strings and ints
	sg.pipe.Set(context.Background(), sg.k.chunk(sg.sum.Chunks), data, 0)
	if sg.exists || sg.afterLost {
		sg.lookups = append(sg.lookups, ledgerLookup{batch: batch, chunk: sg.sum.Chunks, recs: sg.cur})
		sg.cur = nil // the lookup holds it until the flush
	} else {
		sg.cur = sg.cur[:0] // written out: the next chunk fills it again
	}
	sg.sum.Chunks++
}

func (sg *Stager) flush(ctx context.Context) error {
	if err := sg.held(ctx); err != nil {
		return err
	}
	if !sg.exists && sg.opened { // how far it is, for status: the rows of the chunks written with it
		sg.begun.Staged = sg.sum.Staged - len(sg.cur) - len(sg.canary)
		rec, _ := json.Marshal(sg.begun)
		sg.pipe.HSet(ctx, keyStagings, sg.cfg.Campaign, rec)
	}
	if _, err := sg.pipe.Exec(ctx); err != nil {
		return fmt.Errorf("stage %s: write chunks: %w", sg.cfg.Campaign, err)
	}
	if sg.afterLost {
		return sg.keepLost(ctx)
	}
	// ResumeExisting: keep final outcomes, by id or by mailbox; clear the
	// rest.
	// One lookup (one or two round trips) for every chunk this flush wrote.
	var all []Recipient
	for _, l := range sg.lookups {
		all = append(all, l.recs...)
	}
	prs, err := sg.s.priors(ctx, sg.k, all)
	if err != nil {
		return fmt.Errorf("stage %s: %w", sg.cfg.Campaign, err)
	}
	var clear []string
	var claims []keptClaim
	for _, l := range sg.lookups {
		for _, r := range l.recs {
			pr := prs[0]
			prs = prs[1:]
			if pr.conflict != nil {
				if sg.conflicts.Total++; len(sg.conflicts.Conflicts) < MaxConflicts {
					sg.conflicts.Conflicts = append(sg.conflicts.Conflicts, *pr.conflict)
				}
				continue
			}
			index(ctx, sg.pipe, sg.k, r, pr.owner, pr.last)
			claims, clear = sg.keep(ctx, keptClaim{r: r, batch: l.batch, chunk: l.chunk, pr: pr}, claims, clear)
		}
	}
	// Kept in doubt, but its claim may be in a window of the staging
	// before that has not ended yet (a relay slow to answer), whose
	// give-back (never sent) must find where this staging counted it
	// (held), or come before this staging writes it, and then it is kept
	// as what the give-back left (lua/stage_keep.lua). A give-back comes
	// once: the loop ends.
	for n := 0; len(claims) > 0; n++ {
		if n == 8 {
			return fmt.Errorf("stage %s: the ledger entries of %s and others kept changing while they were staged: stage it again", sg.cfg.Campaign, claims[0].r.ID)
		}
		var err error
		if claims, clear, err = sg.keepClaims(ctx, claims, clear); err != nil {
			return err
		}
	}
	sg.lookups = sg.lookups[:0]
	if len(clear) > 0 {
		sg.pipe.HDel(ctx, sg.k.ledger, clear...)
	}
	_, err = sg.pipe.Exec(ctx)
	return wrapf(err, "stage %s: reconcile the ledger", sg.cfg.Campaign)
}

// Reject records a row that is not staged (refused, invalid, or skipped as
// already delivered) for the report.
func (sg *Stager) Reject(ctx context.Context, r Reject) error {
	if err := sg.open(ctx); err != nil {
		return err
	}
	// The outcomes of a row not staged (the plan's), not Outcomes.
	if !slices.Contains([]string{OutcomeRefused, OutcomeInvalid, OutcomeSkipped}, r.Outcome) {
		return fmt.Errorf("stage %s: line %d: reject outcome %q: want refused, invalid or skipped", sg.cfg.Campaign, r.Line, r.Outcome)
	}
	state := r.Outcome // what the counts count it as
	if r.KeepEarlier && sg.exists && r.Outcome == OutcomeSkipped && r.ID != "" {
		var err error
		if state, err = sg.keepEarlier(ctx, &r); err != nil {
			return err
		}
	}
	data, _ := json.Marshal(r)
	sg.pipe.RPush(ctx, sg.k.rejects, data)
	if r.Kept {
		// The ledger keeps the earlier outcome (keepEarlier); the index
		// holds this staging's ids (Finish: ids_of).
		index(ctx, sg.pipe, sg.k, Recipient{ID: r.ID, Key: address.KeyOf(r.Email)}, "", "")
	} else if r.Outcome == OutcomeSkipped && r.ID != "" {
		// Delivered in an earlier run: the ledger says so too, so that a
		// later staging of this run (ResumeExisting, given no exclusions)
		// keeps it skipped instead of sending it again.
		sg.pipe.HSet(ctx, sg.k.ledger, r.ID, fmt.Sprintf("%s|0|%d|%s||%s", OutcomeSkipped, ms(time.Now()), r.Code, r.Reason))
		if sg.exists { // the index holds this staging's ids (Finish: ids_of)
			// "": not read, so written whatever it was.
			index(ctx, sg.pipe, sg.k, Recipient{ID: r.ID, Key: address.KeyOf(r.Email)}, "", "")
		}
	}
	sg.counts[state]++
	sg.refusals = CountRefusal(sg.refusals, r)
	sg.sum.Rejected++
	if sg.sum.Rejected%2000 == 0 {
		return sg.flush(ctx)
	}
	return nil
}

// keepEarlier looks up the earlier outcome of r, a skipped row of a
// re-staging (Reject.KeepEarlier), by id and by mailbox (priors), and when
// it is one a re-staging keeps, keeps it: r is marked Kept, the entry is
// carried to r's id when it was under another (as keep does), and the
// returned state is what the counts count it as (its earlier outcome; a
// claim's window that has not ended counts in doubt, as keptEntry says).
// The ledger is not written otherwise. The row is in no chunk: no worker
// claims it, whatever the entry says.
func (sg *Stager) keepEarlier(ctx context.Context, r *Reject) (string, error) {
	rec := Recipient{Line: r.Line, ID: r.ID, Email: r.Email, Key: address.KeyOf(r.Email)}
	prs, err := sg.s.priors(ctx, sg.k, []Recipient{rec})
	if err != nil {
		return "", fmt.Errorf("stage %s: %w", sg.cfg.Campaign, err)
	}
	pr := prs[0]
	if pr.conflict != nil || !keeps(pr.entry) {
		return r.Outcome, nil // skipped (a conflict: Finish refuses it, Check first)
	}
	v, state := keptEntry(pr.entry)
	if tok := claimOf(pr.entry); tok != "" {
		// A claim of the staging before, whose message may be at the SMTP
		// server: kept in doubt in the ledger too (the report reads it
		// there), only where the ledger still holds that claim
		// (lua/stage_keep.lua). A claim given back meanwhile was never
		// sent: skipped. Its held record says so for a give-back after
		// this (lua/step.lua, giveBackStale): the row is in no chunk, and
		// leaves the in-doubt count for skipped, as the report says.
		h, _ := json.Marshal(heldClaim{ID: r.ID, Skipped: true, Code: r.Code, Reason: r.Reason})
		res, err := stageKeepScript.Run(ctx, sg.s.rdb, []string{sg.k.ledger, sg.k.held}, r.ID, pr.from, pr.entry, v, tok, h).Slice()
		if err != nil {
			return "", fmt.Errorf("stage %s: keep %s in doubt: %w", sg.cfg.Campaign, r.ID, err)
		}
		if len(res) != 1 || res[0] != int64(1) {
			return r.Outcome, nil
		}
		r.Kept = true
		return state, nil
	}
	r.Kept = true
	if pr.from != r.ID {
		sg.pipe.HSet(ctx, sg.k.ledger, r.ID, pr.entry)
	}
	return state, nil
}

// tableField is a field of the counters' hashes (counts, bstats, persec) whose
// value, tableNote, is longer than Redis's hash-max-listpack-value (64
// bytes by default): Redis then keeps the hash as a hash table, not as a
// listpack, and for good (a hash table is not made a listpack again, nor
// by a restart: an RDB's long value converts it on load). Every ledger
// step increments about ten of their counters; in a listpack each
// increment scans the fields before its own, in a hash table it hashes
// its field (docs/benchmarks.md, "The counters as hash tables"). A server
// configured with a larger hash-max-listpack-value keeps the listpack:
// slower, nothing else. The readers skip the field.
const (
	tableField = "_"
	tableNote  = "a hash table (this value is longer than hash-max-listpack-value): its counters are found by hash, not by a scan"
)

// Finish writes the canary batch, the batch table, metadata and counters,
// sets the control state to running (start) or staged, and adds the
// campaign to the global sets. With replica acknowledgements configured it
// returns an *AckError when the replicas did not confirm the staging.
func (sg *Stager) Finish(ctx context.Context, start bool) (*StageSummary, error) {
	if sg.finished {
		return nil, fmt.Errorf("stage %s: already finished", sg.cfg.Campaign)
	}
	sg.finished = true
	defer sg.lease.stop() // stage_end.lua lets go of the lease
	if err := sg.open(ctx); err != nil {
		return nil, err
	}
	if len(sg.cur) > 0 {
		sg.queueChunk(sg.curBatch)
	}
	var all []BatchInfo
	if len(sg.canary) > 0 {
		first := sg.sum.Chunks
		for i := 0; i < len(sg.canary); i += sg.cfg.ChunkSize {
			sg.cur = sg.canary[i:min(i+sg.cfg.ChunkSize, len(sg.canary))]
			sg.queueChunk(0)
		}
		sg.cur = nil // a part of the canary's rows, written
		all = append(all, BatchInfo{First: first, Last: sg.sum.Chunks - 1, Size: len(sg.canary), Canary: true})
	} else if sg.cfg.Canary && len(sg.batches) > 0 {
		return nil, fmt.Errorf("stage %s: the layout has a canary batch but no canary recipient", sg.cfg.Campaign)
	}
	all = append(all, sg.batches...)
	sg.sum.Batches = len(all)
	if err := sg.flush(ctx); err != nil {
		return nil, err
	}
	if sg.conflicts.Total > 0 {
		return nil, fmt.Errorf("stage %s: %w", sg.cfg.Campaign, &sg.conflicts)
	}
	snap, _ := json.Marshal(sg.cfg.Snapshot) // strings and bytes: no error
	cols, _ := json.Marshal(sg.cfg.Columns)
	excluded, _ := json.Marshal(sg.cfg.ExcludedRuns)
	continues, _ := json.Marshal(sg.cfg.Continues)
	// The first of each language in batch order: the canary batch is
	// batch 0.
	for l, r := range sg.firsts {
		if _, ok := sg.canaryFirsts[l]; !ok {
			sg.canaryFirsts[l] = r
		}
	}
	firsts, _ := json.Marshal(sg.canaryFirsts)
	refusals, _ := json.Marshal(sg.refusals)
	now := sg.s.hostNow()
	a := Actor{Who: sg.cfg.Who, Host: sg.cfg.Host, Env: sg.cfg.Env}
	state, action := StateStaged, "stage"
	if start {
		state, action = StateRunning, "start"
	}
	if sg.cfg.ResumeExisting {
		action += " (resume-existing)"
	}
	reason := fmt.Sprintf("%d recipients in %d batches, %d not staged (refused, invalid or skipped), hash %s", sg.sum.Staged, len(all), sg.sum.Rejected, sg.cfg.Hash[:min(12, len(sg.cfg.Hash))])
	if sg.sum.Kept > 0 {
		reason += fmt.Sprintf(", %d keep their earlier outcome", sg.sum.Kept)
	}
	if sg.sum.Carried > 0 {
		reason += fmt.Sprintf(" (%d of them found by mailbox, under their earlier id)", sg.sum.Carried)
	}
	if checkUnsubscribeKey(StageConfig{UnsubscribeKey: sg.cfg.UnsubscribeKey}, sg.keyBefore) != nil {
		reason += fmt.Sprintf(", another unsubscribe secret (key fingerprint %s, staged before with %s)", sg.cfg.UnsubscribeKey, sg.keyBefore)
	}
	switch ex := sg.cfg.ExcludedRuns; {
	case len(ex) == 1 && ex[0] == "none":
		reason += ", deliveries of earlier runs excluded (from reports)"
	case len(ex) > 0:
		reason += ", deliveries of earlier runs excluded (journals " + strings.Join(ex, ", ") + ")"
	}
	var ctl *redis.Cmd
	sg.started = true // from here on, an error may come after the run started
	ack, err := sg.s.pipeWait(ctx, sg.k.meta, func(p redis.Pipeliner) {
		for i, b := range all {
			data, _ := json.Marshal(b)
			p.HSet(ctx, sg.k.batches, strconv.Itoa(i), data)
		}
		for key, incrs := range map[string]map[string]int64{sg.k.bstats: sg.bstats, sg.k.counts: sg.counts} {
			for f, n := range incrs {
				p.HIncrBy(ctx, key, f, n)
			}
			p.HSet(ctx, key, tableField, tableNote)
		}
		p.HSet(ctx, sg.k.persec, tableField, tableNote)
		p.HSet(ctx, sg.k.meta,
			"def", sg.cfg.Definition, "hash", sg.cfg.Hash, "snapshot", snap,
			"created_at", ms(now), "created_by", a.String(), "env", sg.cfg.Env,
			"total", sg.sum.Staged, "rejected", sg.sum.Rejected, "nbatches", len(all), "nchunks", sg.sum.Chunks,
			"columns", cols, "chunk_size", sg.cfg.ChunkSize, "stage", sg.sum.Stage, "run", sg.sum.Run, "excluded_runs", excluded,
			"continues", continues, "firsts", firsts, "refusals", refusals, "format", StoredFormat, "unsub_key", sg.cfg.UnsubscribeKey,
			"canary_stale", staleCanary(sg.cfg.Hash, sg.hashBefore, sg.staleBefore, sg.canaryKept))
		if sg.exists { // the index holds this staging's ids
			p.HSet(ctx, sg.k.meta, "ids_of", sg.sum.Stage)
		}
		ctl = stageEndScript.Eval(ctx, p, []string{sg.k.control, sg.k.audit, sg.k.staging, sg.k.ledger, sg.k.fresh}, sg.sum.Stage, string(state), a.String(), ms(now),
			auditJSON(now, a, action, reason), auditJSON(now, a, "stage", reason+"; not started: the campaign is paused"), sg.sum.Chunks,
			"cur_batch", "-1", "batch_done_at", "0", "run", sg.sum.Run, "nbatches", len(all), "total", sg.sum.Staged+sg.sum.Rejected)
	})
	if err != nil {
		return nil, fmt.Errorf("stage %s: write metadata: %w", sg.cfg.Campaign, err)
	}
	// Paused before or while it was being staged: the pause stays.
	res, _ := ctl.Slice() // pipeWait returned its error, if any
	if sg.sum.State = State(strOr(res[0], "")); sg.sum.State == "" {
		return nil, fmt.Errorf("stage %s: another staging of the campaign began meanwhile", sg.cfg.Campaign)
	}
	if sg.sum.State == StatePaused {
		sg.sum.Paused = "by " + strOr(res[1], "") + ": " + strOr(res[2], "")
	}
	// The global sets live in other Cluster slots: written after the
	// campaign itself; workers rebuild them from the campaigns' state.
	for _, key := range []string{keyCampaigns, keyActive} {
		if err := sg.s.rdb.SAdd(ctx, key, sg.cfg.Campaign).Err(); err != nil {
			return nil, fmt.Errorf("stage %s: list the campaign in %s: %w", sg.cfg.Campaign, key, err)
		}
	}
	// Listed now: its record as begun goes (left by an error, it is
	// passed over: the campaign has its definition).
	_ = sg.s.rdb.HDel(ctx, keyStagings, sg.cfg.Campaign).Err()
	sg.s.announce(ctx, sg.cfg.Campaign)
	return &sg.sum, wrapf(ack, "stage %s", sg.cfg.Campaign)
}

// keptClaim is a recipient whose earlier ledger entry holds a claim of a
// staging before, as read (pr), and where this staging puts it.
type keptClaim struct {
	r            Recipient
	batch, chunk int
	pr           prior
}

// keptEntry is the entry a re-staging keeps for earlier entry v (one it
// keeps) and its outcome: v, but one left sending becomes in doubt,
// keeping its claim's token.
func keptEntry(v string) (string, string) {
	e := parseEntry(v)
	if e.State != ledgerSending {
		return v, e.State
	}
	// A claim's entry has no flag.
	return fmt.Sprintf("%s|%d|%d|%s|k:%s|left sending by an earlier run; the SMTP server may have accepted it", OutcomeInDoubt, e.Attempts, ms(time.Now()), e.Code, e.Response), OutcomeInDoubt
}

// keep keeps recipient c.r's earlier entry c.pr, adds c to claims when
// that entry holds a claim (kept by keepClaims), or adds c.r to clear
// when it is not one a re-staging keeps.
func (sg *Stager) keep(ctx context.Context, c keptClaim, claims []keptClaim, clear []string) ([]keptClaim, []string) {
	r, pr := c.r, c.pr
	switch {
	case claimOf(pr.entry) != "": // in a window that may not have ended: lua/stage_keep.lua
		return append(claims, c), clear
	case !keeps(pr.entry):
		return claims, append(clear, r.ID)
	}
	v, state := keptEntry(pr.entry)
	if v != pr.entry {
		sg.pipe.HSet(ctx, sg.k.ledger, pr.from, v)
	}
	if pr.from != r.ID {
		sg.pipe.HSet(ctx, sg.k.ledger, r.ID, v)
	}
	sg.count(r, c.batch, pr, state)
	return claims, clear
}

// count counts recipient r, kept as state from its earlier entry pr.
func (sg *Stager) count(r Recipient, batch int, pr prior, state string) {
	if pr.from != r.ID {
		sg.sum.Carried++
	}
	sg.sum.Kept++
	if batch == 0 && sg.cfg.Canary && state == OutcomeSent {
		sg.canaryKept[r.Lang]++ // a message of the staging before's content (staleCanary)
	}
	sg.counts[state]++
	sg.counts["lang:"+r.Lang+":"+state]++
	b := strconv.Itoa(batch) + ":"
	// Attempted, but skipped (never attempted: delivered in an earlier
	// run); a sent's sent counts it (lua/step.lua: tried).
	if state != OutcomeSkipped && state != OutcomeSent {
		sg.bstats[b+"tried"]++
	}
	sg.bstats[b+state]++
}

// keepClaims keeps the recipients of cs in doubt, each with its held
// record, where its ledger entry still holds the claim read
// (lua/stage_keep.lua); one whose claim was given back meanwhile is kept,
// or added to clear, as its entry says now. It returns those whose entry
// now holds another claim, to be kept again.
func (sg *Stager) keepClaims(ctx context.Context, cs []keptClaim, clear []string) ([]keptClaim, []string, error) {
	args := make([]any, 0, 6*len(cs))
	states := make([]string, len(cs))
	for i, c := range cs {
		v, state := keptEntry(c.pr.entry)
		states[i] = state
		h, _ := json.Marshal(heldClaim{ID: c.r.ID, Lang: c.r.Lang, Batch: c.batch, Chunk: c.chunk})
		args = append(args, c.r.ID, c.pr.from, c.pr.entry, v, claimOf(c.pr.entry), h)
	}
	res, err := stageKeepScript.Run(ctx, sg.s.rdb, []string{sg.k.ledger, sg.k.held}, args...).Slice()
	if err == nil && len(res) != len(cs) {
		err = fmt.Errorf("%d answers for %d recipients", len(res), len(cs))
	}
	if err != nil {
		return nil, clear, fmt.Errorf("stage %s: keep the recipients left in doubt: %w", sg.cfg.Campaign, err)
	}
	var again []keptClaim
	for i, c := range cs {
		switch v := res[i].(type) {
		case int64:
			if v == 1 {
				sg.count(c.r, c.batch, c.pr, states[i])
				continue
			}
			c.pr.entry = "" // given back: pending
		case string:
			c.pr.entry = v
		}
		again, clear = sg.keep(ctx, c, again, clear)
	}
	return again, clear, nil
}

// heldClaim is where a staging counted a recipient whose entry it kept
// in doubt holding the claim of a staging before (its value in held, by
// the claim's token). A row the staging skipped (Reject.KeepEarlier: a
// suppression list) is Skipped: in no chunk, counted in the total alone;
// Code and Reason are its reject's, for the entry a give-back writes.
type heldClaim struct {
	ID      string `json:"i"`
	Lang    string `json:"l"`
	Batch   int    `json:"b"`
	Chunk   int    `json:"c"`
	Skipped bool   `json:"s,omitempty"`
	Code    string `json:"k,omitempty"`
	Reason  string `json:"r,omitempty"`
}

// claimOf returns the token of the claim ledger entry v holds (sending,
// or in doubt with flag "k:<token>"), "" for none.
func claimOf(v string) string {
	parts := append(strings.SplitN(v, "|", 6), make([]string, 5)...) // at least six
	if parts[0] == ledgerSending {
		return parts[5]
	}
	if tok, ok := strings.CutPrefix(parts[4], "k:"); ok && parts[0] == OutcomeInDoubt {
		return tok
	}
	return ""
}

func parseEntry(v string) Entry {
	parts := append(strings.SplitN(v, "|", 6), make([]string, 5)...) // at least six
	return Entry{State: parts[0], Attempts: atoi(parts[1]), At: fromMS(atoi64(parts[2])), Code: parts[3], Temp: parts[4] == "t", Response: parts[5]}
}
