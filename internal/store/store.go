// Package store owns every Redis key of tidings: staging a campaign
// (definition, approved content and its hash, recipients in chunks and
// batches), the per-recipient ledger that makes sending at most once, the
// control state and its audit log, counters, the auto-pause window, and the
// reads behind status, report and retry.
//
// All keys of campaign c share the hash tag {c} (prefix "tidings:{c}:") and
// every Lua script touches keys of one campaign only, so each runs in one
// Redis Cluster slot. The two global sets (every campaign, the active ones)
// are written with single-key commands after the campaign's own change and
// rebuilt from the campaigns' own state (RebuildActive).
//
// Writes that must survive a failover (ledger claims, control changes) can
// be acknowledged by replicas: with Config.ReplicaAcks > 0 each such write is
// followed by WAIT on the same connection, and an answer with fewer
// acknowledgements is an *AckError (the write happened on the master, but a
// failover could lose it). The data model is documented in docs/design.md.
package store

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/tidings-mail/tidings/internal/oneline"
	"github.com/tidings-mail/tidings/internal/suggest"
)

// State is the control state of a campaign.
type State string

// Control states.
const (
	StateStaged           State = "staged"
	StateRunning          State = "running"
	StateAwaitingApproval State = "awaiting-approval"
	StatePaused           State = "paused"
	StateCancelled        State = "cancelled"
	StateDone             State = "done"
)

// Finished reports whether s is final (done or cancelled).
func (s State) Finished() bool { return s == StateDone || s == StateCancelled }

// Outcomes of a recipient, as shown by status and report.
const (
	OutcomeSent      = "sent"
	OutcomeRefused   = "refused"
	OutcomeInvalid   = "invalid"
	OutcomeFailed    = "failed"
	OutcomeSkipped   = "skipped"
	OutcomeCancelled = "cancelled"
	OutcomePending   = "pending"
	OutcomeInDoubt   = "in-doubt"
)

// Outcomes lists every outcome in display order: the one list of them in
// Go. Status, report (and its --outcome filter), the console, the
// notifications and the rehearsal's summary name outcomes by it; places
// that name a part of it on purpose say why. The Lua scripts keep their
// own (tick.lua's done reason, the counts fields they write), as Redis
// runs them: TestDoneReasonAccountsForEveryRow checks the done reason
// against this list's counts.
var Outcomes = []string{OutcomeSent, OutcomeFailed, OutcomeInDoubt, OutcomeRefused, OutcomeInvalid, OutcomeSkipped, OutcomeCancelled, OutcomePending}

// terminal outcomes (Outcomes but pending) are counted in the counts
// hash; pending is derived.
var terminal = slices.DeleteFunc(slices.Clone(Outcomes), func(o string) bool { return o == OutcomePending })

// Ledger-only states.
const (
	ledgerSending  = "sending"
	ledgerDeferred = "deferred"
)

var (
	// ErrCampaignExists is returned when staging a campaign name that is
	// already staged without StageConfig.ResumeExisting.
	ErrCampaignExists = errors.New("campaign already exists")
	// ErrNotFound is returned for a campaign this Redis has no trace of.
	ErrNotFound = errors.New("campaign not found")
	// ErrNothingToSend is returned when re-staging a campaign that has
	// finished (done or cancelled).
	ErrNothingToSend = errors.New("nothing left to send")
)

// NotFoundError says that campaign Campaign does not exist in this Redis;
// Similar are the names of the store's environment it may have been meant
// as.
type NotFoundError struct {
	Campaign string
	Similar  []string
	// Names are the names of the store's environment (for a hint only).
	Names []string
	// Started says that this host records starting the campaign (see
	// Store.RecordsStarts): Redis lost it, it is no typo.
	Started bool
	// Ledger is how many recipients' entries Redis still keeps in the
	// campaign's ledger: a first staging after one whose meta Redis lost,
	// dropped by a cancel, left it (dropStaging), or `tidings free` (Free),
	// so that a send of the campaign again mails none of those it records
	// as sent. 0 when it keeps none.
	Ledger int64
	// Freed is the audit entry of the `tidings free` that freed the
	// campaign (action "free"), when it is the last entry of the audit log
	// Redis keeps and Redis keeps its ledger: freed, on whichever host, not
	// lost. nil otherwise.
	Freed *AuditEntry
}

