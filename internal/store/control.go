package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// Control is a campaign's control state.
type Control struct {
	State       State     `json:"state"`
	Reason      string    `json:"reason,omitempty"`
	By          string    `json:"by,omitempty"`
	At          time.Time `json:"at"`
	Approved    bool      `json:"approved"`
	CurBatch    int       `json:"current_batch"` // highest released batch, -1 before the first
	BatchDoneAt time.Time `json:"batch_done_at"` // when CurBatch completed and passed its gate (zero: not yet)
	Epoch       int64     `json:"epoch"`
}

// Control reads the control state of campaign c.
func (s *Store) Control(ctx context.Context, c string) (*Control, error) {
	m, err := s.rdb.HGetAll(ctx, keysFor(c).control).Result()
	if err != nil {
		return nil, fmt.Errorf("read control of %s: %w", c, err)
	}
	if len(m) == 0 {
		return nil, notFound("read control", c)
	}
	return parseControl(m), nil
}

func parseControl(m map[string]string) *Control {
	ctl := &Control{
		State: State(m["state"]), Reason: m["reason"], By: m["by"], At: fromMS(atoi64(m["at"])),
		Approved: m["approved"] == "1", CurBatch: -1, BatchDoneAt: fromMS(atoi64(m["batch_done_at"])), Epoch: atoi64(m["epoch"]),
	}
	if v, ok := m["cur_batch"]; ok {
		ctl.CurBatch = atoi(v)
	}
	return ctl
}

// ControlState reads only the state and epoch (the worker's 200 ms poll).
func (s *Store) ControlState(ctx context.Context, c string) (State, int64, error) {
	v, err := s.rdb.HMGet(ctx, keysFor(c).control, "state", "epoch").Result()
	if err != nil {
		return "", 0, fmt.Errorf("read control of %s: %w", c, err)
	}
	st, _ := v[0].(string)
	ep, _ := v[1].(string)
	return State(st), atoi64(ep), nil
}

// transitionScript moves the control state from one of ARGV[1] (comma list)
// to ARGV[2], sets extra fields and appends the audit entry.
// KEYS: 1 control, 2 audit, 3 active set, 4 win, 5 winerr.
// ARGV: 1 from, 2 to, 3 reason, 4 by, 5 at, 6 audit json, 7 reset window,
// 8 campaign name, 9.. field/value pairs.
var transitionScript = redis.NewScript(`
local st = redis.call('HGET', KEYS[1], 'state')
if not st then return {'', 0} end
if not string.find(',' .. ARGV[1] .. ',', ',' .. st .. ',', 1, true) then return {st, 0} end
redis.call('HSET', KEYS[1], 'state', ARGV[2], 'reason', ARGV[3], 'by', ARGV[4], 'at', ARGV[5])
for i = 9, #ARGV, 2 do redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1]) end
if ARGV[6] ~= '' then redis.call('RPUSH', KEYS[2], ARGV[6]) end
if ARGV[7] == '1' then redis.call('DEL', KEYS[4], KEYS[5]) end
local name = ARGV[8]
if ARGV[2] == 'cancelled' or ARGV[2] == 'done' then
  redis.call('SREM', KEYS[3], name)
else
  redis.call('SADD', KEYS[3], name)
end
return {st, 1}
`)

// Transition atomically moves campaign c from one of the states in from to
// state to, recording action in the audit log. It reports the state found
// and whether it moved. fields are extra control fields to set.
func (s *Store) Transition(ctx context.Context, c string, from []State, to State, a Actor, action, reason string, resetWindow bool, fields ...string) (State, bool, error) {
	k := keysFor(c)
	now := time.Now()
	fs := make([]string, len(from))
	for i, f := range from {
		fs[i] = string(f)
	}
	audit := ""
	if action != "" {
		b, _ := json.Marshal(AuditEntry{At: now.UTC(), Who: a.Who, Host: a.Host, Env: a.Env, Action: action, Reason: reason})
		audit = string(b)
	}
	rw := "0"
	if resetWindow {
		rw = "1"
	}
	args := []any{strings.Join(fs, ","), string(to), reason, a.String(), ms(now), audit, rw, c}
	for _, f := range fields {
		args = append(args, f)
	}
	res, err := transitionScript.Run(ctx, s.rdb, []string{k.control, k.audit, keyActive, k.win, k.winerr}, args...).Slice()
	if err != nil {
		return "", false, fmt.Errorf("set %s to %s: %w", c, to, err)
	}
	st, _ := res[0].(string)
	if st == "" {
		return "", false, notFound(fmt.Sprintf("set %s to %s", c, to), c)
	}
	return State(st), res[1].(int64) == 1, nil
}

