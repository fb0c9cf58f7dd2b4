package doctor

import (
	"context"
	"fmt"
	"strings"

	"github.com/tidings-mail/tidings/internal/environment"
	"github.com/tidings-mail/tidings/internal/launch"
	"github.com/tidings-mail/tidings/internal/nextstep"
	"github.com/tidings-mail/tidings/internal/redisconn"
	"github.com/tidings-mail/tidings/internal/statusview"
	"github.com/tidings-mail/tidings/internal/store"
)

// State checks that Redis has every campaign of environment e that this
// host holds traces of: its start records (launch.Gone) and its delivery
// journal (launch.Journaled). A campaign Redis has no trace of was lost
// with Redis's state (flushed, evicted, a new empty instance, an old
// backup): the check fails, naming it, with the recovery send's refusal
// gives (nextstep.Recovery, with the flags its record keeps). A campaign
// `tidings free` freed is no loss: the check passes, naming it. ok is
// false when nothing is lost or freed, or when Redis cannot be read (the Redis checks
// say why).
func State(ctx context.Context, e *environment.Environment) (c Check, ok bool) {
	if e.StateDir == "" && e.Journal.Dir == "" {
		return Check{}, false
	}
	st, listed, err := campaigns(ctx, e)
	if err != nil {
		return Check{}, false
	}
	defer st.Client().Close()
	journaled := launch.Journaled(e.Journal.Dir, e.StateDir, listed)
	// A campaign freed by tidings free, here or on another host, is no
	// loss while Redis keeps its ledger; one whose ledger Redis lost since
	// is lost.
	gone, kept, _ := statusview.StartedMissing(ctx, st, e.StateDir, e.Name, listed)
	freed := statusview.FreedList(kept, e.Name)
	if len(gone)+len(journaled) == 0 {
		if freed != "" { // freed by tidings free: no state loss
			return pass("campaign state", freed), true
		}
		return Check{}, false
	}
	var msgs []string
	if len(gone) > 0 {
		var each []string
		for _, name := range gone {
			rec, err := launch.ReadRecord(e.StateDir, name) // Gone read it; gone since, or unreadable: none to name
			if err != nil || rec == nil {
				continue
			}
			if rec.Freed != nil {
				each = append(each, fmt.Sprintf("%s (record %s): %s", name, rec.Path, nextstep.FreedLost(name, e.Name, rec)))
				continue
			}
			each = append(each, fmt.Sprintf("%s (record %s): %s", name, rec.Path, nextstep.Recovery("", e.Name, e.Journal.Dir, rec)))
		}
		msgs = append(msgs, fmt.Sprintf("Redis has no trace of %d campaign(s) this host started in environment %s: Redis lost their state (flushed, evicted, a new empty instance, or restored from a backup older than them); no worker sends them until they are staged again. To send to everyone not yet delivered, and to nobody twice, for each: stop its workers, copy the journal files of every other worker host (<journal dir>/CAMPAIGN/ on each) into %s/CAMPAIGN/, then run, with the campaign's file: %s",
			len(gone), e.Name, e.Journal.Dir, strings.Join(each, "; ")))
	}
	if s := statusview.Journaled(journaled, e.Name, e.Journal.Dir); s != "" {
		msgs = append(msgs, s)
	}
	return fail("campaign state", strings.TrimSpace(strings.Join(append(msgs, freed), " "))), true
}

// campaigns opens environment e's Redis and lists its campaigns, for the
// checks that read them; an error leaves nothing open (the Redis checks
// say why it failed).
func campaigns(ctx context.Context, e *environment.Environment) (*store.Store, []string, error) {
	st, err := redisconn.Open(ctx, e)
	if err != nil {
		return nil, nil, err
	}
	listed, err := st.List(ctx, e.Name)
	if err != nil {
		st.Client().Close()
		return nil, nil, err
	}
	return st, listed, nil
}