func (e *NotFoundError) Error() string {
	return fmt.Sprintf("campaign %q: not found in this environment's Redis%s%s", e.Campaign, e.DidYouMean(), e.Kept())
}

// Kept words Ledger: `; Redis keeps its ledger (N recipients), ...`, or "".
func (e *NotFoundError) Kept() string {
	if e.Ledger == 0 {
		return ""
	}
	return fmt.Sprintf("; Redis keeps its ledger (%d recipients), with no expiry, so that a send of it again mails none of those it records as sent", e.Ledger)
}

// DidYouMean words Similar: ` (did you mean "a" or "b"?)`, or "".
func (e *NotFoundError) DidYouMean() string {
	if len(e.Similar) == 0 {
		return ""
	}
	q := make([]string, len(e.Similar))
	for i, s := range e.Similar {
		q[i] = strconv.Quote(s)
	}
	return " (did you mean " + strings.Join(q, " or ") + "?)"
}

// Unwrap makes errors.Is(err, ErrNotFound) hold.
func (e *NotFoundError) Unwrap() error { return ErrNotFound }

// EnvError says that campaign Campaign belongs to environment Env, not
// Want, the caller's: environments that share one Redis share its
// campaign names, and none reads (List), stages or controls another's.
type EnvError struct{ Campaign, Env, Want string }

func (e *EnvError) Error() string {
	return fmt.Sprintf("campaign %q belongs to environment %s, not %s: environments that share one Redis share campaign names; act on it in environment %s, or give this one another name", e.Campaign, e.Env, e.Want, e.Env)
}

// checkEnv returns an *EnvError when campaign c's environment env (as
// staged; "" when unknown) is not want ("": any).
func checkEnv(c, env, want string) error {
	if env == "" || want == "" || env == want {
		return nil
	}
	return &EnvError{Campaign: c, Env: env, Want: want}
}

// LostChunksError says that Redis lost chunks of a campaign (part of its
// state: a failover or restart that lost writes, eviction): an operation
// over every recipient passed over theirs and did the rest.
type LostChunksError struct {
	Campaign string
	Chunks   []int
}

func (e *LostChunksError) Error() string {
	return fmt.Sprintf("Redis lost chunk(s) %v of campaign %s (part of its state); their recipients were passed over", e.Chunks, e.Campaign)
}

// TransitionError says that Action is not possible while the campaign is
// in State.
type TransitionError struct {
	Campaign string
	Action   string // pause, resume, approve, cancel, retry, stage
	State    State
	// PausedFor, when set, is the action that put the campaign in State and
	// forbids Action (state-loss forbids resume).
	PausedFor string
	// FirstStaging, with PausedFor "staging": the staging is the
	// campaign's first (it has no definition yet, so it is staged by the
	// same send run again, not by a re-staging of a campaign that exists).
	FirstStaging bool
	// Waiting, with PausedFor CanaryRunning, is how many of the canary's
	// recipients wait for a retry (0: its first pass is not complete);
	// LastError is the campaign's last error then ("" when none is at
	// hand): its code and the server's reply.
	Waiting   int
	LastError string
}

func (e *TransitionError) Error() string {
	if e.PausedFor != "" {
		return fmt.Sprintf("%s %s: the campaign is %s (%s)", e.Action, e.Campaign, e.State, e.PausedFor)
	}
	return fmt.Sprintf("%s %s: the campaign is %s", e.Action, e.Campaign, e.State)
}

// AckError says that a write reached the master but fewer replicas than
// required acknowledged it within the timeout: a failover now could lose it.
// Master is the master's address on Redis Cluster ("" otherwise); a Want
// of Held (a master held: SetMasterAcks) is said in words, not as the
// number.
type AckError struct {
	Got, Want int
	Master    string
}