// Audit appends an entry to the audit log of c without changing state.
func (s *Store) Audit(ctx context.Context, c string, a Actor, action, reason string) error {
	b, _ := json.Marshal(AuditEntry{At: time.Now().UTC(), Who: a.Who, Host: a.Host, Env: a.Env, Action: action, Reason: reason})
	if err := s.rdb.RPush(ctx, keysFor(c).audit, b).Err(); err != nil {
		return fmt.Errorf("audit %s: %w", c, err)
	}
	return nil
}

func invalid(c, action string, st State, what string) error {
	return fmt.Errorf("%s %s: %w: the campaign is %s; %s", action, c, ErrInvalidTransition, st, what)
}

// Pause stops campaign c: workers stop claiming within a second (sends
// already handed to SMTP finish). Pausing a paused campaign is a no-op.
func (s *Store) Pause(ctx context.Context, c string, a Actor, reason string) error {
	st, ok, err := s.Transition(ctx, c, []State{StateRunning, StateAwaitingApproval, StateStaged}, StatePaused, a, "pause", reason, false)
	if err != nil || ok || st == StatePaused {
		return err
	}
	return invalid(c, "pause", st, "there is nothing to pause")
}

// Resume continues a paused (or staged) campaign where it stopped and resets
// the auto-pause window.
func (s *Store) Resume(ctx context.Context, c string, a Actor, reason string) error {
	st, ok, err := s.Transition(ctx, c, []State{StatePaused, StateStaged}, StateRunning, a, "resume", reason, true)
	if err != nil || ok || st == StateRunning {
		return err
	}
	switch st {
	case StateAwaitingApproval:
		return invalid(c, "resume", st, fmt.Sprintf("check the canary and run tidings approve %s", c))
	case StateCancelled:
		return invalid(c, "resume", st, fmt.Sprintf("a cancelled campaign cannot be resumed; to send the remaining recipients stage it again with tidings send --resume-existing (nobody already sent is sent again)"))
	default:
		return invalid(c, "resume", st, "there is nothing to resume")
	}
}

// Approve releases a campaign waiting after its canary. Approving a campaign
// whose canary is still running (or paused) approves it in advance.
func (s *Store) Approve(ctx context.Context, c string, a Actor, reason string) error {
	st, ok, err := s.Transition(ctx, c, []State{StateAwaitingApproval}, StateRunning, a, "approve", reason, true, "approved", "1")
	if err != nil || ok {
		return err
	}
	switch st {
	case StateRunning, StatePaused, StateStaged:
		if err := s.rdb.HSet(ctx, keysFor(c).control, "approved", "1").Err(); err != nil {
			return fmt.Errorf("approve %s: %w", c, err)
		}
		return s.Audit(ctx, c, a, "approve", reason)
	default:
		return invalid(c, "approve", st, "there is nothing to approve")
	}
}

// CancelWait is how long Cancel waits for in-flight sends before marking
// every unsent recipient cancelled.
var CancelWait = 1500 * time.Millisecond

// cancelScript marks the non-terminal recipients of one chunk cancelled (or
// in-doubt when still "sending" after the wait).
// KEYS: 1 ledger, 2 counts, 3 b:<batch>; ARGV: 1 now, then id, lang pairs.
var cancelScript = redis.NewScript(`
local n = 0
for i = 2, #ARGV, 2 do
  local id, lang = ARGV[i], ARGV[i + 1]
  local cur = redis.call('HGET', KEYS[1], id)
  local st, a = 'none', '0'
  if cur then st, a = string.match(cur, '^([^|]*)|(%d+)|') end
  local to = nil
  if st == 'none' or st == 'deferred' then to = 'cancelled' elseif st == 'sending' then to = 'in-doubt' end
  if to then
    local resp = 'cancelled'
    if to == 'in-doubt' then resp = 'still sending when the campaign was cancelled; the SMTP server may have accepted it' end
    redis.call('HSET', KEYS[1], id, to .. '|' .. a .. '|' .. ARGV[1] .. '|||' .. resp)
    redis.call('HINCRBY', KEYS[2], to, 1)
    redis.call('HINCRBY', KEYS[2], 'lang:' .. lang .. ':' .. to, 1)
    redis.call('HINCRBY', KEYS[3], to, 1)
    n = n + 1
  end
end
return n
`)

