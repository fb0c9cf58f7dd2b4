package journal

import (
	"os"
	"slices"
	"time"
)

// Recent is what the latest lines of a run's journal files record: the
// recipients delivered, and the claims of the current staging that their
// file has not resolved yet (their window's messages may be out, their
// outcome lines not written yet). A worker checks these against Redis's
// ledger: each was claimed there before it was sent, and a claim that was
// sent only ever moves on to an outcome (only a claim given back unsent,
// which journals unclaimed first, goes back to pending). So one the ledger
// has as never sent means Redis went back in time. It also holds the
// claims of the current staging that an outcome resolved (Resolved): the
// ledger counted those attempts, and never holds fewer.
type Recent struct {
	// IDs are the recipients delivered or claimed, each once.
	IDs []string

	campaign, run string
	files         []File
	ends          []int64 // where each file's read ended; -1: passed over
	claims        map[string]openClaim
	resolved      map[string]int // the highest attempt of a claim an outcome resolved
	delivered     map[string]bool
}

// openClaim is a claim no later line of its file resolves: in file
// Recent.files[file], for attempt.
type openClaim struct{ file, attempt int }

// Latest reads the last tail bytes of at most maxFiles journal files of
// campaign's run in dir, the most recently written first (every worker
// that writes there, each process its own file). A claim counts when it
// belongs to stage or names none; a claim of an earlier staging was
// rewritten by the re-staging. A file whose tail cannot be read, or holds
// a line that is not an entry, is passed over whole (a line after the bad
// one may resolve a claim before it), and passed (required) is told why: this serves
// a detector, which a file someone else owns must not stop. Latest's error
// is the directory's (fs.ErrNotExist when dir/<campaign>/ does not exist
// yet: CampaignFiles).
func Latest(dir, campaign, run, stage string, tail int64, maxFiles int, passed func(path string, err error)) (*Recent, error) {
	files, err := CampaignFiles(dir, campaign)
	if err != nil {
		return nil, err
	}
	files = slices.DeleteFunc(files, func(f File) bool { return f.Run != run })
	mod := make(map[string]time.Time, len(files))
	for _, f := range files {
		if fi, err := os.Stat(f.Path); err == nil {
			mod[f.Path] = fi.ModTime()
		}
	}
	slices.SortFunc(files, func(a, b File) int { return mod[b.Path].Compare(mod[a.Path]) })
	r := &Recent{campaign: campaign, run: run, files: files[:min(len(files), maxFiles)], claims: map[string]openClaim{}, resolved: map[string]int{}, delivered: map[string]bool{}}
	r.ends = make([]int64, len(r.files))
	seen := map[string]bool{}
	add := func(id string) {
		if !seen[id] {
			seen[id] = true
			r.IDs = append(r.IDs, id)
		}
	}
	for i, f := range r.files {
		var delivered, resolved []string
		open, staged := map[string]int{}, map[string]bool{}
		var err error
		r.ends[i], err = f.Tail(tail, func(e Entry) error {
			switch {
			case e.Campaign != campaign || e.Run != run, e.Amends: // an amending line resolves nothing
			case e.Outcome == OutcomeClaimed && (e.Stage == stage || e.Stage == ""):
				open[e.ID] = max(e.Attempt, 1)
				staged[e.ID] = e.Stage != ""
			default: // an outcome, a give-back, or an earlier staging's claim
				if a, ok := open[e.ID]; ok && staged[e.ID] && e.Outcome != OutcomeClaimed && e.Outcome != OutcomeUnclaimed {
					// The ledger counted this attempt: it never goes
					// back below it (only a give-back, journaled
					// unclaimed, takes an attempt back). Only a claim
					// that names this staging: a re-staging clears
					// what is not final, and a line that names none
					// may be of an earlier one.
					r.resolved[e.ID] = max(r.resolved[e.ID], a)
					resolved = append(resolved, e.ID)
				}
				delete(open, e.ID)
				if e.Delivered() {
					delivered = append(delivered, e.ID)
				}
			}
			return nil
		})
		if err != nil {
			r.ends[i] = -1
			passed(f.Path, err)
			continue
		}
		for _, id := range delivered {
			add(id)
			delete(r.claims, id)
			r.delivered[id] = true
		}
		for id, a := range open {
			if !seen[id] {
				r.claims[id] = openClaim{i, a}
			}
			add(id)
		}
		for _, id := range resolved {
			add(id)
		}
	}
	return r, nil
}

// Delivered reports whether a line Latest read records id as delivered
// (sent or in doubt) and no claim of id is open: the ledger has it
// delivered too (or still sending), unless Redis went back in time.
func (r *Recent) Delivered(id string) bool {
	_, open := r.claims[id]
	return r.delivered[id] && !open
}

// Resolved returns the highest attempt of a claim of id (of the staging
// Latest was given) that a later line of its file resolved with an
// outcome (not a give-back), if Latest read one: the ledger's entry of id
// has at least that many attempts, whatever happened since, unless Redis
// went back in time.
func (r *Recent) Resolved(id string) (attempt int, ok bool) {
	attempt, ok = r.resolved[id]
	return attempt, ok
}

// Claim returns the attempt of id's claim that its file has not resolved,
// if Latest read one.
func (r *Recent) Claim(id string) (attempt int, open bool) {
	c, ok := r.claims[id]
	return c.attempt, ok
}

// DropGivenBack deletes from ids the open claims given back since Latest
// read them: an unclaimed line in the same file, from where its read
// ended. Call it after reading the ledger: a worker journals unclaimed
// before the ledger gives the claim back, so a give-back the ledger shows
// has its line by then. A give-back in another worker's file does not
// count: that worker's claim came after this one was resolved.
func (r *Recent) DropGivenBack(ids map[string]bool) {
	for i, f := range r.files {
		if len(ids) == 0 {
			return
		}
		if r.ends[i] < 0 {
			continue
		}
		_, _ = f.After(r.ends[i], func(e Entry) error {
			if c, open := r.claims[e.ID]; open && c.file == i && e.Campaign == r.campaign && e.Run == r.run && e.Outcome == OutcomeUnclaimed {
				delete(ids, e.ID)
			}
			return nil
		})
	}
}