func (e *AckError) Error() string {
	if e.Want >= Held {
		return fmt.Sprintf("held: master %s is not judged yet, so no number of replica acknowledgements is enough (%d acknowledged the write); the write is tried again, and goes through once the worker has judged that master's replicas (if it lasts, check that the workers reach %s)",
			cmp.Or(e.Master, "?"), e.Got, cmp.Or(e.Master, "it"))
	}
	return fmt.Sprintf("%d of %d required replicas acknowledged the write", e.Got, e.Want)
}

// Held is what a write waits for on a master held (SetMasterAcks: one the
// worker cannot tell the replicas of yet): more acknowledgements than any
// Redis gives, so that every write to it comes short (an *AckError, which
// says it was held) and no claim on it is sent until it is judged.
const Held = 1 << 16

// Actor is who performs a control action: a person or process, the host
// and the environment.
type Actor struct {
	Who  string `json:"who"`
	Host string `json:"host"`
	Env  string `json:"env"`
}

// String is "who@host" as recorded: on one line (oneLine).
func (a Actor) String() string {
	a = a.oneLine()
	s := a.Who
	if a.Host != "" {
		s += "@" + a.Host
	}
	return cmp.Or(s, "unknown")
}

// SignedAs is a acting for the person name (an approval's --as: the QA
// engineer who checked the canary, not the account that ran the
// command): Who is "name (account)", so that the audit log keeps both;
// a when name is empty or the account itself.
func (a Actor) SignedAs(name string) Actor {
	if name = strings.TrimSpace(name); name != "" && name != a.Who {
		a.Who = name + " (" + cmp.Or(a.Who, "unknown") + ")"
	}
	return a
}

// oneLine is a with its Who and Host on one line (oneline.Of): what the
// store records of an actor, as of a reason, is shown on a terminal
// (status) and in the console, where an escape or a line break given in a
// name or a reason would colour the on-call's terminal or write a line
// that looks like tidings' own.
func (a Actor) oneLine() Actor {
	a.Who, a.Host = oneline.Of(a.Who), oneline.Of(a.Host)
	return a
}

// AuditUnreadable is the action of an audit entry that is not one tidings
// wrote (a corrupted or hand-edited list): Status keeps its place.
const AuditUnreadable = "unreadable"

// AuditEntry is one line of a campaign's audit log.
type AuditEntry struct {
	At     time.Time `json:"at"`
	Who    string    `json:"who"`
	Host   string    `json:"host"`
	Env    string    `json:"env"`
	Action string    `json:"action"`
	Reason string    `json:"reason,omitempty"`
}

// Config configures a Store.
type Config struct {
	// ReplicaAcks is how many replicas must acknowledge a ledger claim or a
	// control change (Redis WAIT) before it counts as done (default 0).
	ReplicaAcks int
	// AckTimeout bounds each WAIT (default 500ms).
	AckTimeout time.Duration
	// Env is the environment the store acts for: reading a campaign of
	// another (Meta, so Status and the report) is an *EnvError, as control
	// actions of an Actor of another are; "" reads any (workers).
	Env string
}

// Store reads and writes campaigns in Redis.
type Store struct {
	rdb redis.UniversalClient
	cfg Config
	// started reports whether this host records starting a campaign (nil:
	// no record); see RecordsStarts.
	started func(c string) bool
	// waits holds, per node address whose client's read timeout is too
	// short to hear the answer of a WAIT, that client's clone with room
	// for it (a waitEntry; see waitClient).
	waits *sync.Map
	// acks is how many replicas must acknowledge a write now:
	// cfg.ReplicaAcks until SetReplicaAcks.
	acks *atomic.Int64
	// masters is, on Redis Cluster, how many replicas must acknowledge a
	// write to each master (SetMasterAcks); nil until set.
	masters *atomic.Pointer[masterAcks]
	// dropLease (0: stagingLease) and afterScan (nil: none) are set by
	// tests: the staging lease the cancel giving up a first staging takes,
	// and what runs once it has listed the campaign's keys (dropStaging).
	dropLease time.Duration
	afterScan func()
	// hostClock is this host's clock (nil: time.Now), which tests skew:
	// what tidings times in Redis's clock must not follow it (hostNow).
	hostClock func() time.Time
}

