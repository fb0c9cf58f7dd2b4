package store

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// StageConfig configures a Stager.
type StageConfig struct {
	Campaign   string            // campaign name ([a-z0-9-])
	Definition []byte            // resolved campaign definition (JSON), stored as meta "def"
	Hash       string            // approved template + catalog content hash
	Snapshot   map[string][]byte // template + catalog files the hash covers (render.Snapshot)
	Env        string            // environment the campaign is staged in
	Who        string            // OS user staging it
	Host       string            // host staging it
	Columns    []string          // extra (template data) columns, in file order

	CanaryPerLocale int // first N accepted recipients of every matched language form batch 0
	BatchSize       int // recipients per regular batch (default 500)
	ChunkSize       int // recipients per chunk = per worker job (default min(200, BatchSize))

	// ResumeExisting allows staging a campaign that already exists. The
	// campaign must not be running (pause or cancel it first). The ledger,
	// audit log and recent errors are kept; everything else (chunks, batches,
	// counters, retries, rejects) is staged afresh from the new recipients.
	// A recipient (by id) whose ledger entry is sent, in-doubt or failed
	// permanently keeps that outcome and is never sent again; entries that
	// were pending, deferred, failed temporarily, cancelled, skipped
	// or refused are cleared, so those recipients are sent (again checked by
	// the worker). A recipient left "sending" by a crash becomes in-doubt.
	ResumeExisting bool
}

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
}

// FieldMap returns the recipient's extra columns as a map, given the
// campaign's columns (Meta.Columns).
func (r *Recipient) FieldMap(columns []string) map[string]string {
	if r.Fields != nil {
		return r.Fields
	}
	m := make(map[string]string, len(columns))
	for i, c := range columns {
		if i < len(r.Values) {
			m[c] = r.Values[i]
		}
	}
	return m
}

// Reject is a row refused or invalid at planning time, recorded for the
// report.
type Reject struct {
	Line    int    `json:"line"`
	ID      string `json:"id,omitempty"`
	Email   string `json:"email,omitempty"`
	Locale  string `json:"locale,omitempty"`
	Outcome string `json:"outcome"` // refused | invalid
	Code    string `json:"code,omitempty"`
	Field   string `json:"field,omitempty"`
	Reason  string `json:"reason"`
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
	Rejected int // rows recorded as refused or invalid
	Batches  int
	Chunks   int
	Kept     int // ResumeExisting: recipients whose earlier outcome was kept
	Epoch    int64
}

// Stager streams accepted recipients into Redis. It is not safe for
// concurrent use.
type Stager struct {
	rdb  redis.UniversalClient
	cfg  StageConfig
	k    keys
	cols map[string]int

	epoch   int64
	canary  []Recipient
	perLang map[string]int // canary count per language
	staged  map[string]int // staged per language

	cur        []Recipient // current chunk
	nchunks    int
	batches    []BatchInfo // regular batches
	batchFill  int
	batchFirst int

	pipe     redis.Pipeliner
	pending  int // chunks queued in pipe
	lookups  []ledgerLookup
	counts   map[string]int64
	bcounts  map[int]map[string]int64
	rejected map[string]int64
	nreject  int
	kept     int
	total    int
	finished bool
}

type ledgerLookup struct {
	batch int
	recs  []Recipient
	cmd   *redis.SliceCmd
}

