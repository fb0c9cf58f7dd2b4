// Package store owns every Redis key of tidings: staging a campaign
// (definition, approved content hash, template snapshot, recipients in chunks
// and batches), the per-recipient ledger that makes sending at most once,
// control state and its audit log, counters, the sliding error window, and
// the reads behind status, report and retry.
//
// All keys of campaign c share the hash tag {c} (prefix "tidings:{c}:") so
// that every Lua script touches a single Redis Cluster slot. The data model is
// documented in docs/design.md.
package store

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"
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

// Outcomes lists every outcome in display order.
var Outcomes = []string{OutcomeSent, OutcomeFailed, OutcomeInDoubt, OutcomeRefused, OutcomeInvalid, OutcomeSkipped, OutcomeCancelled, OutcomePending}

// terminal outcomes are counted in the counts hash; pending is derived.
var terminal = []string{OutcomeSent, OutcomeFailed, OutcomeInDoubt, OutcomeRefused, OutcomeInvalid, OutcomeSkipped, OutcomeCancelled}

// Ledger-only states.
const (
	ledgerSending  = "sending"
	ledgerDeferred = "deferred"
)

var (
	// ErrCampaignExists is returned when staging a campaign name that is
	// already staged, without StageConfig.ResumeExisting.
	ErrCampaignExists = errors.New("campaign already exists")
	// ErrNotFound is returned for a campaign that was never staged.
	ErrNotFound = errors.New("campaign not found")
	// ErrInvalidTransition is wrapped by control errors that are not allowed
	// in the campaign's current state; the message says what to do.
	ErrInvalidTransition = errors.New("invalid control transition")
)

// Actor is who performs a control action: OS user, host and environment.
type Actor struct {
	Who  string `json:"who"`
	Host string `json:"host"`
	Env  string `json:"env"`
}

func (a Actor) String() string {
	s := a.Who
	if a.Host != "" {
		s += "@" + a.Host
	}
	if s == "" {
		s = "unknown"
	}
	return s
}

// AuditEntry is one line of a campaign's audit log.
type AuditEntry struct {
	At     time.Time `json:"at"`
	Who    string    `json:"who"`
	Host   string    `json:"host"`
	Env    string    `json:"env"`
	Action string    `json:"action"`
	Reason string    `json:"reason,omitempty"`
}

// Store reads and writes campaigns in Redis.
type Store struct {
	rdb redis.UniversalClient
}

// New returns a Store on rdb.
func New(rdb redis.UniversalClient) *Store { return &Store{rdb: rdb} }

// Client returns the Redis client of the store.
func (s *Store) Client() redis.UniversalClient { return s.rdb }

const (
	keyCampaigns = "tidings:campaigns"
	keyActive    = "tidings:active"
	keyWorker    = "tidings:worker:"
)

// keys holds the precomputed key names of one campaign.
type keys struct {
	name, prefix                                           string
	meta, control, batches, ledger, counts, win, retry     string
	interrupted, running, chunkgen, rejects, errors, audit string
	persec, lock, epoch, rate, done, winerr                string
}

func keysFor(c string) keys {
	p := "tidings:{" + c + "}:"
	return keys{
		name: c, prefix: p,
		meta: p + "meta", control: p + "control", batches: p + "batches", ledger: p + "ledger",
		counts: p + "counts", win: p + "win", retry: p + "retry", interrupted: p + "interrupted",
		running: p + "running", chunkgen: p + "chunkgen", rejects: p + "rejects", errors: p + "errors",
		audit: p + "audit", persec: p + "persec", lock: p + "lock", epoch: p + "epoch", rate: p + "rate",
		done: p + "chunksdone", winerr: p + "winerr",
	}
}

func (k keys) chunk(n int) string { return k.prefix + "chunk:" + strconv.Itoa(n) }
func (k keys) batch(b int) string { return k.prefix + "b:" + strconv.Itoa(b) }

// RateKey is the redis_rate key of campaign c's global rate limiter.
func RateKey(c string) string { return keysFor(c).rate }

// WorkerKey is the heartbeat key of a worker; the dispatcher treats chunks
// held by a worker whose key expired as orphaned.
func WorkerKey(id string) string { return keyWorker + id }

func ms(t time.Time) int64 { return t.UnixMilli() }

func fromMS(v int64) time.Time {
	if v == 0 {
		return time.Time{}
	}
	return time.UnixMilli(v).UTC()
}

func atoi(s string) int {
	n, _ := strconv.Atoi(s)
	return n
}

func atoi64(s string) int64 {
	n, _ := strconv.ParseInt(s, 10, 64)
	return n
}

// notFound is the error for campaign c, which was never staged in this
// Redis; action names what was being done.
func notFound(action, c string) error {
	return fmt.Errorf("%s: campaign %q: %w in this environment: check the name with 'tidings status', or stage it with tidings send", action, c, ErrNotFound)
}

// UnmarshalJSON accepts "at" as RFC 3339 text or Unix milliseconds (entries
// written by Lua scripts).
func (a *AuditEntry) UnmarshalJSON(b []byte) error {
	var x struct {
		At     json.RawMessage `json:"at"`
		Who    string          `json:"who"`
		Host   string          `json:"host"`
		Env    string          `json:"env"`
		Action string          `json:"action"`
		Reason string          `json:"reason"`
	}
	if err := json.Unmarshal(b, &x); err != nil {
		return err
	}
	*a = AuditEntry{Who: x.Who, Host: x.Host, Env: x.Env, Action: x.Action, Reason: x.Reason}
	if len(x.At) > 0 && x.At[0] == '"' {
		return json.Unmarshal(x.At, &a.At)
	}
	var n float64
	if err := json.Unmarshal(x.At, &n); err == nil {
		a.At = fromMS(int64(n))
	}
	return nil
}
