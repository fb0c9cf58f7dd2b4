package store_test

import (
	"context"
	"fmt"
	"reflect"
	"strconv"
	"testing"

	"github.com/tidings-mail/tidings/internal/store"
)

// TestStepCountsMatchReference runs the worker's calls (a window claimed,
// then its outcomes recorded with the next window's claims) through
// lua/step.lua and testdata/step_reference.lua from the same state, and
// requires the same answers and every key equal after each call. Where
// TestStepMatchesReference draws its calls at random, this one makes the
// calls whose counting the random draws seldom reach: first attempts sent
// on the hot path of two and three batches in one call (a call at a
// batch's end), with and without a record off the hot path counting one
// of those batches, temporary failures deferred (deferred_at with
// progress_at), and the first claim after a batch's release or a resume
// (idle_since, idle_pending_ms; since a time to come, as the idle time
// ends at Redis's TIME, which the two scripts read apart).
func TestStepCountsMatchReference(t *testing.T) {
	t.Parallel()
	rdb := startRedis(t)
	ctx := context.Background()
	scripts := stepScripts(t)
	langs := []string{"de", "fr", "en"}
	type rec struct {
		kind store.Kind
		code string
	}
	sent := rec{store.KindSent, "250"}
	temp := rec{store.KindTemp, "451"}
	perm := rec{store.KindFailed, "550"}
	tests := []struct {
		name    string
		ctl     map[string]any
		batches []int // the batch of each recipient, claimed in the first call
		// outcomes: for each call after the first, the record of each
		// recipient claimed by the call before (cycled)
		outcomes [][]rec
	}{
		{"one batch, three languages", nil, []int{0, 0, 0, 0, 0, 0}, [][]rec{{sent}, {sent}}},
		{"two batches at a batch's end", map[string]any{"cur_batch": "1"}, []int{0, 0, 0, 1, 1, 1, 1}, [][]rec{{sent}, {sent}}},
		{"three batches", map[string]any{"cur_batch": "2"}, []int{0, 1, 2, 0, 1, 2, 2}, [][]rec{{sent}, {sent}}},
		{"two batches, one counted off the hot path", map[string]any{"cur_batch": "1"}, []int{0, 0, 1, 1, 1}, [][]rec{{sent, sent, sent, temp, sent}, {sent, perm}}},
		{"deferrals", nil, []int{0, 0, 0, 0}, [][]rec{{temp, sent}, {temp}, {temp, sent}}},
		{"idle batch", map[string]any{"idle_since": "4102444800000", "idle_ms": "2500"}, []int{0, 0, 0}, [][]rec{{sent}}},
		{"resumed after a pause", map[string]any{"idle_since": "4102444800000", "idle_ms": "2500", "idle_pending_ms": "4000"}, []int{0, 0}, [][]rec{{sent}}},
		{"not yet released", map[string]any{"cur_batch": "0"}, []int{0, 1, 0, 1}, [][]rec{{sent}}},
	}
	for ti, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, prefix := range []string{"ref:", "new:"} {
				ks := stepKeys(fmt.Sprintf("counts%d:%s", ti, prefix))
				rdb.Del(ctx, ks...)
				ctl := map[string]any{"state": "running", "stage": "s1", "cur_batch": "0"}
				for k, v := range tt.ctl {
					ctl[k] = v
				}
				rdb.HSet(ctx, ks[2], ctl)
			}
			// run makes one call of ops through both scripts and compares.
			call := 0
			run := func(ops []any) {
				call++
				hdr := []any{"s1", 3, 10, 0.3, 50, "h", "e", strconv.Itoa(1700000000123 + 1000*call), len(ops)}
				refArgs := append([]any{}, hdr...)
				for _, o := range ops {
					switch o := o.(type) {
					case store.Record:
						refArgs = append(refArgs, "r", o.ID, string(o.Kind), o.Code, o.Response, o.Lang, o.Batch, o.Token)
					case store.Claim:
						refArgs = append(refArgs, "c", o.ID, o.Lang, o.Batch, o.Token, "", "", "")
					}
				}
				ref, err := scripts[0].Run(ctx, rdb, stepKeys(fmt.Sprintf("counts%d:ref:", ti)), refArgs...).Slice()
				if err != nil {
					t.Fatalf("call %d: reference: %v", call, err)
				}
				got, err := scripts[1].Run(ctx, rdb, stepKeys(fmt.Sprintf("counts%d:new:", ti)), store.StepArgs(append(hdr[:8:8], ""), ops)...).Slice()
				if err != nil {
					t.Fatalf("call %d: step.lua: %v", call, err)
				}
				if want := stepAnswer(ref, ops); !reflect.DeepEqual(want, got) {
					t.Fatalf("call %d: answers differ:\nreference %v\nstep.lua  %v", call, want, got)
				}
				r, n := dumpKeys(ctx, rdb, stepKeys(fmt.Sprintf("counts%d:ref:", ti))), dumpKeys(ctx, rdb, stepKeys(fmt.Sprintf("counts%d:new:", ti)))
				if !reflect.DeepEqual(r, n) {
					t.Fatalf("call %d: keys differ:\nreference %v\nstep.lua  %v", call, r, n)
				}
			}
			// Every call claims len(batches) recipients anew and records
			// the outcomes of the call before's claims.
			var prev []store.Claim
			next := 0
			claims := func() []store.Claim {
				var cls []store.Claim
				for _, b := range tt.batches {
					id := "r" + strconv.Itoa(next)
					cls = append(cls, store.Claim{ID: id, Lang: langs[next%len(langs)], Batch: b, Token: "w-1/" + strconv.Itoa(next)})
					next++
				}
				return cls
			}
			for c := 0; c <= len(tt.outcomes); c++ {
				var ops []any
				if c > 0 {
					for i, cl := range prev {
						o := tt.outcomes[c-1][i%len(tt.outcomes[c-1])]
						ops = append(ops, store.Record{Kind: o.kind, ID: cl.ID, Code: o.code, Response: "reply " + o.code,
							Lang: cl.Lang, Batch: cl.Batch, Token: cl.Token})
					}
				}
				prev = claims()
				for _, cl := range prev {
					ops = append(ops, cl)
				}
				run(ops)
			}
		})
	}
}