// NewStager checks that the campaign may be staged and prepares it.
func NewStager(ctx context.Context, rdb redis.UniversalClient, cfg StageConfig) (*Stager, error) {
	if cfg.Campaign == "" {
		return nil, fmt.Errorf("stage campaign: empty campaign name")
	}
	if cfg.BatchSize < 1 {
		cfg.BatchSize = 500
	}
	if cfg.ChunkSize < 1 {
		cfg.ChunkSize = min(200, cfg.BatchSize)
	}
	if cfg.ChunkSize > cfg.BatchSize {
		cfg.ChunkSize = cfg.BatchSize
	}
	if cfg.CanaryPerLocale < 0 {
		cfg.CanaryPerLocale = 0
	}
	k := keysFor(cfg.Campaign)
	meta, err := rdb.HMGet(ctx, k.meta, "nchunks", "nbatches").Result()
	if err != nil {
		return nil, fmt.Errorf("stage %s: read meta: %w", cfg.Campaign, err)
	}
	if meta[0] != nil {
		if !cfg.ResumeExisting {
			return nil, fmt.Errorf("stage %s: %w: it was staged before; use --resume-existing to continue it (nobody already sent is sent again) or choose another name", cfg.Campaign, ErrCampaignExists)
		}
		st, err := rdb.HGet(ctx, k.control, "state").Result()
		if err != nil && err != redis.Nil {
			return nil, fmt.Errorf("stage %s: read control: %w", cfg.Campaign, err)
		}
		switch State(st) {
		case StateRunning, StateAwaitingApproval:
			return nil, fmt.Errorf("stage %s: %w: the campaign is %s; pause or cancel it first (tidings pause %s --reason ...)", cfg.Campaign, ErrInvalidTransition, st, cfg.Campaign)
		}
		old := []string{k.batches, k.counts, k.win, k.winerr, k.retry, k.interrupted, k.running, k.chunkgen, k.rejects, k.persec, k.done}
		for i := 0; i < atoi(fmt.Sprint(meta[0])); i++ {
			old = append(old, k.chunk(i))
		}
		for i := 0; i < atoi(fmt.Sprint(meta[1])); i++ {
			old = append(old, k.batch(i))
		}
		for len(old) > 0 {
			n := min(len(old), 500)
			if err := rdb.Del(ctx, old[:n]...).Err(); err != nil {
				return nil, fmt.Errorf("stage %s: clear previous staging: %w", cfg.Campaign, err)
			}
			old = old[n:]
		}
	}
	epoch, err := rdb.Incr(ctx, k.epoch).Result()
	if err != nil {
		return nil, fmt.Errorf("stage %s: %w", cfg.Campaign, err)
	}
	// Stale tasks of an earlier staging see the new epoch and stop.
	if err := rdb.HSet(ctx, k.control, "state", string(StateStaged), "epoch", epoch).Err(); err != nil {
		return nil, fmt.Errorf("stage %s: %w", cfg.Campaign, err)
	}
	s := &Stager{
		rdb: rdb, cfg: cfg, k: k, epoch: epoch,
		perLang: map[string]int{}, staged: map[string]int{},
		counts: map[string]int64{}, bcounts: map[int]map[string]int64{}, rejected: map[string]int64{},
		cols: map[string]int{},
	}
	for i, c := range cfg.Columns {
		s.cols[c] = i
	}
	s.pipe = rdb.Pipeline()
	return s, nil
}

func (s *Stager) batchOffset() int {
	if s.cfg.CanaryPerLocale > 0 {
		return 1
	}
	return 0
}

func (s *Stager) compact(r Recipient) Recipient {
	if len(s.cfg.Columns) > 0 && r.Fields != nil {
		r.Values = make([]string, len(s.cfg.Columns))
		for c, v := range r.Fields {
			if i, ok := s.cols[c]; ok {
				r.Values[i] = v
			}
		}
	}
	r.Fields = nil
	return r
}

// Add stages one accepted recipient: the first CanaryPerLocale of each
// matched language go to the canary batch, every other in file order into
// regular batches.
func (s *Stager) Add(ctx context.Context, r Recipient) error {
	if r.Lang == "" {
		return fmt.Errorf("stage %s: line %d: recipient %s has no matched language", s.cfg.Campaign, r.Line, r.ID)
	}
	r = s.compact(r)
	s.total++
	s.staged[r.Lang]++
	if s.perLang[r.Lang] < s.cfg.CanaryPerLocale {
		s.perLang[r.Lang]++
		s.canary = append(s.canary, r)
		return nil
	}
	if s.batchFill == 0 {
		s.batchFirst = s.nchunks
	}
	s.cur = append(s.cur, r)
	s.batchFill++
	if len(s.cur) == s.cfg.ChunkSize || s.batchFill == s.cfg.BatchSize {
		s.queueChunk(len(s.batches) + s.batchOffset())
	}
	if s.batchFill == s.cfg.BatchSize {
		s.closeBatch(false)
	}
	if s.pending >= 16 {
		return s.flush(ctx)
	}
	return nil
}

