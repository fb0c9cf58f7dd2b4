package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/redis/go-redis/v9"
)

var freeScript = loadScript("free")

// Freed is what freeing a finished campaign unlinks from Redis and what
// it keeps (Store.Free, Store.WhatFreeFrees).
type Freed struct {
	Campaign string
	State    State // done or cancelled
	// Keys are the keys unlinked (or that would be), sorted; Bytes their
	// size as MEMORY USAGE estimates it, -1 when Redis does not say (a
	// user that may not run MEMORY).
	Keys  []string
	Bytes int64
	// Ledger is how many recipients' entries the ledger kept holds, and
	// KeptKeys the keys kept (the ledger and the audit log), KeptBytes
	// their size (-1: not known).
	Ledger    int64
	KeptKeys  []string
	KeptBytes int64
	// At is when it was freed, in Redis's clock (zero: not freed, only
	// looked at).
	At time.Time
}

// NotFreeableError refuses to free Campaign, which is in State: only a
// done or cancelled campaign is freed, and not while a send stages it
// (Staging).
type NotFreeableError struct {
	Campaign string
	State    State
	Staging  bool
}

func (e *NotFreeableError) Error() string {
	if e.Staging {
		return fmt.Sprintf("campaign %q is being staged again: it is not freed while a send stages it; nothing changed", e.Campaign)
	}
	return fmt.Sprintf("campaign %q is %s: only a done or cancelled campaign is freed; nothing changed", e.Campaign, e.State)
}

// WhatFreeFrees is what Free would unlink of campaign c of environment
// env ("": any) and what it would keep, reading only: c must be done or
// cancelled (else a *NotFreeableError) and exist (else its
// *NotFoundError).
func (s *Store) WhatFreeFrees(ctx context.Context, c, env string) (Freed, error) {
	st, err := s.Status(ctx, c)
	if err != nil {
		return Freed{}, fmt.Errorf("free %s: %w", c, err)
	}
	if err := checkEnv(c, st.Env, env); err != nil {
		return Freed{}, fmt.Errorf("free %s: %w", c, err)
	}
	if st.State != StateDone && st.State != StateCancelled {
		return Freed{}, &NotFreeableError{Campaign: c, State: st.State}
	}
	k := keysFor(c)
	all, err := s.campaignKeys(ctx, k)
	if err != nil {
		return Freed{}, fmt.Errorf("free %s: list its keys: %w", c, err)
	}
	f := Freed{Campaign: c, State: st.State, KeptKeys: []string{k.audit}}
	for _, key := range all {
		switch key {
		case k.ledger:
			f.KeptKeys = append(f.KeptKeys, key)
		case k.audit, k.staging:
		default:
			f.Keys = append(f.Keys, key)
		}
	}
	slices.Sort(f.Keys)
	slices.Sort(f.KeptKeys)
	if f.Ledger, err = s.rdb.HLen(ctx, k.ledger).Result(); err != nil {
		return Freed{}, fmt.Errorf("free %s: read its ledger: %w", c, err)
	}
	f.Bytes, f.KeptBytes = s.memoryUsage(ctx, f.Keys), s.memoryUsage(ctx, f.KeptKeys)
	return f, nil
}

// memoryUsage is the sum of MEMORY USAGE of keys (an estimate), -1 when
// Redis does not answer it.
func (s *Store) memoryUsage(ctx context.Context, keys []string) int64 {
	p := s.rdb.Pipeline()
	cmds := make([]*redis.IntCmd, len(keys))
	for i, key := range keys {
		cmds[i] = p.MemoryUsage(ctx, key)
	}
	if _, err := p.Exec(ctx); err != nil && !errors.Is(err, redis.Nil) {
		return -1
	}
	var n int64
	for _, c := range cmds {
		n += c.Val()
	}
	return n
}

// Free unlinks every key of campaign c of environment env ("": any) but
// its ledger and audit log, where it appends who freed it (action
// "free"), in one step that checks first that c is done or cancelled and
// that no send stages it (lua/free.lua; else a *NotFreeableError and
// nothing changed), then takes c off the lists that name campaigns
// (tidings:campaigns, tidings:active, tidings:stagings, tidings:doubted).
// At most once holds: the ledger, with no TTL, keeps every recipient's
// outcome, so that a send of c again claims none of those it records as
// sent. A campaign whose cancel left recipients in doubt that no worker
// counted yet is freed too; they stay in doubt in the ledger (and in the
// report saved first), uncounted in the workers' metrics. Interrupted
// after its step, Free run again finds c gone (its *NotFoundError) and the
// lists are cleaned by a worker (ForgetDoubted) or stay as before: the
// caller runs it again only when the step failed.
func (s *Store) Free(ctx context.Context, c, env string, a Actor) (Freed, error) {
	f, err := s.WhatFreeFrees(ctx, c, env)
	if err != nil {
		return Freed{}, err
	}
	now, err := s.rdb.Time(ctx).Result()
	if err != nil {
		return Freed{}, fmt.Errorf("free %s: read Redis's time: %w", c, err)
	}
	k := keysFor(c)
	why := fmt.Sprintf("freed: every key but its ledger (%d recipients) and audit log unlinked (%d keys)", f.Ledger, len(f.Keys))
	v, ack, err := s.eval(ctx, freeScript, append([]string{k.control, k.staging, k.audit, k.ledger}, f.Keys...), auditJSON(now, a, "free", why))
	if err != nil {
		return Freed{}, fmt.Errorf("free %s: %w", c, err)
	}
	r, _ := v.([]any)
	code := ""
	if len(r) > 0 {
		code, _ = r[0].(string)
	}
	switch code {
	case "freed":
	case "gone":
		return Freed{}, fmt.Errorf("free %s: %w", c, s.notFound(ctx, "free", c))
	case "staging":
		return Freed{}, &NotFreeableError{Campaign: c, State: f.State, Staging: true}
	case "state":
		st, _ := r[1].(string)
		return Freed{}, &NotFreeableError{Campaign: c, State: State(st)}
	case "kept":
		return Freed{}, fmt.Errorf("free %s: refused to unlink %v, which a campaign keeps (a defect of tidings: report it); nothing changed", c, r[1])
	default:
		return Freed{}, fmt.Errorf("free %s: unexpected answer %v", c, v)
	}
	if ack != nil {
		return Freed{}, fmt.Errorf("free %s: %w", c, ack)
	}
	// The global keys live in other Cluster slots: taken off after the
	// campaign's own keys went.
	p := s.rdb.Pipeline()
	p.SRem(ctx, keyCampaigns, c)
	p.SRem(ctx, keyActive, c)
	p.SRem(ctx, keyDoubted, c)
	p.HDel(ctx, keyStagings, c)
	if _, err := p.Exec(ctx); err != nil {
		return Freed{}, fmt.Errorf("free %s: its keys are unlinked; take it off %s, %s, %s and %s: %w", c, keyCampaigns, keyActive, keyDoubted, keyStagings, err)
	}
	f.At = now.UTC()
	return f, nil
}

// freedBy is the audit entry of the `tidings free` of campaign c (action
// "free") when it is the last entry of c's audit log: the free is what
// Redis last recorded of c, on whichever host it ran. nil when the log
// ends with another entry, is empty, or cannot be read (for the words
// only: NotFoundError.Freed).
func (s *Store) freedBy(ctx context.Context, c string) *AuditEntry {
	last, err := s.rdb.LIndex(ctx, keysFor(c).audit, -1).Result()
	if err != nil {
		return nil
	}
	var e AuditEntry
	if json.Unmarshal([]byte(last), &e) != nil || e.Action != "free" {
		return nil
	}
	return &e
}
