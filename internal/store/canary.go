package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/redis/go-redis/v9"
)

// canaryStale is what meta's canary_stale records of a re-staging whose
// templates and catalogs differ from the staging before (its hash): the
// canary recipients of each language whose earlier sent outcome it kept,
// whose message was of other content than the one staged now. Hash is
// the hash of the content they were sent (the staging before's, or, of
// one staged again with the same content, the one it recorded).
type canaryStale struct {
	Hash  string         `json:"hash"`
	Langs map[string]int `json:"langs"`
}

// staleCanary is the canary_stale field of a staging of hash now, whose
// kept canary recipients sent are kept (by language), from the staging
// before's hash and canary_stale field: "" when every canary message
// sent is of this content.
func staleCanary(now, before, beforeStale string, kept map[string]int) string {
	if before == "" || before == now {
		return beforeStale // the same content: what it said still holds
	}
	if len(kept) == 0 {
		return ""
	}
	b, _ := json.Marshal(canaryStale{Hash: before, Langs: kept})
	return string(b)
}

// CanaryLanguage is what a campaign's canary showed of one language of
// the content staged now (Store.CanarySeen).
type CanaryLanguage struct {
	Lang string `json:"lang"`
	// Staged is how many canary recipients the language has; Sent, how
	// many of them were sent a message of the content staged now (a
	// message sent before a re-staging that changed the templates or
	// catalogs is not counted: Stale counts those).
	Staged int `json:"staged"`
	Sent   int `json:"sent"`
	Stale  int `json:"stale,omitempty"`
	// StaleHash is the content hash Stale's messages were sent with.
	StaleHash string `json:"stale_hash,omitempty"`
}

// Unseen reports whether no canary message of the language carried the
// content staged now: QA cannot have seen it in the canary.
func (l CanaryLanguage) Unseen() bool { return l.Sent == 0 }

// Say words an unseen language for its approver: "de (2 canary
// recipients: 2 sent content 1f68c9907824, since changed)".
func (l CanaryLanguage) Say() string {
	var why []string
	if l.Stale > 0 {
		why = append(why, fmt.Sprintf("%d sent content %s, since changed", l.Stale, l.StaleHash[:min(12, len(l.StaleHash))]))
	}
	if n := l.Staged - l.Stale; n > 0 {
		why = append(why, fmt.Sprintf("%d not sent", n))
	}
	return fmt.Sprintf("%s (%d canary recipient(s): %s)", l.Lang, l.Staged, strings.Join(why, ", "))
}

// CanarySeen returns, for each language of campaign c's canary (batch 0;
// none when it has no canary), how many of its recipients were sent a
// message of the templates and catalogs staged now, sorted by language.
// It reads the canary's chunks and their ledger entries.
func (s *Store) CanarySeen(ctx context.Context, c string) ([]CanaryLanguage, error) {
	k := keysFor(c)
	p := s.rdb.Pipeline()
	b0 := p.HGet(ctx, k.batches, "0")
	st := p.HGet(ctx, k.meta, "canary_stale")
	_, _ = p.Exec(ctx) // each answer's error is read below
	var b BatchInfo
	raw, err := b0.Result()
	if errors.Is(err, redis.Nil) {
		return nil, nil // no batch: nothing staged, no canary
	} else if err != nil {
		return nil, fmt.Errorf("read the canary of %s: %w", c, err)
	} else if err := json.Unmarshal([]byte(raw), &b); err != nil {
		return nil, fmt.Errorf("read the canary of %s: batch 0: %w", c, err)
	} else if !b.Canary {
		return nil, nil
	}
	var stale canaryStale
	if raw := st.Val(); raw != "" {
		if err := json.Unmarshal([]byte(raw), &stale); err != nil {
			return nil, fmt.Errorf("read the canary of %s: canary_stale: %w", c, err)
		}
	}
	by := map[string]*CanaryLanguage{}
	for i := b.First; i <= b.Last; i++ {
		rs, err := s.Chunk(ctx, c, i)
		if err != nil {
			return nil, fmt.Errorf("read the canary of %s: %w", c, err)
		}
		entries, err := s.Entries(ctx, c, IDs(rs))
		if err != nil {
			return nil, fmt.Errorf("read the canary of %s: %w", c, err)
		}
		for j, r := range rs {
			l := by[r.Lang]
			if l == nil {
				l = &CanaryLanguage{Lang: r.Lang, Stale: stale.Langs[r.Lang]}
				if l.Stale > 0 {
					l.StaleHash = stale.Hash
				}
				by[r.Lang] = l
			}
			l.Staged++
			if entries[j].State == OutcomeSent {
				l.Sent++
			}
		}
	}
	out := make([]CanaryLanguage, 0, len(by))
	for _, lang := range slices.Sorted(maps.Keys(by)) {
		l := *by[lang]
		l.Stale = min(l.Stale, l.Sent)
		l.Sent -= l.Stale
		out = append(out, l)
	}
	return out, nil
}

// Unseen returns the languages of langs whose canary showed none of the
// content staged now (CanaryLanguage.Unseen), each worded by Say.
func Unseen(langs []CanaryLanguage) []string {
	var out []string
	for _, l := range langs {
		if l.Unseen() {
			out = append(out, l.Say())
		}
	}
	return out
}

// approvalRecord is what an approval of campaign c records as its
// reason: the approver's reason, the content hash approved, and the
// languages no canary message of that content reached (CanarySeen), so
// that the audit log says what QA signed off and what it had not seen.
// What cannot be read is left out: the approval itself says why it
// fails.
func (s *Store) approvalRecord(ctx context.Context, c, reason string) string {
	parts := []string{}
	if reason != "" {
		parts = append(parts, reason)
	}
	if h, _ := s.rdb.HGet(ctx, keysFor(c).meta, "hash").Result(); h != "" {
		parts = append(parts, "content "+h[:min(12, len(h))])
	}
	if langs, err := s.CanarySeen(ctx, c); err == nil {
		if unseen := Unseen(langs); len(unseen) > 0 {
			parts = append(parts, "no canary message of it reached "+strings.Join(unseen, "; "))
		}
	}
	return strings.Join(parts, "; ")
}