func (s *Stager) closeBatch(canary bool) {
	if s.batchFill == 0 {
		return
	}
	s.batches = append(s.batches, BatchInfo{First: s.batchFirst, Last: s.nchunks - 1, Size: s.batchFill, Canary: canary})
	s.batchFill = 0
}

func (s *Stager) queueChunk(batch int) {
	data, _ := json.Marshal(s.cur) // Recipient has only strings and ints
	s.pipe.Set(context.Background(), s.k.chunk(s.nchunks), data, 0)
	if s.cfg.ResumeExisting {
		ids := make([]string, len(s.cur))
		for i, r := range s.cur {
			ids[i] = r.ID
		}
		cmd := s.pipe.HMGet(context.Background(), s.k.ledger, ids...)
		s.lookups = append(s.lookups, ledgerLookup{batch: batch, recs: s.cur, cmd: cmd})
		s.cur = nil
	} else {
		s.cur = s.cur[:0]
	}
	s.nchunks++
	s.pending++
}

func (s *Stager) flush(ctx context.Context) error {
	if s.pending == 0 && len(s.lookups) == 0 {
		return nil
	}
	if _, err := s.pipe.Exec(ctx); err != nil {
		return fmt.Errorf("stage %s: write chunks: %w", s.cfg.Campaign, err)
	}
	s.pending = 0
	if len(s.lookups) == 0 {
		return nil
	}
	// ResumeExisting: keep terminal outcomes, clear the rest.
	var clear []string
	now := ms(time.Now())
	for _, l := range s.lookups {
		for i, v := range l.cmd.Val() {
			str, ok := v.(string)
			if !ok {
				continue
			}
			r := l.recs[i]
			e := parseEntry(str)
			switch {
			case e.State == OutcomeSent || e.State == OutcomeInDoubt || (e.State == OutcomeFailed && !e.Temp):
			case e.State == ledgerSending:
				e.State = OutcomeInDoubt
				e.At = now
				e.Response = "left sending by an earlier run; the SMTP server may have accepted it"
				s.pipe.HSet(ctx, s.k.ledger, r.ID, e.encode())
			default:
				clear = append(clear, r.ID)
				continue
			}
			s.kept++
			s.counts[e.State]++
			s.counts["lang:"+r.Lang+":"+e.State]++
			bc := s.bcounts[l.batch]
			if bc == nil {
				bc = map[string]int64{}
				s.bcounts[l.batch] = bc
			}
			bc["attempted"]++
			bc[e.State]++
		}
	}
	s.lookups = s.lookups[:0]
	if len(clear) > 0 {
		s.pipe.HDel(ctx, s.k.ledger, clear...)
	}
	if _, err := s.pipe.Exec(ctx); err != nil {
		return fmt.Errorf("stage %s: reconcile ledger: %w", s.cfg.Campaign, err)
	}
	return nil
}

// Reject records a refused or invalid row for the report.
func (s *Stager) Reject(ctx context.Context, r Reject) error {
	if r.Outcome != OutcomeRefused && r.Outcome != OutcomeInvalid {
		return fmt.Errorf("stage %s: line %d: reject outcome %q: want refused or invalid", s.cfg.Campaign, r.Line, r.Outcome)
	}
	data, _ := json.Marshal(r)
	s.pipe.RPush(ctx, s.k.rejects, data)
	s.rejected[r.Outcome]++
	s.nreject++
	if s.nreject%2000 == 0 {
		return s.flush(ctx)
	}
	return nil
}