// Cancel stops campaign c for good: it sets the state cancelled, waits up
// to CancelWait for in-flight sends to be recorded, then records every
// recipient not yet sent as cancelled (one still "sending" as in-doubt), so
// that counts reconcile. It returns how many recipients it cancelled.
func (s *Store) Cancel(ctx context.Context, c string, a Actor, reason string) (int, error) {
	st, ok, err := s.Transition(ctx, c, []State{StateRunning, StateAwaitingApproval, StatePaused, StateStaged}, StateCancelled, a, "cancel", reason, false)
	if err != nil {
		return 0, err
	}
	if !ok && st != StateCancelled {
		return 0, invalid(c, "cancel", st, "it has finished; nothing is left to cancel")
	}
	k := keysFor(c)
	deadline := time.Now().Add(CancelWait)
	for time.Now().Before(deadline) {
		n, err := s.rdb.HLen(ctx, k.running).Result()
		if err != nil {
			return 0, fmt.Errorf("cancel %s: %w", c, err)
		}
		if n == 0 {
			break
		}
		select {
		case <-ctx.Done():
			return 0, fmt.Errorf("cancel %s: %w", c, ctx.Err())
		case <-time.After(50 * time.Millisecond):
		}
	}
	total := 0
	err = s.eachChunk(ctx, c, func(batch, chunk int, recs []Recipient) error {
		args := make([]any, 0, 1+2*len(recs))
		args = append(args, ms(time.Now()))
		for _, r := range recs {
			args = append(args, r.ID, r.Lang)
		}
		n, err := cancelScript.Run(ctx, s.rdb, []string{k.ledger, k.counts, k.batch(batch)}, args...).Int()
		total += n
		return err
	})
	if err != nil {
		return total, fmt.Errorf("cancel %s: %w", c, err)
	}
	if err := s.rdb.Del(ctx, k.retry, k.interrupted).Err(); err != nil {
		return total, fmt.Errorf("cancel %s: %w", c, err)
	}
	return total, nil
}

// eachChunk calls fn for every chunk of c in batch order, reading chunks
// with pipelined GETs.
func (s *Store) eachChunk(ctx context.Context, c string, fn func(batch, chunk int, recs []Recipient) error) error {
	bs, err := s.Batches(ctx, c)
	if err != nil {
		return err
	}
	k := keysFor(c)
	type item struct{ batch, chunk int }
	var todo []item
	for b, bi := range bs {
		for n := bi.First; n <= bi.Last; n++ {
			todo = append(todo, item{b, n})
		}
	}
	for len(todo) > 0 {
		part := todo[:min(len(todo), 32)]
		todo = todo[len(part):]
		p := s.rdb.Pipeline()
		cmds := make([]*redis.StringCmd, len(part))
		for i, it := range part {
			cmds[i] = p.Get(ctx, k.chunk(it.chunk))
		}
		if _, err := p.Exec(ctx); err != nil && !errors.Is(err, redis.Nil) {
			return fmt.Errorf("read chunks: %w", err)
		}
		for i, it := range part {
			var recs []Recipient
			if err := json.Unmarshal([]byte(cmds[i].Val()), &recs); err != nil {
				return fmt.Errorf("decode chunk %d: %w", it.chunk, err)
			}
			if err := fn(it.batch, it.chunk, recs); err != nil {
				return err
			}
		}
	}
	return nil
}

// Batches returns the batch table of c, indexed by batch number.
func (s *Store) Batches(ctx context.Context, c string) ([]BatchInfo, error) {
	m, err := s.rdb.HGetAll(ctx, keysFor(c).batches).Result()
	if err != nil {
		return nil, fmt.Errorf("read batches of %s: %w", c, err)
	}
	out := make([]BatchInfo, len(m))
	for f, v := range m {
		i, err := strconv.Atoi(f)
		if err != nil || i < 0 || i >= len(out) {
			return nil, fmt.Errorf("read batches of %s: bad batch %q", c, f)
		}
		if err := json.Unmarshal([]byte(v), &out[i]); err != nil {
			return nil, fmt.Errorf("read batches of %s: %w", c, err)
		}
	}
	return out, nil
}
