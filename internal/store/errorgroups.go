package store

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
)

// errorGroups groups raw, the errors list's entries (lua/step.lua, newest
// first), by code and reply, with one read of the ledger for the
// recipients they name whose current outcome matters: a permanent failure
// of a recipient sent since (a retry --permanent re-queued it) no longer
// stands and is left out, and, when some recipient is failed (failed > 0),
// each temporary group counts its recipients failed now (Exhausted).
func (s *Store) errorGroups(ctx context.Context, c string, raw []string, failed int64) ([]ErrorGroup, error) {
	type entry struct {
		T     int64  `json:"t"`
		ID    string `json:"id"`
		Code  string `json:"code"`
		R     string `json:"r"`
		Temp  bool   `json:"temp"`
		Doubt bool   `json:"doubt"`
	}
	var xs []entry
	var ids []string // whose ledger entries are read
	seen := map[string]bool{}
	for _, e := range raw {
		var x entry
		if json.Unmarshal([]byte(e), &x) != nil {
			continue
		}
		xs = append(xs, x)
		if x.ID != "" && !x.Doubt && (!x.Temp || failed > 0) && !seen[x.ID] {
			seen[x.ID] = true
			ids = append(ids, x.ID)
		}
	}
	es, err := s.Entries(ctx, c, ids)
	if err != nil {
		return nil, fmt.Errorf("read status of %s: %w", c, err)
	}
	now := make(map[string]Entry, len(ids))
	for i, id := range ids {
		now[id] = es[i]
	}
	var groups []ErrorGroup
	type member struct {
		id    string
		group int
	}
	counted := map[member]bool{} // a temporary group counts a failed recipient once
	for _, x := range xs {
		if x.ID != "" && !x.Temp && !x.Doubt && now[x.ID].State == OutcomeSent {
			continue // sent since: the failure no longer stands
		}
		i := slices.IndexFunc(groups, func(g ErrorGroup) bool { return g.Code == x.Code && g.Response == x.R })
		if i < 0 {
			i = len(groups)
			groups = append(groups, ErrorGroup{Code: x.Code, Response: x.R, Temporary: x.Temp, InDoubt: x.Doubt, Last: fromMS(x.T)})
		}
		groups[i].Count++
		if !x.Temp || x.ID == "" || failed <= 0 || counted[member{x.ID, i}] {
			continue
		}
		counted[member{x.ID, i}] = true
		// Failed now after a temporary failure with the group's code (the
		// group of its last reply): its retries ran out.
		if e := now[x.ID]; e.State == OutcomeFailed && e.Temp && e.Code == groups[i].Code {
			groups[i].Exhausted++
		}
	}
	return groups, nil
}
