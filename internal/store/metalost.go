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

// clearLost clears, before a first staging of campaign c (keys k) writes
// anything but its control, what a staging whose meta Redis lost left: a
// campaign cancelled without its meta (cancel of one whose meta Redis
// lost) is staged again as a first staging (Meta finds none), which must
// not add its counters to the lost staging's, nor leave its chunks. As a
// staging again clears the staging before (Stager.open), its ledger and
// audit log stay: nobody the ledger has as sent is sent again. One not
// cancelled is refused, writing nothing, with a *MetaLostError
// (metaLost). It reports whether it cleared a lost staging (the first
// staging after the cancel, or that staging interrupted and run again:
// Stager.afterLost). A staging after the lost one that a cancel dropped
// (dropStaging) left no control but the lost staging's ledger, which
// dropStaging keeps: the staging after the drop is one after the lost
// staging too (else nobody the ledger has as sent, whose journal line is
// missing, would be known as sent: mailed twice); so is one whose record
// as begun says so (AfterLost) interrupted and run again. Nothing is done
// for any other campaign (a first staging that was dropped has no ledger:
// dropStaging removes it). The caller holds the staging lease.
func (s *Store) clearLost(ctx context.Context, c, env string, k keys) (bool, error) {
	if clear, err := s.metaLost(ctx, c, env, k); err != nil || !clear {
		return false, err
	}
	left, err := s.campaignKeys(ctx, k)
	if err != nil {
		return false, fmt.Errorf("list what the staging whose meta Redis lost left: %w", err)
	}
	del := k.ofStaging()
	for _, key := range left {
		if strings.HasPrefix(key, k.prefix+"chunk:") {
			del = append(del, key)
		}
	}
	if err := s.rdb.Del(ctx, del...).Err(); err != nil {
		return false, fmt.Errorf("clear what the staging whose meta Redis lost left: %w", err)
	}
	return true, nil
}

// metaLost reads whether campaign c (keys k) is one whose meta Redis
// lost while its control stayed, and returns a *MetaLostError (env: the
// staging's, for the commands it names) when it was not cancelled: its
// control has the cur_batch a staging's end writes, and no first staging
// of it was begun since (keyStagings has no record of one); staged as a
// first staging, it would be written on top of what the lost staging
// left, whose counts could make it done with recipients never sent. clear
// is true when what the lost staging left is to be cleared before a first
// staging: cancelled, or (a cur_batch and a record as begun) a first
// staging after the cancel that was interrupted, run again, or one after
// a drop of such a staging (no control, the ledger kept; or its record as
// begun says AfterLost). A first staging interrupted, run again (no
// cur_batch), is neither.
func (s *Store) metaLost(ctx context.Context, c, env string, k keys) (clear bool, err error) {
	p := s.rdb.Pipeline()
	ctlC := p.HMGet(ctx, k.control, "state", "cur_batch")
	metaC := p.Exists(ctx, k.meta)
	ledgerC := p.Exists(ctx, k.ledger)
	begunC := p.HGet(ctx, keyStagings, c)
	if _, err := p.Exec(ctx); err != nil && !errors.Is(err, redis.Nil) {
		return false, fmt.Errorf("read its control: %w", err)
	}
	var b begun
	_ = json.Unmarshal([]byte(begunC.Val()), &b)
	st, _ := ctlC.Val()[0].(string)
	switch {
	case metaC.Val() != 0:
		return false, nil
	case st == "" && ledgerC.Val() != 0:
		// Dropped after the lost one (dropStaging kept its ledger).
	case st == "":
		return false, nil
	case b.AfterLost:
		// A staging after the lost one, interrupted, run again.
	case State(st) != StateCancelled && ctlC.Val()[1] != nil && begunC.Val() == "":
		return false, &MetaLostError{Campaign: c, Env: env, State: State(st)}
	case State(st) != StateCancelled && ctlC.Val()[1] == nil:
		return false, nil // a first staging interrupted, run again
	}
	return true, nil
}

// CheckMetaLost returns a *MetaLostError when Redis lost the meta of
// campaign c and it was not cancelled since (metaLost): a send refuses it
// so before it stages anything (env names the environment in the commands
// it names).
func (s *Store) CheckMetaLost(ctx context.Context, c, env string) error {
	if _, err := s.metaLost(ctx, c, env, keysFor(c)); err != nil {
		return fmt.Errorf("stage %s: %w", c, err)
	}
	return nil
}