// hostNow is this host's time: of what a staging writes, only what is
// shown (its definition's created_at, the begun record) and what Redis's
// clock replaces.
func (s *Store) hostNow() time.Time {
	if s.hostClock != nil {
		return s.hostClock()
	}
	return time.Now()
}

// masterAcks is what SetMasterAcks set: each master's number by address,
// and the number of every other master, in one value, so that a write
// reads both of one judgement (never a new map with an old number for the
// others, nor the reverse).
type masterAcks struct {
	byAddr map[string]int
	others int
}

// New returns a Store on rdb whose writes need no replica acknowledgement.
func New(rdb redis.UniversalClient) *Store { return NewWithConfig(rdb, Config{}) }

// NewWithConfig returns a Store on rdb configured by cfg (defaults applied).
func NewWithConfig(rdb redis.UniversalClient, cfg Config) *Store {
	cfg.AckTimeout = cmp.Or(max(cfg.AckTimeout, 0), 500*time.Millisecond)
	s := &Store{rdb: rdb, cfg: cfg, waits: &sync.Map{}, acks: &atomic.Int64{}, masters: &atomic.Pointer[masterAcks]{}}
	s.SetReplicaAcks(cfg.ReplicaAcks)
	return s
}

// SetReplicaAcks changes how many replicas must acknowledge each write
// from now on (the worker's auto, when the replicas Sentinel may promote
// change); a negative n is 0.
func (s *Store) SetReplicaAcks(n int) { s.acks.Store(int64(max(n, 0))) }

// ReplicaAcks is how many replicas must acknowledge each write now (on
// Redis Cluster, once SetMasterAcks was called, AcksFor says it for each
// master instead).
func (s *Store) ReplicaAcks() int { return int(s.acks.Load()) }

// SetMasterAcks changes, on Redis Cluster, how many replicas must
// acknowledge each write from now on, per master address: a write goes to
// the master of its key's slot, and WAITs for that master's number in
// acks, or others for a master not in acks (the worker's auto, judged per
// master: redisconn.ClusterAcks; others is the most any master waits
// for; Held for a master held). Both change at once: a write reads them
// from one value. The store keeps a copy of acks; a negative number is 0.
func (s *Store) SetMasterAcks(acks map[string]int, others int) {
	m := &masterAcks{byAddr: make(map[string]int, len(acks)), others: max(others, 0)}
	for addr, n := range acks {
		m.byAddr[addr] = max(n, 0)
	}
	s.masters.Store(m)
}

// MasterAcks returns a copy of the numbers by address SetMasterAcks set
// last (nil before).
func (s *Store) MasterAcks() map[string]int {
	if m := s.masters.Load(); m != nil {
		return maps.Clone(m.byAddr)
	}
	return nil
}

// AcksFor is how many replicas must acknowledge a write to the master at
// addr now: its number (SetMasterAcks), else the others' number
// SetMasterAcks set with it, else (SetMasterAcks never called)
// ReplicaAcks.
func (s *Store) AcksFor(addr string) int {
	if m := s.masters.Load(); m != nil {
		if n, ok := m.byAddr[addr]; ok {
			return n
		}
		return m.others
	}
	return s.ReplicaAcks()
}

// Client returns the Redis client of the store.
func (s *Store) Client() redis.UniversalClient { return s.rdb }

const (
	keyCampaigns = "tidings:campaigns"
	keyActive    = "tidings:active"
)

// keys holds the key names of one campaign.
type keys struct {
	name, prefix                                      string
	meta, control, batches, bstats, ledger, counts    string
	win, winerr, persec, errors, audit, rejects, rate string
	passed, finished, gen, staging, notify, reconcile string
	wsent, checkins, ids, mailboxes, held, gate1      string
	requeued, fresh, doubted                          string
}

