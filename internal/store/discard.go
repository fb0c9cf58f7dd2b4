package store

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// dropStaging drops what a first staging of campaign c left when that
// staging never ended and no send stages it now (StateStagingInterrupted:
// no definition, and its record as begun): nothing of it was ever sent, since no worker sends a campaign
// without a definition. It takes the campaign's staging lease first, so
// that no send begins staging it meanwhile (and the writes of one that
// lost its lease are refused), renews it as a staging does (lease.hold)
// while it lists the campaign's keys, checks that it still holds it
// (renewed once more) right before it removes them (else a
// *LeaseLostError, nothing removed), removes every key of the campaign but its
// audit log (and the ledger of a staging after one whose meta Redis lost), where it appends the cancel (action "drop-staging", which
// the notifier does not announce), then the record and the campaign's
// place in the global sets, and lets go of the lease. It reports whether
// it dropped c, and how many recipients' entries the ledger it kept holds
// (0: none kept; the ledger and audit log kept have no TTL: they stay
// until a send of c stages it again, whose clearLost keeps the ledger
// too): false, changing nothing, for any other campaign (one that
// has a definition, one being staged, one Redis has no trace of), which
// the caller cancels as always. Interrupted half-way, it is run again:
// what is left is still an interrupted staging.
func (s *Store) dropStaging(ctx context.Context, c string, a Actor, reason string) (dropped bool, kept int64, err error) {
	k := keysFor(c)
	l := &lease{rdb: s.rdb, key: k.staging, id: "drop-" + newID(), d: cmp.Or(s.dropLease, stagingLease)}
	ok, err := l.take(ctx, a.String()+" (cancel)")
	if err != nil || !ok {
		return false, 0, wrapf(err, "cancel %s: take its staging lease", c) // held: a send stages it, refused as always
	}
	// Renewed as a staging renews its own, while the keys are listed (a
	// SCAN of the whole master, slow on a large one) and removed.
	l.hold(ctx)
	defer l.release(ctx)
	p := s.rdb.Pipeline()
	metaC := p.Exists(ctx, k.meta)
	begunC := p.HGet(ctx, keyStagings, c)
	curC := p.HExists(ctx, k.control, "cur_batch")
	ledgerC := p.HLen(ctx, k.ledger)
	if _, err := p.Exec(ctx); err != nil && !errors.Is(err, redis.Nil) {
		return false, 0, fmt.Errorf("cancel %s: read what its staging left: %w", c, err)
	}
	if metaC.Val() != 0 || begunC.Val() == "" {
		return false, 0, nil // not an interrupted first staging (absent's rule)
	}
	var b begun
	_ = json.Unmarshal([]byte(begunC.Val()), &b)
	// A staging after one whose meta Redis lost (its record says so, or,
	// begun by an earlier build, its control has the lost staging's
	// cur_batch: an ordinary first staging's has none) keeps the lost
	// staging's ledger: the staging after this drop (clearLost) keeps its
	// outcomes, and nobody it has as sent whose journal line is missing is
	// mailed again. An ordinary first staging's ledger goes: nothing of it
	// was sent.
	keepLedger := b.AfterLost || curC.Val()
	if keepLedger {
		kept = ledgerC.Val()
	}
	if err := checkEnv(c, b.Env, a.Env); err != nil {
		return false, 0, fmt.Errorf("cancel %s: %w", c, err)
	}
	left, err := s.campaignKeys(ctx, k)
	if err != nil {
		return false, 0, fmt.Errorf("cancel %s: list what its staging left: %w", c, err)
	}
	if s.afterScan != nil {
		s.afterScan()
	}
	// Still ours, and ours for another lease, right before the removal:
	// should it have run out (Redis or this process stalled for longer
	// than the lease), a send may be staging the campaign now, and its
	// keys must stay.
	if ok, err := l.held(ctx); err != nil || !ok {
		return false, 0, wrapf(cmp.Or(err, error(&LeaseLostError{Campaign: c, Lease: l.d})), "cancel %s", c)
	}
	// The cancel's time is Redis's, as a control's (lua/transition.lua):
	// the audit log is read in Redis's clock.
	now, err := s.rdb.Time(ctx).Result()
	if err != nil {
		return false, 0, fmt.Errorf("cancel %s: read Redis's time: %w", c, err)
	}
	keptWhy := ""
	if keepLedger {
		keptWhy = " but the ledger of the staging whose meta Redis lost"
	}
	why := fmt.Sprintf("cancelled its first staging, which never finished (begun by %s at %s): nothing was sent; its keys are removed%s: %s", b.By, fromMS(b.At).Format(time.RFC3339), keptWhy, reason)
	if _, err := s.pipeWait(ctx, k.audit, func(p redis.Pipeliner) {
		for _, key := range left {
			if key != k.staging && key != k.audit && (key != k.ledger || !keepLedger) {
				p.Del(ctx, key)
			}
		}
		p.RPush(ctx, k.audit, auditJSON(now, a, "drop-staging", why))
	}); err != nil {
		return false, 0, fmt.Errorf("cancel %s: remove what its staging left: %w", c, err)
	}
	// The global keys live in other Cluster slots: removed after the
	// campaign's own, so that an interruption leaves an interrupted staging.
	p = s.rdb.Pipeline()
	p.SRem(ctx, keyCampaigns, c)
	p.SRem(ctx, keyActive, c)
	p.HDel(ctx, keyStagings, c)
	if _, err := p.Exec(ctx); err != nil {
		return false, 0, fmt.Errorf("cancel %s: remove its record as begun (%s) and its place in %s: %w; run the cancel again", c, keyStagings, keyCampaigns, err)
	}
	return true, kept, nil
}

// LeaseLostError says that the cancel giving up the first staging of
// Campaign lost the campaign's staging lease before it removed anything
// (Redis, or the process, stalled for longer than Lease): a send may be
// staging the campaign now.
type LeaseLostError struct {
	Campaign string
	Lease    time.Duration
}

func (e *LeaseLostError) Error() string {
	return fmt.Sprintf("the staging lease of %s ran out while its keys were listed (Redis or this process stalled for more than %s), and a send may be staging it now: nothing was removed; run the cancel again (it is refused while a send stages it)", e.Campaign, e.Lease)
}

// globEscaper escapes the characters of a SCAN pattern (a campaign name
// of a staging is [a-z0-9-], but the name asked for may be anything).
var globEscaper = strings.NewReplacer(`\`, `\\`, "*", `\*`, "?", `\?`, "[", `\[`, "]", `\]`)

// campaignKeys returns every key of the campaign of keys k in Redis (with
// Redis Cluster, on the master of its slot, where they all are).
func (s *Store) campaignKeys(ctx context.Context, k keys) ([]string, error) {
	var c redis.Cmdable = s.rdb
	if cc, ok := s.rdb.(*redis.ClusterClient); ok {
		m, err := cc.MasterForKey(ctx, k.control)
		if err != nil {
			return nil, fmt.Errorf("find the master of %s: %w", k.control, err)
		}
		c = m
	}
	var out []string
	it := c.Scan(ctx, 0, globEscaper.Replace(k.prefix)+"*", 1000).Iterator()
	for it.Next(ctx) {
		out = append(out, it.Val())
	}
	return out, it.Err()
}
