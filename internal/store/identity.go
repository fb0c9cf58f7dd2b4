package store

import (
	"context"
	"errors"
	"fmt"

	"github.com/redis/go-redis/v9"

	"github.com/tidings-mail/tidings/internal/address"
)

// A recipient is their mailbox (address.Key), but the ledger, the journals
// and the report name a recipient by id. A re-staging (ResumeExisting)
// matches each row's earlier outcome by both, with two hashes kept across
// stagings:
//
//	tidings:{c}:ids        id -> the mailbox it was last staged for
//	tidings:{c}:mailboxes  mailbox -> the id it was last staged under
//
// Neither holds a recipient whose id is its mailbox (the default id): an
// absent field means "itself". A first staging writes neither; a re-staging
// records the pairs of the staging before it from its chunks and rejects
// (recordIdentities: meta "ids_of" names the staging recorded), then its
// own as it stages them. A row keeps the outcome under its own id only when
// that id was last staged for its mailbox; otherwise it carries the outcome
// its mailbox has under the id it was last staged under (a copy: the old
// entry stays, as the journals name it). An id that holds the outcome of
// another mailbox is a conflict (IDConflict): the staging refuses it.

// IDConflict is a recipient whose id holds the earlier outcome of another
// mailbox: staging it would make the ledger, the report and the journals
// disagree about who received what, so a re-staging refuses it.
type IDConflict struct {
	Line    int
	ID      string
	Email   string // the row's address
	Owner   string // the mailbox whose outcome the id holds
	Outcome string // that outcome: sent, in-doubt, failed, skipped (sending: in doubt)
}

// IDConflictError refuses a re-staging in which ids hold the earlier
// outcomes of other mailboxes: Conflicts are the first of them, Total
// counts them all.
type IDConflictError struct {
	Campaign  string
	Conflicts []IDConflict
	Total     int
}

func (e *IDConflictError) Error() string {
	return fmt.Sprintf("%d recipient id(s) of campaign %s hold the earlier outcome of another mailbox (line %d: id %q)", e.Total, e.Campaign, e.Conflicts[0].Line, e.Conflicts[0].ID)
}

// MaxConflicts is how many conflicts an IDConflictError lists.
const MaxConflicts = 20

// prior is what a re-staging found of one recipient's earlier stagings.
type prior struct {
	entry    string // the ledger entry it keeps ("": none)
	from     string // the id entry is under (another id: carried over)
	conflict *IDConflict
	// known: the campaign has an earlier outcome of this recipient (kept
	// or not), under its id or under the id its mailbox was last staged
	// under.
	known bool
	// As read, for the index's update: the mailbox the row's id was last
	// staged for, and the id the row's mailbox was last staged under (nil:
	// itself).
	owner, last any
}

// keeps reports whether ledger entry v is one a re-staging keeps (never
// sent again): sent, in doubt, failed for good, skipped, or left sending.
func keeps(v any) bool {
	str, ok := v.(string)
	if !ok {
		return false
	}
	e := parseEntry(str)
	switch e.State {
	case OutcomeSent, OutcomeInDoubt, OutcomeSkipped, ledgerSending:
		return true
	case OutcomeFailed:
		return !e.Temp
	}
	return false
}

func strOr(v any, def string) string {
	if s, ok := v.(string); ok {
		return s
	}
	return def
}

// priors looks up the earlier outcomes of recs (their Key set) in two
// round trips: each id's entry and the mailbox it was staged for, each
// mailbox's last id; then the entries under those other ids.
func (s *Store) priors(ctx context.Context, k keys, recs []Recipient) ([]prior, error) {
	if len(recs) == 0 {
		return nil, nil
	}
	ids, boxes := make([]string, len(recs)), make([]string, len(recs))
	for i, r := range recs {
		ids[i], boxes[i] = r.ID, r.Key
	}
	p := s.rdb.Pipeline()
	entC := p.HMGet(ctx, k.ledger, ids...)
	ownC := p.HMGet(ctx, k.ids, ids...)
	lastC := p.HMGet(ctx, k.mailboxes, boxes...)
	if _, err := p.Exec(ctx); err != nil {
		return nil, fmt.Errorf("look up earlier outcomes: %w", err)
	}
	out := make([]prior, len(recs))
	var again []int // rows whose mailbox was last staged under another id
	for i, r := range recs {
		pr := &out[i]
		pr.owner, pr.last = ownC.Val()[i], lastC.Val()[i]
		ent := entC.Val()[i]
		switch owner := strOr(pr.owner, r.ID); {
		case ent == nil:
		case owner == r.Key:
			pr.entry, pr.from, pr.known = ent.(string), r.ID, true
		case keeps(ent):
			pr.conflict = &IDConflict{Line: r.Line, ID: r.ID, Email: r.Email, Owner: owner, Outcome: parseEntry(ent.(string)).State}
			continue
		}
		if last := strOr(pr.last, r.Key); !keeps(pr.entry) && last != r.ID {
			again = append(again, i)
		}
	}
	if len(again) == 0 {
		return out, nil
	}
	from := make([]string, len(again))
	for j, i := range again {
		from[j] = strOr(out[i].last, recs[i].Key)
	}
	p = s.rdb.Pipeline()
	entC = p.HMGet(ctx, k.ledger, from...)
	ownC = p.HMGet(ctx, k.ids, from...)
	if _, err := p.Exec(ctx); err != nil {
		return nil, fmt.Errorf("look up earlier outcomes by mailbox: %w", err)
	}
	for j, i := range again {
		ent := entC.Val()[j]
		if ent == nil || strOr(ownC.Val()[j], from[j]) != recs[i].Key {
			continue
		}
		out[i].known = true
		if keeps(ent) {
			out[i].entry, out[i].from = ent.(string), from[j]
		}
	}
	return out, nil
}