// Finish writes the canary batch, batch table, metadata and counters, and
// sets the control state to running (start) or leaves it staged.
func (s *Stager) Finish(ctx context.Context, start bool) (*StageSummary, error) {
	if s.finished {
		return nil, fmt.Errorf("stage %s: already finished", s.cfg.Campaign)
	}
	s.finished = true
	off := s.batchOffset()
	if len(s.cur) > 0 {
		s.queueChunk(len(s.batches) + off)
	}
	s.closeBatch(false)
	var all []BatchInfo
	if len(s.canary) > 0 {
		first := s.nchunks
		for i := 0; i < len(s.canary); i += s.cfg.ChunkSize {
			s.cur = append(s.cur[:0], s.canary[i:min(i+s.cfg.ChunkSize, len(s.canary))]...)
			s.queueChunk(0)
		}
		all = append(all, BatchInfo{First: first, Last: s.nchunks - 1, Size: len(s.canary), Canary: true})
	} else if off == 1 {
		off = 0 // no recipients at all
	}
	all = append(all, s.batches...)
	if err := s.flush(ctx); err != nil {
		return nil, err
	}
	ctx2 := ctx
	p := s.pipe
	for i, b := range all {
		data, _ := json.Marshal(b)
		p.HSet(ctx2, s.k.batches, strconv.Itoa(i), data)
		if bc := s.bcounts[i]; len(bc) > 0 {
			for f, n := range bc {
				p.HIncrBy(ctx2, s.k.batch(i), f, n)
			}
		}
	}
	for o, n := range s.rejected {
		s.counts[o] += n
	}
	for l, n := range s.staged {
		s.counts["staged:"+l] += int64(n)
	}
	for f, n := range s.counts {
		p.HIncrBy(ctx2, s.k.counts, f, n)
	}
	snap, err := json.Marshal(s.cfg.Snapshot)
	if err != nil {
		return nil, fmt.Errorf("stage %s: encode snapshot: %w", s.cfg.Campaign, err)
	}
	cols, _ := json.Marshal(s.cfg.Columns)
	now := time.Now()
	p.HSet(ctx2, s.k.meta,
		"def", s.cfg.Definition, "hash", s.cfg.Hash, "snapshot", snap,
		"created_at", ms(now), "created_by", Actor{Who: s.cfg.Who, Host: s.cfg.Host}.String(), "env", s.cfg.Env,
		"total", s.total, "rejected", s.nreject, "nbatches", len(all), "nchunks", s.nchunks,
		"columns", cols, "chunk_size", s.cfg.ChunkSize, "epoch", s.epoch)
	state := StateStaged
	action := "stage"
	if start {
		state = StateRunning
		action = "start"
	}
	if s.cfg.ResumeExisting {
		action += " (resume-existing)"
	}
	p.HSet(ctx2, s.k.control, "state", string(state), "reason", "", "by", Actor{Who: s.cfg.Who, Host: s.cfg.Host}.String(),
		"at", ms(now), "approved", "0", "cur_batch", "-1", "batch_done_at", "0", "epoch", s.epoch)
	p.SAdd(ctx2, keyCampaigns, s.cfg.Campaign)
	p.SAdd(ctx2, keyActive, s.cfg.Campaign)
	audit, _ := json.Marshal(AuditEntry{At: now.UTC(), Who: s.cfg.Who, Host: s.cfg.Host, Env: s.cfg.Env, Action: action,
		Reason: fmt.Sprintf("%d recipients in %d batches, %d rejected, hash %s", s.total, len(all), s.nreject, shortHash(s.cfg.Hash))})
	p.RPush(ctx2, s.k.audit, audit)
	if _, err := p.Exec(ctx2); err != nil {
		return nil, fmt.Errorf("stage %s: write metadata: %w", s.cfg.Campaign, err)
	}
	return &StageSummary{Staged: s.total, Rejected: s.nreject, Batches: len(all), Chunks: s.nchunks, Kept: s.kept, Epoch: s.epoch}, nil
}

func shortHash(h string) string {
	if len(h) > 12 {
		return h[:12]
	}
	return h
}

// entry is a decoded ledger value: "state|attempts|unixms|code|flag|response".
type entry struct {
	State    string
	Attempts int
	At       int64
	Code     string
	Temp     bool
	Response string
}

func parseEntry(v string) entry {
	parts := strings.SplitN(v, "|", 6)
	for len(parts) < 6 {
		parts = append(parts, "")
	}
	return entry{State: parts[0], Attempts: atoi(parts[1]), At: atoi64(parts[2]), Code: parts[3], Temp: parts[4] == "t", Response: parts[5]}
}

func (e entry) encode() string {
	flag := ""
	if e.Temp {
		flag = "t"
	}
	return e.State + "|" + strconv.Itoa(e.Attempts) + "|" + strconv.FormatInt(e.At, 10) + "|" + e.Code + "|" + flag + "|" + e.Response
}
