package store

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// Status is a campaign's live status. Its JSON form is stable (status --json).
type Status struct {
	Campaign    string           `json:"campaign"`
	State       State            `json:"state"`
	Reason      string           `json:"reason,omitempty"`
	By          string           `json:"by,omitempty"`
	At          time.Time        `json:"at"`
	Approved    bool             `json:"approved"`
	Env         string           `json:"env"`
	Hash        string           `json:"hash"`
	CreatedAt   time.Time        `json:"created_at"`
	CreatedBy   string           `json:"created_by"`
	Total       int64            `json:"total"` // staged + rejected
	Staged      int64            `json:"staged"`
	Rejected    int64            `json:"rejected"`
	Counts      map[string]int64 `json:"counts"` // every outcome, including pending
	Languages   []LangStatus     `json:"languages"`
	CurBatch    int              `json:"current_batch"`
	Batches     []BatchStatus    `json:"batches"`
	Retries     int64            `json:"retries_waiting"`
	Errors      []ErrorGroup     `json:"errors"`
	Audit       []AuditEntry     `json:"audit"`
	Rate        float64          `json:"rate"` // recorded messages per second over the last 10 s
	ETASeconds  float64          `json:"eta_seconds,omitempty"`
	Interrupted int              `json:"interrupted_chunks"`
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
	Code      string    `json:"code"`
	Response  string    `json:"response"`
	Temporary bool      `json:"temporary"`
	Count     int       `json:"count"`
	Last      time.Time `json:"last"`
}

// Status reads the live status of c.
func (s *Store) Status(ctx context.Context, c string) (*Status, error) {
	k := keysFor(c)
	meta, err := s.Meta(ctx, c, false)
	if err != nil {
		return nil, err
	}
	p := s.rdb.Pipeline()
	ctlC := p.HGetAll(ctx, k.control)
	cntC := p.HGetAll(ctx, k.counts)
	batC := p.HGetAll(ctx, k.batches)
	errC := p.LRange(ctx, k.errors, 0, 99)
	audC := p.LRange(ctx, k.audit, 0, -1)
	secC := p.HGetAll(ctx, k.persec)
	retC := p.ZCard(ctx, k.retry)
	intC := p.HLen(ctx, k.interrupted)
	bcs := make([]*redis.MapStringStringCmd, meta.NBatches)
	for i := range bcs {
		bcs[i] = p.HGetAll(ctx, k.batch(i))
	}
	if _, err := p.Exec(ctx); err != nil {
		return nil, fmt.Errorf("read status of %s: %w", c, err)
	}
	ctl := parseControl(ctlC.Val())
	st := &Status{Campaign: c, State: ctl.State, Reason: ctl.Reason, By: ctl.By, At: ctl.At, Approved: ctl.Approved,
		Env: meta.Env, Hash: meta.Hash, CreatedAt: meta.CreatedAt, CreatedBy: meta.CreatedBy,
		Staged: int64(meta.Staged), Rejected: int64(meta.Rejected), CurBatch: ctl.CurBatch, Retries: retC.Val(), Interrupted: int(intC.Val())}
	st.Total = st.Staged + st.Rejected
	counts := map[string]int64{}
	langs := map[string]*LangStatus{}
	lang := func(l string) *LangStatus {
		if langs[l] == nil {
			langs[l] = &LangStatus{Lang: l, Counts: map[string]int64{}}
		}
		return langs[l]
	}
	for f, v := range cntC.Val() {
		n := atoi64(v)
		switch {
		case strings.HasPrefix(f, "staged:"):
			lang(f[len("staged:"):]).Staged = n
		case strings.HasPrefix(f, "lang:"):
			rest := f[len("lang:"):]
			i := strings.LastIndex(rest, ":")
			if i > 0 {
				lang(rest[:i]).Counts[rest[i+1:]] = n
			}
		default:
			counts[f] = n
		}
	}
	for _, o := range Outcomes {
		if _, ok := counts[o]; !ok {
			counts[o] = 0
		}
	}
	counts[OutcomePending] = st.Total - Terminal(counts)
	st.Counts = counts
	for _, l := range langs {
		var done int64
		for _, o := range terminal {
			done += l.Counts[o]
		}
		l.Counts[OutcomePending] = l.Staged - done
		st.Languages = append(st.Languages, *l)
	}
	sort.Slice(st.Languages, func(i, j int) bool { return st.Languages[i].Lang < st.Languages[j].Lang })
	for i := 0; i < meta.NBatches; i++ {
		var bi BatchInfo
		_ = json.Unmarshal([]byte(batC.Val()[strconv.Itoa(i)]), &bi)
		bp := parseBatchProgress(bcs[i].Val())
		st.Batches = append(st.Batches, BatchStatus{Batch: i, Canary: bi.Canary, Size: bi.Size, Released: i <= ctl.CurBatch,
			Done: bp.ChunksDone >= bi.Last-bi.First+1, BatchProgress: bp})
	}
	groups := map[string]*ErrorGroup{}
	var order []string
	for _, e := range errC.Val() {
		var x struct {
			T    int64  `json:"t"`
			Code string `json:"code"`
			R    string `json:"r"`
			Temp bool   `json:"temp"`
		}
		if json.Unmarshal([]byte(e), &x) != nil {
			continue
		}
		key := x.Code + "\x00" + x.R
		g := groups[key]
		if g == nil {
			g = &ErrorGroup{Code: x.Code, Response: x.R, Temporary: x.Temp, Last: fromMS(x.T)}
			groups[key] = g
			order = append(order, key)
		}
		g.Count++
	}
	for _, key := range order {
		st.Errors = append(st.Errors, *groups[key])
	}
	for _, a := range audC.Val() {
		var e AuditEntry
		if json.Unmarshal([]byte(a), &e) == nil {
			st.Audit = append(st.Audit, e)
		}
	}
	// Rate over the last 10 complete seconds.
	now := time.Now().Unix()
	var recent int64
	for f, v := range secC.Val() {
		sec := atoi64(f)
		if sec >= now-10 && sec < now {
			recent += atoi64(v)
		}
	}
	st.Rate = float64(recent) / 10
	if st.Rate > 0 && counts[OutcomePending] > 0 {
		st.ETASeconds = float64(counts[OutcomePending]) / st.Rate
	}
	return st, nil
}

