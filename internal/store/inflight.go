package store

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/redis/go-redis/v9"
)

// InFlight counts the recipients of campaign c claimed and not recorded:
// their ledger entries are "sending" (each claimed by a worker before its
// message went to the SMTP server, and not yet given an outcome). Read
// after a pause, it is how many messages may still be delivered, at most:
// lua/step.lua claims nobody once the campaign is not running, a worker
// finishes the messages it handed to the SMTP server and gives back the
// claims of its window it had not begun to send. Only the chunks of the batches released that are
// not finished (lua/chunk_end.lua) can hold a claim, so only theirs are
// read: not the whole ledger of a campaign of a million.
func (s *Store) InFlight(ctx context.Context, c string) (int, error) {
	k := keysFor(c)
	p := s.rdb.Pipeline()
	cur := p.HGet(ctx, k.control, "cur_batch")
	fin := p.SMembers(ctx, k.finished)
	if _, err := p.Exec(ctx); err != nil && !errors.Is(err, redis.Nil) {
		return 0, fmt.Errorf("count the messages in flight of %s: %w", c, err)
	}
	released, err := strconv.Atoi(cur.Val())
	if err != nil || released < 0 { // no batch released (being staged, or staged): nobody claimed
		return 0, nil
	}
	m, err := s.Meta(ctx, c, false)
	if err != nil {
		return 0, fmt.Errorf("count the messages in flight of %s: %w", c, err)
	}
	finished := make(map[string]bool, len(fin.Val()))
	for _, n := range fin.Val() {
		finished[n] = true
	}
	var chunks []int
	for b := 0; b <= released && b < len(m.Batches); b++ {
		for n := m.Batches[b].First; n <= m.Batches[b].Last; n++ {
			if !finished[strconv.Itoa(n)] {
				chunks = append(chunks, n)
			}
		}
	}
	sending := 0
	var ids []string
	count := func() error { // the ledger entries of ids that are claims
		if len(ids) == 0 {
			return nil
		}
		es, err := s.rdb.HMGet(ctx, k.ledger, ids...).Result()
		if err != nil {
			return fmt.Errorf("read the ledger: %w", err)
		}
		for _, e := range es {
			if v, _ := e.(string); strings.HasPrefix(v, ledgerSending+"|") {
				sending++
			}
		}
		ids = ids[:0]
		return nil
	}
	lost, err := s.readChunks(ctx, c, chunks, func(_ int, recs []Recipient) error {
		ids = append(ids, IDs(recs)...)
		if len(ids) < 32*200 { // about 32 chunks' recipients an HMGET
			return nil
		}
		return count()
	})
	if err == nil {
		err = count()
	}
	if err == nil && len(lost) > 0 {
		err = &LostChunksError{Campaign: c, Chunks: lost}
	}
	if err != nil {
		return 0, fmt.Errorf("count the messages in flight of %s: %w", c, err)
	}
	return sending, nil
}

// SayPaused says what a pause of a campaign left going: inFlight messages
// claimed before it (InFlight), which may still be delivered, and that
// nothing more is claimed; err, when the count could not be read. A claim
// a worker had not begun to send (the rest of its claim window) is given
// back, never sent: inFlight is at most what goes out.
func SayPaused(inFlight int, err error) string {
	const rest = " (claims a worker has not begun to send are given back); nothing more will be claimed."
	switch {
	case err != nil:
		return "How many messages were in flight could not be read (" + err.Error() + "): those may still be delivered" + rest
	case inFlight == 0:
		return "No message was in flight; nothing more will be claimed."
	case inFlight == 1:
		return "1 message was in flight and may still be delivered; nothing more will be claimed."
	}
	return fmt.Sprintf("%d messages were in flight and may still be delivered"+rest, inFlight)
}