func keysFor(c string) keys {
	p := "tidings:{" + c + "}:"
	return keys{
		name: c, prefix: p, notify: p + "notify",
		meta: p + "meta", control: p + "control", batches: p + "batches", bstats: p + "bstats",
		ledger: p + "ledger", counts: p + "counts", win: p + "win", winerr: p + "winerr",
		persec: p + "persec", errors: p + "errors", audit: p + "audit", rejects: p + "rejects",
		rate: p + "rate", passed: p + "passed", finished: p + "finished", gen: p + "gen", staging: p + "staging",
		reconcile: p + "reconcile", wsent: p + "wsent", checkins: p + "checkins",
		ids: p + "ids", mailboxes: p + "mailboxes", held: p + "held", gate1: p + "gate1",
		requeued: p + "requeued", fresh: p + "fresh", doubted: p + "doubted",
	}
}

func (k keys) chunk(n int) string { return k.prefix + "chunk:" + strconv.Itoa(n) }

// ofStaging lists the keys a staging writes for itself alone, besides its
// chunks, meta and control: a staging again (Stager.open) and the staging
// of a campaign whose meta Redis lost (clearLost) delete them first. The
// ledger, audit log, ids and mailboxes stay.
func (k keys) ofStaging() []string {
	return []string{k.batches, k.bstats, k.counts, k.win, k.winerr, k.rejects, k.persec, k.passed, k.finished, k.gen, k.held, k.gate1, k.requeued, k.fresh}
}

// RateKey is the key of campaign c's global rate limiter.
func RateKey(c string) string { return keysFor(c).rate }

// ms is t in Unix milliseconds; 0 for the zero time (fromMS's inverse).
func ms(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMilli()
}

func fromMS(v int64) time.Time {
	if v == 0 {
		return time.Time{}
	}
	return time.UnixMilli(v).UTC()
}

func atoi(s string) int { return int(atoi64(s)) }

func atoi64(s string) int64 {
	n, _ := strconv.ParseInt(s, 10, 64)
	return n
}

// wrapf returns err (nil or not) prefixed with fmt.Sprintf(format, a...).
func wrapf(err error, format string, a ...any) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf(format+": %w", append(a, err)...)
}

// notFound is the *NotFoundError of c, with the names it may have been
// meant as when the store acts for an environment (a command typed by
// someone; workers ask for none).
func (s *Store) notFound(ctx context.Context, action, c string) error {
	nf := &NotFoundError{Campaign: c, Started: s.started != nil && s.started(c)}
	nf.Ledger, _ = s.rdb.HLen(ctx, keysFor(c).ledger).Result() // for the words only: 0 when it cannot be read
	if nf.Ledger > 0 {
		nf.Freed = s.freedBy(ctx, c)
	}
	if s.cfg.Env != "" {
		nf.Names, _ = s.List(ctx, s.cfg.Env) // for a hint only
		nf.Similar = suggest.Similar(c, nf.Names)
	}
	return fmt.Errorf("%s: %w", action, nf)
}

// RecordsStarts gives the store what this host records of the campaigns
// it started (a *NotFoundError's Started): started reports whether
// campaign c is one.
func (s *Store) RecordsStarts(started func(c string) bool) { s.started = started }

// UnmarshalJSON accepts "at" as RFC 3339 text or Unix milliseconds (entries
// written by Lua scripts).
func (a *AuditEntry) UnmarshalJSON(b []byte) error {
	type plain AuditEntry // its fields, without this method
	var x struct {
		plain
		At any `json:"at"` // hides plain's At
	}
	if err := json.Unmarshal(b, &x); err != nil {
		return err
	}
	*a = AuditEntry(x.plain)
	switch at := x.At.(type) {
	case string:
		return a.At.UnmarshalText([]byte(at))
	case float64:
		a.At = fromMS(int64(at))
	}
	return nil
}

// auditJSON is the audit entry of action by a, its names and reason on
// one line (Actor.oneLine).
func auditJSON(now time.Time, a Actor, action, reason string) string {
	a = a.oneLine()
	b, _ := json.Marshal(AuditEntry{At: now.UTC(), Who: a.Who, Host: a.Host, Env: a.Env, Action: action, Reason: oneline.Of(reason)})
	return string(b)
}