// index queues the writes that record r as staged under its id, given
// what priors read (owner, last): only what changes.
func index(ctx context.Context, p redis.Pipeliner, k keys, r Recipient, owner, last any) {
	switch {
	case r.ID != r.Key:
		if strOr(owner, r.ID) != r.Key {
			p.HSet(ctx, k.ids, r.ID, r.Key)
		}
		if strOr(last, r.Key) != r.ID {
			p.HSet(ctx, k.mailboxes, r.Key, r.ID)
		}
	default:
		if owner != nil {
			p.HDel(ctx, k.ids, r.ID)
		}
		if last != nil {
			p.HDel(ctx, k.mailboxes, r.Key)
		}
	}
}

// recordIdentities records in the index the (id, mailbox) pairs of the
// staging before this one (stage), from its chunks (its batch table's)
// and the rows its rejects record as skipped (their ledger entries), unless
// the index holds them already (idsOf is stage). It only adds what was
// true: the campaign's state is not changed.
func (sg *Stager) recordIdentities(ctx context.Context, stage, idsOf string) error {
	if stage == "" || stage == idsOf {
		return nil
	}
	// An empty index (a campaign whose ids have always been its addresses)
	// has nothing to delete: only pairs of other ids are written.
	n, err := sg.s.rdb.Exists(ctx, sg.k.ids, sg.k.mailboxes).Result()
	if err != nil {
		return fmt.Errorf("read the index of ids: %w", err)
	}
	empty := n == 0
	write := func(recs []Recipient) error {
		p := sg.s.rdb.Pipeline()
		for _, r := range recs {
			if key := address.KeyOf(r.Email); r.ID != key {
				p.HSet(ctx, sg.k.ids, r.ID, key)
				p.HSet(ctx, sg.k.mailboxes, key, r.ID)
				empty = false
			} else if !empty {
				p.HDel(ctx, sg.k.ids, r.ID)
				p.HDel(ctx, sg.k.mailboxes, key)
			}
		}
		_, err := p.Exec(ctx)
		return wrapf(err, "record the ids of the earlier staging")
	}
	// A chunk Redis lost is passed over: its recipients' entries stay
	// matched by id.
	err = sg.s.eachChunk(ctx, sg.cfg.Campaign, func(_, _ int, recs []Recipient) error { return write(recs) })
	if lost := (*LostChunksError)(nil); err != nil && !errors.As(err, &lost) {
		return err
	}
	var skipped []Recipient
	err = sg.s.Rejects(ctx, sg.cfg.Campaign, func(r Row) error {
		if r.Outcome == OutcomeSkipped && r.ID != "" {
			skipped = append(skipped, Recipient{ID: r.ID, Email: r.Email})
		}
		return nil
	})
	if err == nil {
		err = write(skipped)
	}
	if err != nil {
		return err
	}
	return sg.s.rdb.HSet(ctx, sg.k.meta, "ids_of", stage).Err()
}

// RowCheck is what Check found of recipients of a re-staging.
type RowCheck struct {
	Conflicts []IDConflict // ids that hold the earlier outcome of another mailbox
	// New are the recipients the campaign has no earlier outcome of, under
	// their id or their mailbox's earlier id: new to it, when it is done.
	New []Recipient
}

// Check looks up, before anything is staged, whether recipients of a
// re-staging (ResumeExisting of a campaign that exists) have ids that hold
// the earlier outcome of another mailbox, and which are new to the
// campaign; it writes nothing. A staging that stages such a conflict
// fails at Finish (*IDConflictError).
func (sg *Stager) Check(ctx context.Context, recs []Recipient) (RowCheck, error) {
	var out RowCheck
	if !sg.exists {
		return out, nil
	}
	for i := range recs {
		if recs[i].Key == "" {
			recs[i].Key = address.KeyOf(recs[i].Email)
		}
	}
	prs, err := sg.s.priors(ctx, sg.k, recs)
	if err != nil {
		return out, fmt.Errorf("stage %s: %w", sg.cfg.Campaign, err)
	}
	for i, pr := range prs {
		switch {
		case pr.conflict != nil:
			out.Conflicts = append(out.Conflicts, *pr.conflict)
		case !pr.known:
			out.New = append(out.New, recs[i])
		}
	}
	return out, nil
}