// List returns every staged campaign name, sorted.
func (s *Store) List(ctx context.Context) ([]string, error) {
	v, err := s.rdb.SMembers(ctx, keyCampaigns).Result()
	if err != nil {
		return nil, fmt.Errorf("list campaigns: %w", err)
	}
	sort.Strings(v)
	return v, nil
}

// Row is one recipient of the report.
type Row struct {
	Line     int       `json:"line"`
	ID       string    `json:"id"`
	Email    string    `json:"email"`
	Locale   string    `json:"locale"`             // requested
	Lang     string    `json:"lang,omitempty"`     // matched catalog language
	Outcome  string    `json:"outcome"`            // sent, refused, invalid, failed, skipped, cancelled, pending, in-doubt
	Code     string    `json:"code,omitempty"`     // SMTP code or refusal code
	Response string    `json:"response,omitempty"` // SMTP response or reason
	At       time.Time `json:"at,omitzero"`
	Attempts int       `json:"attempts,omitempty"`
	Batch    int       `json:"batch"` // -1 for rejected rows
}

// Report calls fn for every recipient of c: staged ones in batch and chunk
// order with their ledger outcome (or pending), then the rows rejected at
// staging.
func (s *Store) Report(ctx context.Context, c string, fn func(Row) error) error {
	k := keysFor(c)
	if _, err := s.Meta(ctx, c, false); err != nil {
		return err
	}
	err := s.eachChunk(ctx, c, func(batch, chunk int, recs []Recipient) error {
		ids := make([]string, len(recs))
		for i, r := range recs {
			ids[i] = r.ID
		}
		v, err := s.rdb.HMGet(ctx, k.ledger, ids...).Result()
		if err != nil {
			return fmt.Errorf("read ledger: %w", err)
		}
		for i, r := range recs {
			row := Row{Line: r.Line, ID: r.ID, Email: r.Email, Locale: r.Locale, Lang: r.Lang, Outcome: OutcomePending, Batch: batch}
			if str, ok := v[i].(string); ok {
				e := parseEntry(str)
				row.Code, row.Response, row.At, row.Attempts = e.Code, e.Response, fromMS(e.At), e.Attempts
				switch e.State {
				case ledgerSending, ledgerDeferred:
				default:
					row.Outcome = e.State
				}
			}
			if err := fn(row); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("report %s: %w", c, err)
	}
	for start := int64(0); ; start += 1000 {
		v, err := s.rdb.LRange(ctx, k.rejects, start, start+999).Result()
		if err != nil {
			return fmt.Errorf("report %s: read rejects: %w", c, err)
		}
		for _, x := range v {
			var r Reject
			if err := json.Unmarshal([]byte(x), &r); err != nil {
				return fmt.Errorf("report %s: decode reject: %w", c, err)
			}
			if err := fn(Row{Line: r.Line, ID: r.ID, Email: r.Email, Locale: r.Locale, Outcome: r.Outcome, Code: r.Code, Response: r.Reason, Batch: -1}); err != nil {
				return err
			}
		}
		if len(v) < 1000 {
			return nil
		}
	}
}

// retryScript moves temporary failures of one chunk back to deferred, due
// now. KEYS: 1 ledger, 2 counts, 3 b:<batch>, 4 retry. ARGV: 1 now, then
// id, lang, member triples.
var retryScript = redis.NewScript(`
local n = 0
for i = 2, #ARGV, 3 do
  local id, lang, member = ARGV[i], ARGV[i + 1], ARGV[i + 2]
  local cur = redis.call('HGET', KEYS[1], id)
  if cur then
    local st, a, t, code, flag, resp = string.match(cur, '^([^|]*)|(%d+)|(%d*)|([^|]*)|([^|]*)|(.*)$')
    if st == 'failed' and flag == 't' then
      redis.call('HSET', KEYS[1], id, 'deferred|' .. a .. '|' .. ARGV[1] .. '|' .. code .. '|t|' .. resp)
      redis.call('HINCRBY', KEYS[2], 'failed', -1)
      redis.call('HINCRBY', KEYS[2], 'lang:' .. lang .. ':failed', -1)
      redis.call('HINCRBY', KEYS[3], 'failed', -1)
      redis.call('ZADD', KEYS[4], ARGV[1], member)
      n = n + 1
    end
  end
end
return n
`)

// Retry re-queues every recipient of c whose last attempt failed
// temporarily and exhausted its attempts (never one sent, in-doubt or failed
// permanently). A done campaign runs again. It returns how many were queued.
func (s *Store) Retry(ctx context.Context, c string, a Actor) (int, error) {
	ctl, err := s.Control(ctx, c)
	if err != nil {
		return 0, err
	}
	if ctl.State == StateCancelled {
		return 0, invalid(c, "retry", ctl.State, "a cancelled campaign is not retried; stage it again with tidings send --resume-existing")
	}
	k := keysFor(c)
	total := 0
	err = s.eachChunk(ctx, c, func(batch, chunk int, recs []Recipient) error {
		args := make([]any, 0, 1+3*len(recs))
		args = append(args, ms(time.Now()))
		for i, r := range recs {
			args = append(args, r.ID, r.Lang, strconv.Itoa(chunk)+":"+strconv.Itoa(i))
		}
		n, err := retryScript.Run(ctx, s.rdb, []string{k.ledger, k.counts, k.batch(batch), k.retry}, args...).Int()
		total += n
		return err
	})
	if err != nil {
		return total, fmt.Errorf("retry %s: %w", c, err)
	}
	if _, _, err := s.Transition(ctx, c, []State{StateDone}, StateRunning, a, "", "", false); err != nil {
		return total, err
	}
	if err := s.Audit(ctx, c, a, "retry", fmt.Sprintf("%d temporary failures re-queued", total)); err != nil {
		return total, err
	}
	return total, nil
}
