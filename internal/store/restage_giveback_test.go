package store_test

import (
	"context"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/tidings-mail/tidings/internal/store"
)

// heldWriteHook runs once, just before a staging writes the held hash (its
// pipeline's HSET, or the script that writes it: Stager.flush, after it read
// the ledger), the function it holds: what another process does at that
// moment.
type heldWriteHook struct {
	once sync.Once
	run  func()
}

// writesHeld reports whether command args write the held hash (HSET on it,
// or a script with it among its keys).
func writesHeld(a []any) bool {
	if len(a) < 2 {
		return false
	}
	name, _ := a[0].(string)
	switch strings.ToLower(name) {
	case "hset":
		k, _ := a[1].(string)
		return strings.HasSuffix(k, ":held")
	case "evalsha", "eval":
		for _, v := range a[3:] {
			if k, _ := v.(string); strings.HasSuffix(k, ":held") {
				return true
			}
		}
	}
	return false
}

func (h *heldWriteHook) DialHook(next redis.DialHook) redis.DialHook { return next }
func (h *heldWriteHook) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, c redis.Cmder) error {
		if writesHeld(c.Args()) {
			h.once.Do(h.run)
		}
		return next(ctx, c)
	}
}
func (h *heldWriteHook) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		for _, c := range cmds {
			if writesHeld(c.Args()) {
				h.once.Do(h.run)
				break
			}
		}
		return next(ctx, cmds)
	}
}

// TestAClaimGivenBackDuringTheReStagingIsPending: claims a stopping worker
// did not use are given back, never left in doubt, so the new staging sends
// them (README, Guarantees) — also when the give-back comes while the
// campaign is staged again with --resume-existing, between the staging's
// read of the ledger and its write of the entries it keeps in doubt and
// their held records (found by red team 13).
//
// A window of staging A holds claims on r0 and r1; the campaign is paused
// (they are left sending) or cancelled (in doubt, holding the claim), and
// staged again (B). The old window, which finds the campaign staged again,
// gives its claims back just before B writes held: it finds no held entry
// and makes them pending (or cancelled), and B must count them as that
// (pending: B sends them), not write them back in doubt under claims given
// back. The counts must be those of a re-staging where nobody was claimed.
func TestAClaimGivenBackDuringTheReStagingIsPending(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		stop func(ctx context.Context, st *store.Store, c string) error
	}{
		{"paused: left sending", func(ctx context.Context, st *store.Store, c string) error {
			_, err := st.Pause(ctx, c, who, "wrong file")
			return err
		}},
		{"cancelled: in doubt holding the claim", func(ctx context.Context, st *store.Store, c string) error {
			_, _, err := st.Cancel(ctx, c, who, "wrong file")
			return err
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			rdb := startRedis(t)
			st := store.New(rdb)
			// The same campaign, staged and stopped the same way, nobody claimed.
			want := func() *store.Status {
				const c = "c-none"
				a := stage(t, st, c, stageOpts{n: 4, size: 4})
				tick(t, st, c, a, store.TickParams{})
				if err := tc.stop(ctx, st, c); err != nil {
					t.Fatal(err)
				}
				stage(t, st, c, stageOpts{n: 4, size: 4, resume: true})
				s, err := st.Status(ctx, c)
				if err != nil {
					t.Fatal(err)
				}
				return s
			}()

			const c = "c-race"
			a := stage(t, st, c, stageOpts{n: 4, size: 4})
			if r := tick(t, st, c, a, store.TickParams{}); r.Code != store.TickReleased {
				t.Fatalf("first tick: %+v", r)
			}
			old, p := st.Ledger(c, a.Stage), store.Policy{MaxAttempts: 3}
			claims := []store.Claim{{ID: "r0", Lang: "de", Token: "w/r0"}, {ID: "r1", Lang: "fr", Token: "w/r1"}}
			if r, err := old.Step(ctx, nil, claims, p, time.Now()); err != nil || len(r.Claims) != 2 || r.Claims[1].Result != store.ClaimOK {
				t.Fatalf("claims: %+v %v", r, err)
			}
			if err := tc.stop(ctx, st, c); err != nil {
				t.Fatal(err)
			}
			// Staging B on a client that lets the old window's give-back in
			// just before it writes held.
			hooked := redis.NewClient(rdb.Options())
			t.Cleanup(func() { hooked.Close() })
			h := &heldWriteHook{run: func() {
				recs := []store.Record{{ID: "r0", Lang: "de", Kind: store.KindUnclaim, Token: "w/r0"}, {ID: "r1", Lang: "fr", Kind: store.KindUnclaim, Token: "w/r1"}}
				if _, err := old.Step(ctx, recs, nil, p, time.Now()); err != nil {
					t.Errorf("give-back: %v", err)
				}
			}}
			hooked.AddHook(h)
			b := stage(t, store.New(hooked), c, stageOpts{n: 4, size: 4, resume: true})
			ran := false
			h.once.Do(func() { ran = true })
			if ran {
				t.Fatal("the staging wrote no held entry: the test did not reach the race it is about")
			}
			es, err := st.Entries(ctx, c, []string{"r0", "r1"})
			if err != nil {
				t.Fatal(err)
			}
			for i, e := range es {
				if e.State != "" {
					t.Errorf("r%d: %s (%s): its claim was given back, never sent, yet the new staging %s keeps it %s and never sends it", i, e.State, e.Response, b.Stage, e.State)
				}
			}
			s, err := st.Status(ctx, c)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(s.Counts, want.Counts) {
				t.Errorf("counts %v, want %v (nobody was handed to SMTP)", s.Counts, want.Counts)
			}
			if !reflect.DeepEqual(s.Languages, want.Languages) {
				t.Errorf("languages %+v, want %+v", s.Languages, want.Languages)
			}
			if !reflect.DeepEqual(s.Batches, want.Batches) {
				t.Errorf("batches %+v, want %+v", s.Batches, want.Batches)
			}
			if held, err := rdb.HLen(ctx, "tidings:{"+c+"}:held").Result(); err != nil || held != 0 {
				t.Errorf("held: %d entries (%v), want none: no claim is held", held, err)
			}
		})
	}
}
