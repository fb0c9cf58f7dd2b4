package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/redis/go-redis/v9"
)

// metaLostStatus is the status of campaign c whose meta Meta did not find
// (err, a *NotFoundError) while Redis still has its control: Redis lost
// its meta (part of its state: an eviction, a DEL), and no worker sends
// it. The status has its control (a worker's pause for state loss, or the
// state it was in), its counts, its total (the control's) and its audit
// log, and MetaLost: its definition, batches and languages are unknown.
// err when Redis has no control of c either (it has no trace of it: a
// campaign never staged, or dropped), or when its audit log names another
// environment than the store's.
func (s *Store) metaLostStatus(ctx context.Context, c string, err error) (*Status, error) {
	k := keysFor(c)
	p := s.rdb.Pipeline()
	ctlC := p.HGetAll(ctx, k.control)
	cntC := p.HMGet(ctx, k.counts, Outcomes...)
	audC := p.LRange(ctx, k.audit, 0, -1)
	if _, perr := p.Exec(ctx); perr != nil {
		return nil, fmt.Errorf("read status of %s: %w", c, perr)
	}
	if ctlC.Val()["state"] == "" {
		return nil, err
	}
	st := blank(c, s.cfg.Env, "")
	st.Control, st.MetaLost, st.Total = *parseControl(ctlC.Val()), true, atoi64(ctlC.Val()["total"])
	for i, v := range cntC.Val() {
		n, _ := v.(string)
		st.Counts[Outcomes[i]] = atoi64(n)
	}
	st.Counts[OutcomePending] = st.Total - Terminal(st.Counts) // as Status counts it
	env := ""
	for _, a := range audC.Val() {
		var e AuditEntry
		if json.Unmarshal([]byte(a), &e) != nil {
			e = AuditEntry{Action: AuditUnreadable, Reason: fmt.Sprintf("an audit entry tidings cannot read: %.200q", a)}
		}
		if env == "" {
			env = e.Env // the staging's: the first entry that names one
		}
		st.Audit = append(st.Audit, e)
	}
	if eerr := checkEnv(c, env, s.cfg.Env); eerr != nil {
		return nil, eerr
	}
	if st.Env == "" {
		st.Env = env
	}
	return st, nil
}

// clearLost clears, before a first staging of campaign k writes anything
// but its control, what a staging whose meta Redis lost left: a campaign
// cancelled without its meta (cancel of one whose meta Redis lost) is
// staged again as a first staging (Meta finds none), which must not add
// its counters to the lost staging's, nor leave its chunks. As a staging
// again clears the staging before (Stager.open), its ledger and audit log
// stay: nobody the ledger has as sent is sent again. Nothing is done for
// any other campaign. The caller holds the staging lease.
func (s *Store) clearLost(ctx context.Context, k keys) error {
	p := s.rdb.Pipeline()
	stC := p.HGet(ctx, k.control, "state")
	metaC := p.Exists(ctx, k.meta)
	if _, err := p.Exec(ctx); err != nil && !errors.Is(err, redis.Nil) {
		return fmt.Errorf("read its control: %w", err)
	}
	if State(stC.Val()) != StateCancelled || metaC.Val() != 0 {
		return nil
	}
	left, err := s.campaignKeys(ctx, k)
	if err != nil {
		return fmt.Errorf("list what the staging whose meta Redis lost left: %w", err)
	}
	del := k.ofStaging()
	for _, key := range left {
		if strings.HasPrefix(key, k.prefix+"chunk:") {
			del = append(del, key)
		}
	}
	if err := s.rdb.Del(ctx, del...).Err(); err != nil {
		return fmt.Errorf("clear what the staging whose meta Redis lost left: %w", err)
	}
	return nil
}