// PauseNext is what can be done next with campaign c after a Pause that
// returned already (nil: it paused it): already.NextOr(NextResume), but
// NextRecover when Redis lost c's meta and it was not cancelled since
// (metaLost): resuming it would send again what Redis forgot. With it, as
// Format, a *FormatError when c is of another stored format (only a pause
// works from this build). It reads c's stored format (Format's one round
// trip), and its control only when the meta is missing: a pause of a
// campaign whose meta is there costs no more than before.
func (s *Store) PauseNext(ctx context.Context, c string, already *Control) (Next, error) {
	k := keysFor(c)
	f, found, err := s.formatOf(ctx, k)
	if !found && err == nil {
		if _, lost := s.metaLost(ctx, c, "", k); errors.As(lost, new(*MetaLostError)) {
			return NextRecover, nil
		}
	}
	if found {
		err = checkFormat(c, f)
	}
	return already.NextOr(NextResume), err
}

// keepLost keeps, in a first staging after one whose meta Redis lost
// (clearLost: its ledger stays), the ledger's entries of the recipients of
// the chunks this flush wrote (sg.lookups), by id, as a staging again keeps
// them (keep): a final outcome a staging again keeps (sent, in doubt,
// skipped, a permanent failure) is counted as the recipient's; a claim
// (sending) is left to the claim of this staging, which makes it in doubt
// and counts it (lua/step.lua); any other (a deferral, a cancel, a
// refusal) is cleared, and the recipient sent. Before, each kept entry's
// claim was skipped and counted nowhere: the campaign's outcomes never
// added up to its total, and it ran on for ever. By id alone: the lost
// staging's chunks, which had its ids' mailboxes, are gone (the ledger
// step, whose claim skips a recipient with such an entry, goes by id too).
func (sg *Stager) keepLost(ctx context.Context) error {
	var ids []string
	for _, l := range sg.lookups {
		for _, r := range l.recs {
			ids = append(ids, r.ID)
		}
	}
	if len(ids) == 0 {
		return nil
	}
	ents, err := sg.s.rdb.HMGet(ctx, sg.k.ledger, ids...).Result()
	if err != nil {
		return fmt.Errorf("stage %s: look up the ledger the staging whose meta Redis lost left: %w", sg.cfg.Campaign, err)
	}
	var clear []string
	for _, l := range sg.lookups {
		for _, r := range l.recs {
			ent, _ := ents[0].(string)
			ents = ents[1:]
			switch e := parseEntry(ent); {
			case ent == "", e.State == ledgerSending:
			case keeps(ent):
				sg.count(r, l.batch, prior{entry: ent, from: r.ID}, e.State)
			default:
				clear = append(clear, r.ID)
			}
		}
	}
	sg.lookups = sg.lookups[:0]
	if len(clear) > 0 {
		return wrapf(sg.s.rdb.HDel(ctx, sg.k.ledger, clear...).Err(), "stage %s: clear the ledger entries the staging whose meta Redis lost left", sg.cfg.Campaign)
	}
	return nil
}

// MetaLost says what happened to a campaign whose meta Redis lost while
// its control stayed (Status.MetaLost), and MetaLostMeans what it means:
// status (statusview.Lost), the refusal of a control action on it
// (MetaLostError with an Action) and its cancel (Cancelled.Say) say them
// alike.
const (
	MetaLost      = "Redis lost this campaign's meta (part of its state: an eviction, a DEL)"
	MetaLostMeans = "its definition, batches and languages are unknown, no worker sends it, and its ledger may have lost deliveries too"
)

// MetaLostError refuses to stage campaign Campaign, whose meta Redis lost
// while its control says State (not cancelled): Meta finds none, so the
// staging would be a first one, written on top of what the lost staging
// left (its counters, chunks, run). Its recovery is its cancel first
// (which goes through without its meta), then the staging again excluding
// the deliveries the workers' journals recorded; Env is the environment
// to name in the commands.
//
// With Action set it refuses that control action instead (resume,
// approve: a Transition that took the missing meta for a staging under
// way), in the words status says it with (MetaLost, MetaLostMeans); the
// caller adds the recovery (NextRecover), which names the campaign file.
type MetaLostError struct {
	Campaign, Env string
	State         State
	Action        string
}

func (e *MetaLostError) Error() string {
	if e.Action != "" {
		return fmt.Sprintf("cannot %s %s: %s: %s", e.Action, e.Campaign, MetaLost, MetaLostMeans)
	}
	env := ""
	if e.Env != "" {
		env = " --env " + e.Env
	}
	return fmt.Sprintf("campaign %q: Redis lost its meta (part of its state: an eviction, a DEL) while it is %s, and a staging now would be written on top of what the lost staging left: nothing was written; cancel it first (tidings cancel %s%s --reason \"state loss\"), copy every worker's journal directory to one place, then run this send again with --resume-existing --exclude-delivered JOURNAL_DIR (one --exclude-delivered per directory): nobody the journals or Redis's ledger have as sent is mailed again",
		e.Campaign, e.State, e.Campaign, env)
}
