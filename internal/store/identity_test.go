package store_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/tidings-mail/tidings/internal/store"
)

// TestRestagingMatchesByMailbox: a re-staging keeps a recipient's earlier
// outcome by id and by mailbox, whatever ids the earlier stagings gave
// them, and refuses an id that holds another mailbox's outcome. Each case
// stages rows ("id=email", "" id: the default), marks the rows of sent as
// sent, then stages again; fillers between rows put them in different
// flushes, so what one row writes is seen by the next.
func TestRestagingMatchesByMailbox(t *testing.T) {
	t.Parallel()
	fill := make([]string, 20)
	for i := range fill {
		fill[i] = fmt.Sprintf("f%d=f%d@x.example", i, i)
	}
	with := func(rows ...string) [][]string { return [][]string{rows} }
	tests := []struct {
		name       string
		stagings   [][]string // the last one is checked
		sent       []string   // ids sent after the first staging
		kept       int
		carried    int
		conflicts  []string // ids refused
		wantSent   []string // ids sent after the last staging
		wantAbsent []string
	}{
		{name: "an id column added", stagings: [][]string{{"=a@x.example", "=b@x.example"}, {"u1=a@x.example", "u2=b@x.example"}},
			sent: []string{"a@x.example"}, kept: 1, carried: 1, wantSent: []string{"u1", "a@x.example"}, wantAbsent: []string{"u2"}},
		{name: "ids renumbered", stagings: [][]string{{"u1=a@x.example"}, {"c77=A@X.example"}},
			sent: []string{"u1"}, kept: 1, carried: 1, wantSent: []string{"c77", "u1"}},
		{name: "ids renumbered and put back", stagings: [][]string{{"u1=a@x.example"}, {"c77=a@x.example"}, {"u1=a@x.example"}},
			sent: []string{"u1"}, kept: 1, wantSent: []string{"u1", "c77"}},
		{name: "back to the default id", stagings: [][]string{{"u1=a@x.example"}, {"=a@x.example"}},
			sent: []string{"u1"}, kept: 1, carried: 1, wantSent: []string{"a@x.example"}},
		{name: "two ids swapped", stagings: [][]string{{"u1=a@x.example", "u2=b@x.example"}, {"u2=a@x.example", "u1=b@x.example"}},
			sent: []string{"u1"}, conflicts: []string{"u1"}},
		{name: "an id given to another address", stagings: [][]string{{"u1=a@x.example"}, {"u1=z@x.example"}},
			sent: []string{"u1"}, conflicts: []string{"u1"}},
		{name: "a default id taken as another's id", stagings: [][]string{{"=a@x.example"}, {"a@x.example=z@x.example"}},
			sent: []string{"a@x.example"}, conflicts: []string{"a@x.example"}},
		{name: "an unsent id taken by a sent mailbox, which comes first", stagings: append(with("u1=a@x.example", "u2=b@x.example"), append(append([]string{"u1=b@x.example"}, fill...), "u3=a@x.example")),
			sent: []string{"u2"}, kept: 1, carried: 1, wantSent: []string{"u1", "u2"}, wantAbsent: []string{"u3"}},
		{name: "an unsent id taken by a sent mailbox, which comes last", stagings: append(with("u1=a@x.example", "u2=b@x.example"), append(append([]string{"u3=a@x.example"}, fill...), "u1=b@x.example")),
			sent: []string{"u2"}, kept: 1, carried: 1, wantSent: []string{"u1", "u2"}, wantAbsent: []string{"u3"}},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			rdb := startRedis(t)
			st := store.New(rdb)
			c := fmt.Sprintf("ids-%d", i)
			var sum *store.StageSummary
			var err error
			for n, rows := range tt.stagings {
				var found []store.IDConflict
				sum, found, err = restage(ctx, st, c, rows, n > 0)
				if n == 0 {
					if err != nil {
						t.Fatal(err)
					}
					for _, id := range tt.sent {
						rdb.HSet(ctx, "tidings:{"+c+"}:ledger", id, fmt.Sprintf("sent|1|%d|||250 ok", time.Now().UnixMilli()))
					}
					continue
				}
				var ids []string
				for _, f := range found {
					ids = append(ids, f.ID)
				}
				if fmt.Sprint(ids) != fmt.Sprint(tt.conflicts) {
					t.Errorf("staging %d: Check found %v, want %v", n, ids, tt.conflicts)
				}
			}
			var ce *store.IDConflictError
			if len(tt.conflicts) > 0 {
				if !errors.As(err, &ce) || ce.Total != len(tt.conflicts) {
					t.Fatalf("Finish: %v, want an IDConflictError for %v", err, tt.conflicts)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if sum.Kept != tt.kept || sum.Carried != tt.carried {
				t.Errorf("kept %d, carried %d; want %d, %d", sum.Kept, sum.Carried, tt.kept, tt.carried)
			}
			es, err := st.Entries(ctx, c, append(tt.wantSent, tt.wantAbsent...))
			if err != nil {
				t.Fatal(err)
			}
			for j, e := range es {
				if want := map[bool]string{true: store.OutcomeSent, false: ""}[j < len(tt.wantSent)]; e.State != want {
					t.Errorf("entry %d (%v): %q, want %q", j, append(tt.wantSent, tt.wantAbsent...)[j], e.State, want)
				}
			}
		})
	}
}

// restage stages rows ("id=email", one chunk each) as campaign c, after
// Check when resume.
func restage(ctx context.Context, st *store.Store, c string, rows []string, resume bool) (*store.StageSummary, []store.IDConflict, error) {
	sg, err := st.NewStager(ctx, store.StageConfig{Campaign: c, Definition: []byte(`{}`), Hash: "h", Env: "test", Who: "alice", ChunkSize: 1, ResumeExisting: resume})
	if err != nil {
		return nil, nil, err
	}
	defer sg.Abort(ctx)
	recs := make([]store.Recipient, len(rows))
	for i, r := range rows {
		id, email, _ := strings.Cut(r, "=")
		recs[i] = store.Recipient{Line: i + 2, ID: id, Email: email, Lang: "en"}
		if id == "" {
			recs[i].ID = strings.ToLower(email)
		}
	}
	checked, err := sg.Check(ctx, recs)
	if err != nil {
		return nil, nil, err
	}
	found := checked.Conflicts
	for _, r := range recs {
		if err := sg.Add(ctx, r, 0, false); err != nil {
			return nil, found, err
		}
	}
	sum, err := sg.Finish(ctx, false)
	return sum, found, err
}
