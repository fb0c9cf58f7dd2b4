package store

import (
	"context"
	"fmt"
	"strconv"
)

// StoredFormat is the number of the stored layout of a campaign that this
// build writes and reads: staging writes it in the campaign's meta
// ("format"), and a worker sends, ticks, checks in for and writes into only
// a campaign of its own format (workers of two builds on one Redis: an
// older worker would read counters a newer one no longer writes, and its
// batch gate count no attempt).
//
// Bump it in the commit that changes the stored layout of a campaign:
// anything a worker of the build before would read, write or expect
// differently in a campaign's keys (tidings:{<campaign>}:*): a key, hash
// field or counter added, removed, renamed or given another meaning (one
// that a gate or a count reads, even if no older reader knows it), the
// encoding of a ledger entry, a chunk, a batch, the control or a meta
// field, what one Lua script expects another (or another build's Go code)
// to have written. Not a change: code that reads and writes the same data
// the same way (a refactor, a faster script with the same effect), and
// keys outside the campaign (the workers' registry, asynq's). When in
// doubt, bump: a bump costs finishing the campaigns under way with the
// workers of the build before; a missed one can send a message twice.
const StoredFormat = 1

// FormatNone is the stored format of a campaign staged by a build before
// stored formats (its meta has no "format"): a build whose layout nothing
// records, so no worker of this or a later build sends it (fail closed).
// It is not StoredFormat-1: after the next bump, that number names a build
// that recorded it.
const FormatNone = 0

// FormatError says that campaign Campaign was staged with stored format
// Format (FormatNone: by a build before stored formats), not Want, the
// format of the build that reads it: that build must not send it, nor
// write into it.
type FormatError struct {
	Campaign     string
	Format, Want int
}

func (e *FormatError) Error() string {
	return fmt.Sprintf("campaign %s was staged by a build with stored format %s; this tidings has format %d", e.Campaign, FormatName(e.Format), e.Want)
}

// FormatName words stored format f: its number, and for FormatNone that
// it is a build before stored formats.
func FormatName(f int) string {
	if f == FormatNone {
		return "0 (a build before stored formats)"
	}
	return strconv.Itoa(f)
}

// checkFormat returns a *FormatError when format f of campaign c is not
// this build's.
func checkFormat(c string, f int) error {
	if f != StoredFormat {
		return &FormatError{Campaign: c, Format: f, Want: StoredFormat}
	}
	return nil
}

// Format reads the stored format of campaign c (FormatNone when its meta
// has none) in one HGET, and returns it with a *FormatError when it is not
// this build's; ErrNotFound (wrapped) when c has no meta.
func (s *Store) Format(ctx context.Context, c string) (int, error) {
	k := keysFor(c)
	v, err := s.rdb.HMGet(ctx, k.meta, "format", "hash").Result() // every staging has written a hash
	switch {
	case err != nil:
		return 0, fmt.Errorf("read the stored format of %s: %w", c, err)
	case v[0] == nil && v[1] == nil:
		return 0, s.absent(ctx, k, "read the stored format")
	}
	f := atoi(strOr(v[0], ""))
	return f, checkFormat(c, f)
}
