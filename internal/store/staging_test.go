package store_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/tidings-mail/tidings/internal/store"
)

// TestCancelledClaimGivenBack: a recipient claimed just before a cancel is
// in doubt (its message may be in the SMTP server's hands); when its
// worker gives the claim back (it saw the cancel before sending), it is
// cancelled, not left in doubt for good. A give-back with another token
// changes nothing.
func TestCancelledClaimGivenBack(t *testing.T) {
	st, _, l := released(t, "c-giveback", 3, 3)
	ctx := context.Background()
	p := store.Policy{MaxAttempts: 3}
	for _, id := range []string{"r0", "r1"} {
		if r, err := l.Step(ctx, nil, []store.Claim{{ID: id, Lang: "de", Token: "w/" + id}}, p, time.Now()); err != nil || first(r).Result != store.ClaimOK {
			t.Fatalf("claim %s: %v %v", id, r, err)
		}
	}
	if _, _, err := st.Cancel(ctx, "c-giveback", who, "stop"); err != nil {
		t.Fatal(err)
	}
	back := []store.Record{
		{ID: "r0", Lang: "de", Kind: store.KindUnclaim, Token: "w/r0"},
		{ID: "r1", Lang: "de", Kind: store.KindUnclaim, Token: "w/someone-else"},
	}
	if _, err := l.Step(ctx, back, nil, p, time.Now()); err != nil {
		t.Fatal(err)
	}
	es, err := st.Entries(ctx, "c-giveback", []string{"r0", "r1", "r2"})
	if err != nil {
		t.Fatal(err)
	}
	if es[0].State != store.OutcomeCancelled || es[1].State != store.OutcomeInDoubt || es[2].State != store.OutcomeCancelled {
		t.Errorf("entries %+v, want r0 cancelled (given back), r1 in doubt (another token), r2 cancelled", es)
	}
	s, err := st.Status(ctx, "c-giveback")
	if err != nil {
		t.Fatal(err)
	}
	if s.Counts[store.OutcomeInDoubt] != 1 || s.Counts[store.OutcomeCancelled] != 2 || s.Counts[store.OutcomePending] != 0 {
		t.Errorf("counts %v, want 1 in doubt, 2 cancelled, none pending", s.Counts)
	}
	// Attempted: r1, in the SMTP server's hands at the cancel; not r0,
	// given back unsent, nor r2, never claimed.
	if b := s.Batches[0]; b.InDoubt != 1 || b.Cancelled != 2 || b.Attempted != 1 {
		t.Errorf("batch 0: %+v, want 1 in doubt, 2 cancelled, 1 attempted", b)
	}
	// The late record of a message that was sent after all still wins,
	// and its attempt is not counted twice.
	if _, err := l.Step(ctx, []store.Record{{ID: "r1", Lang: "de", Kind: store.KindSent, Code: "250"}}, nil, p, time.Now()); err != nil {
		t.Fatal(err)
	}
	if es, _ := st.Entries(ctx, "c-giveback", []string{"r1"}); es[0].State != store.OutcomeSent {
		t.Errorf("r1 after its record: %+v, want sent", es[0])
	}
	if s, err := st.Status(ctx, "c-giveback"); err != nil || s.Batches[0].Attempted != 1 || s.Batches[0].Sent != 1 {
		t.Errorf("batch 0 after r1's record: %+v %v, want 1 attempted, 1 sent", s.Batches[0], err)
	}
}

// TestPauseWhileStaging: a person's pause stays through a staging: one
// made while send stages the campaign, one made before it is staged
// again, and one made after a first staging was interrupted (Ctrl-C during
// send), before that send is run again (the staging ends paused, its summary says by whom and why, the
// audit log shows the staging not started); a pause of tidings' own
// (auto-pause) was about the earlier staging and is lifted. While the
// campaign is being staged, the other actions are refused with a
// *TransitionError naming the staging, and change nothing.
func TestPauseWhileStaging(t *testing.T) {
	bob := store.Actor{Who: "bob", Host: "laptop", Env: "test"}
	for _, tc := range []struct {
		name        string
		before      func(t *testing.T, st *store.Store, c string) // nil: a new campaign
		pauseDuring bool
		want        store.State
		wantPaused  string
	}{
		{name: "new, paused during", pauseDuring: true, want: store.StatePaused, wantPaused: "by bob@laptop: wrong file"},
		{name: "paused by a person", before: func(t *testing.T, st *store.Store, c string) {
			stage(t, st, c, stageOpts{n: 3, size: 3})
			if _, err := st.Pause(context.Background(), c, who, "fix the template"); err != nil {
				t.Fatal(err)
			}
		}, want: store.StatePaused, wantPaused: "by alice@box: fix the template"},
		{name: "auto-paused", before: func(t *testing.T, st *store.Store, c string) {
			stage(t, st, c, stageOpts{n: 3, size: 3})
			if _, _, err := st.Transition(context.Background(), c, store.TransitionParams{From: []store.State{store.StateRunning}, To: store.StatePaused,
				Actor: who, Action: "auto-pause", Reason: "error rate"}); err != nil {
				t.Fatal(err)
			}
		}, want: store.StateRunning},
		{name: "new, paused after an interrupted staging", before: func(t *testing.T, st *store.Store, c string) {
			// Ctrl-C during send: a staging that never ends, then on-call's
			// pause; the staging below is that send run again.
			sg, err := st.NewStager(context.Background(), store.StageConfig{Campaign: c, Definition: []byte(`{}`), Hash: "h", Env: "test", Who: "alice", ChunkSize: 7})
			if err != nil {
				t.Fatal(err)
			}
			if err := sg.Add(context.Background(), store.Recipient{Line: 2, ID: "r0", Email: "r0@x.example", Lang: "de"}, 0, false); err != nil {
				t.Fatal(err)
			}
			sg.Abort(context.Background())
			if _, err := st.Pause(context.Background(), c, bob, "wrong file"); err != nil {
				t.Fatal(err)
			}
		}, want: store.StatePaused, wantPaused: "by bob@laptop: wrong file"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st := store.New(startRedis(t))
			ctx := context.Background()
			c := "c-while"
			if tc.before != nil {
				tc.before(t, st, c)
			}
			sg, err := st.NewStager(ctx, store.StageConfig{Campaign: c, Definition: []byte(`{}`), Hash: "h", Env: "test", Who: "alice", ChunkSize: 7, ResumeExisting: tc.before != nil})
			if err != nil {
				t.Fatal(err)
			}
			for i := range 3 {
				if err := sg.Add(ctx, store.Recipient{Line: i + 2, ID: fmt.Sprint("r", i), Email: fmt.Sprintf("r%d@x.example", i), Lang: "de"}, 0, false); err != nil {
					t.Fatal(err)
				}
			}
			before, err := st.Control(ctx, c)
			if err != nil {
				t.Fatal(err)
			}
			refused := map[string]error{}
			_, refused["resume"] = st.Resume(ctx, c, bob, "")
			_, refused["approve"] = st.Approve(ctx, c, "", false, bob, "")
			_, _, refused["cancel"] = st.Cancel(ctx, c, bob, "wrong file")
			_, refused["retry"] = st.Requeue(ctx, c, bob, store.RetryScope{})
			for action, err := range refused {
				var te *store.TransitionError
				if !errors.As(err, &te) || te.PausedFor != "staging" || te.Action != action {
					t.Errorf("%s while staging: %v, want a *TransitionError for the staging", action, err)
				}
			}
			if ctl, err := st.Control(ctx, c); err != nil || *ctl != *before || ctl.Approved {
				t.Fatalf("after the refused actions: %+v %v, want unchanged %+v", ctl, err, before)
			}
			if tc.pauseDuring {
				if _, err := st.Pause(ctx, c, bob, "wrong file"); err != nil {
					t.Fatalf("pause while staging: %v", err)
				}
			}
			sum, err := sg.Finish(ctx, true)
			if err != nil {
				t.Fatal(err)
			}
			ctl, err := st.Control(ctx, c)
			if err != nil {
				t.Fatal(err)
			}
			if sum.State != tc.want || ctl.State != tc.want || sum.Paused != tc.wantPaused || ctl.Stage != sum.Stage || ctl.CurBatch != -1 {
				t.Errorf("after the staging: summary %s (%q), control %+v; want %s (%q) on the new staging", sum.State, sum.Paused, ctl, tc.want, tc.wantPaused)
			}
			s, err := st.Status(ctx, c)
			if err != nil {
				t.Fatal(err)
			}
			if last := s.Audit[len(s.Audit)-1]; tc.want == store.StatePaused && (last.Action != "stage" || !strings.Contains(last.Reason, "not started: the campaign is paused")) {
				t.Errorf("audit ends %+v, want the staging not started", last)
			}
			if tc.pauseDuring {
				if prev := s.Audit[len(s.Audit)-2]; prev.Action != "pause" || prev.Who != "bob" {
					t.Errorf("audit before the staging's end: %+v, want bob's pause", prev)
				}
			}
			// It runs once resumed.
			if tc.want == store.StatePaused {
				if _, err := st.Resume(ctx, c, who, "checked"); err != nil {
					t.Fatal(err)
				}
			}
			if r := tick(t, st, c, sum, store.TickParams{}); r.Code != store.TickReleased {
				t.Errorf("tick: %+v, want batch 0 released", r)
			}
		})
	}
}

// TestRestageSwitchesStageFirst: send --resume-existing switches to the
// new staging before it clears the old one's counters, so that a late
// record and chunk end of the old staging (a message in flight when the
// campaign was paused) landing meanwhile write nothing: not a second count
// of one recipient, nor a chunk of the new staging marked finished.
func TestRestageSwitchesStageFirst(t *testing.T) {
	rdb := startRedis(t)
	st := store.New(rdb)
	ctx := context.Background()
	c := "c-restage"
	sum := stage(t, st, c, stageOpts{n: 3, size: 3})
	tick(t, st, c, sum, store.TickParams{})
	l := st.Ledger(c, sum.Stage)
	p := store.Policy{MaxAttempts: 3}
	if r, err := l.Step(ctx, nil, []store.Claim{{ID: "r0", Lang: "de", Token: "w/1"}}, p, time.Now()); err != nil || first(r).Result != store.ClaimOK {
		t.Fatalf("claim: %v %v", r, err)
	}
	if _, err := st.Pause(ctx, c, who, "fix"); err != nil {
		t.Fatal(err)
	}
	hooked := redis.NewClient(rdb.Options())
	t.Cleanup(func() { _ = hooked.Close() })
	fired := false
	hooked.AddHook(&afterCommand{name: "del", key: "tidings:{" + c + "}:batches", then: func() {
		fired = true
		// The message in flight when the campaign was paused ends now.
		if _, err := l.Step(ctx, []store.Record{{ID: "r0", Lang: "de", Kind: store.KindSent, Code: "250"}}, nil, p, time.Now()); err != nil {
			t.Error(err)
		}
		if _, err := st.EndChunk(ctx, c, sum.Stage, 0, 0, true); err != nil {
			t.Error(err)
		}
	}})
	stage(t, store.New(hooked), c, stageOpts{n: 3, size: 3, resume: true})
	if !fired {
		t.Fatal("the hook never ran")
	}
	s, err := st.Status(ctx, c)
	if err != nil {
		t.Fatal(err)
	}
	fin, _, err := st.ChunkTasks(ctx, c)
	if err != nil {
		t.Fatal(err)
	}
	// r0's record came after the switch: it is dropped, and the staging
	// found r0 still claimed (in doubt: it may have been delivered).
	if s.Counts[store.OutcomeSent] != 0 || s.Counts[store.OutcomeInDoubt] != 1 || s.Counts[store.OutcomePending] != 2 {
		t.Errorf("after re-staging: counts %v, want r0 in doubt (once) and the other 2 pending", s.Counts)
	}
	if fin[0] {
		t.Errorf("chunk 0 of the new staging is marked finished by the old one: its pending recipients would get no task")
	}
}

// TestResumeExistingKeepsSkipped: recipients skipped as already delivered
// (a staging with deliveries excluded) are skipped again by a later
// staging of the same run that is given no exclusions, and that run keeps
// the runs it excluded.
func TestResumeExistingKeepsSkipped(t *testing.T) {
	st := store.New(startRedis(t))
	ctx := context.Background()
	c := "c-skipped"
	sg, err := st.NewStager(ctx, store.StageConfig{Campaign: c, Definition: []byte(`{}`), Hash: "h", Env: "test", Who: "alice", ChunkSize: 7, ExcludedRuns: []string{"run1.w1"}})
	if err != nil {
		t.Fatal(err)
	}
	if err := sg.Add(ctx, store.Recipient{Line: 2, ID: "bob", Email: "bob@x.example", Lang: "de"}, 0, false); err != nil {
		t.Fatal(err)
	}
	if err := sg.Reject(ctx, store.Reject{Line: 3, ID: "ada", Email: "ada@x.example", Outcome: store.OutcomeSkipped, Code: "already-delivered", Field: "email", Reason: "sent according to j.jsonl"}); err != nil {
		t.Fatal(err)
	}
	sum1, err := sg.Finish(ctx, true)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.Pause(ctx, c, who, "fix the template"); err != nil {
		t.Fatal(err)
	}
	// The same file again, without exclusions: ada is a recipient again.
	sg, err = st.NewStager(ctx, store.StageConfig{Campaign: c, Definition: []byte(`{}`), Hash: "h", Env: "test", Who: "alice", ChunkSize: 7, ResumeExisting: true})
	if err != nil {
		t.Fatal(err)
	}
	for i, id := range []string{"bob", "ada"} {
		if err := sg.Add(ctx, store.Recipient{Line: i + 2, ID: id, Email: id + "@x.example", Lang: "de"}, 0, false); err != nil {
			t.Fatal(err)
		}
	}
	sum2, err := sg.Finish(ctx, true)
	if err != nil {
		t.Fatal(err)
	}
	if sum2.Run != sum1.Run || sum2.Kept != 1 {
		t.Errorf("second staging: run %s (first %s), kept %d; want the same run and ada kept", sum2.Run, sum1.Run, sum2.Kept)
	}
	meta, err := st.Meta(ctx, c, false)
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(meta.ExcludedRuns) != "[run1.w1]" {
		t.Errorf("excluded runs %v, want the first staging's [run1.w1]", meta.ExcludedRuns)
	}
	rows := map[string]store.Row{}
	if err := st.Report(ctx, c, func(r store.Row) error { rows[r.ID] = r; return nil }); err != nil {
		t.Fatal(err)
	}
	if a := rows["ada"]; a.Outcome != store.OutcomeSkipped || a.Code != "already-delivered" || a.Response != "sent according to j.jsonl" {
		t.Errorf("ada: %+v, want skipped as already delivered", a)
	}
	if rows["bob"].Outcome != store.OutcomePending {
		t.Errorf("bob: %+v, want pending", rows["bob"])
	}
	l := st.Ledger(c, sum2.Stage)
	if _, err := st.Resume(ctx, c, who, ""); err != nil {
		t.Fatal(err)
	}
	tick(t, st, c, sum2, store.TickParams{})
	r, err := l.Step(ctx, nil, []store.Claim{{ID: "ada", Lang: "de", Token: "w/1"}}, store.Policy{MaxAttempts: 1}, time.Now())
	if err != nil || first(r).Result != store.ClaimSkip {
		t.Errorf("claim of ada: %+v %v, want skipped (never sent again)", r, err)
	}
	s, err := st.Status(ctx, c)
	if err != nil {
		t.Fatal(err)
	}
	if s.Counts[store.OutcomeSkipped] != 1 || s.Counts[store.OutcomePending] != 1 || s.Batches[0].Attempted != 0 {
		t.Errorf("counts %v, batch %+v; want ada skipped, bob pending, nobody attempted", s.Counts, s.Batches[0])
	}
}

// TestPauseIfUnchanged: a pause made on what the caller read (IfAt: a
// worker that found the campaign running and then refused it) is not made
// when someone changed the state since (resumed it after a fix).
func TestPauseIfUnchanged(t *testing.T) {
	st, _, _ := released(t, "c-ifat", 3, 3)
	ctx := context.Background()
	read, err := st.Control(ctx, "c-ifat")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.Pause(ctx, "c-ifat", who, "fixing the catalogs"); err != nil {
		t.Fatal(err)
	}
	time.Sleep(2 * time.Millisecond) // the control's at is in milliseconds
	if _, err := st.Resume(ctx, "c-ifat", who, "fixed"); err != nil {
		t.Fatal(err)
	}
	p := store.TransitionParams{From: []store.State{store.StateRunning}, To: store.StatePaused, Actor: who, Action: "refuse", Reason: "stale", IfAt: read.At}
	if _, moved, err := st.Transition(ctx, "c-ifat", p); err != nil || moved {
		t.Fatalf("pause on a stale read: moved %v, %v; want no move", moved, err)
	}
	now, err := st.Control(ctx, "c-ifat")
	if err != nil || now.State != store.StateRunning {
		t.Fatalf("after the stale pause: %+v %v, want running", now, err)
	}
	p.IfAt = now.At
	if _, moved, err := st.Transition(ctx, "c-ifat", p); err != nil || !moved {
		t.Errorf("pause on a current read: moved %v, %v; want paused", moved, err)
	}
}

// TestOneStagingAtATime: while a send stages a campaign, another staging
// of it is refused with who holds it (two would mix their chunks and
// counters); the first one's Finish, or its Abort when it fails, lets go.
func TestOneStagingAtATime(t *testing.T) {
	st := store.New(startRedis(t))
	ctx := context.Background()
	cfg := func(who string, resume bool) store.StageConfig {
		return store.StageConfig{Campaign: "c-one", Definition: []byte(`{}`), Hash: "h", Env: "test", Who: who, Host: "box", ChunkSize: 7, ResumeExisting: resume}
	}
	a, err := st.NewStager(ctx, cfg("alice", false))
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Add(ctx, store.Recipient{Line: 2, ID: "r0", Email: "r0@x.example", Lang: "de"}, 0, false); err != nil {
		t.Fatal(err)
	}
	var be *store.BeingStagedError
	if _, err := st.NewStager(ctx, cfg("bob", true)); !errors.As(err, &be) || be.By != "alice@box" {
		t.Fatalf("a second staging while alice's runs: %v, want a *BeingStagedError naming alice@box", err)
	}
	if _, err := a.Finish(ctx, false); err != nil {
		t.Fatal(err)
	}
	b, err := st.NewStager(ctx, cfg("bob", true))
	if err != nil {
		t.Fatalf("staging again after alice's finished: %v", err)
	}
	b.Abort(ctx) // bob's send failed (its file changed, say)
	c, err := st.NewStager(ctx, cfg("carol", true))
	if err != nil {
		t.Fatalf("staging again after bob's aborted: %v", err)
	}
	b.Abort(ctx) // bob's late abort does not let go of carol's staging
	if _, err := st.NewStager(ctx, cfg("dave", true)); !errors.As(err, &be) || be.By != "carol@box" {
		t.Errorf("a staging while carol's runs: %v, want a *BeingStagedError naming carol@box", err)
	}
	c.Abort(ctx)
}

// afterFirstScript runs then once, right after the first script call (an
// EVALSHA or EVAL) whose keys include key.
type afterFirstScript struct {
	key  string
	then func()
	once sync.Once
}

func (h *afterFirstScript) DialHook(next redis.DialHook) redis.DialHook { return next }
func (h *afterFirstScript) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		err := next(ctx, cmd)
		if n := cmd.Name(); (n == "evalsha" || n == "eval") && slices.Contains(cmd.Args(), any(h.key)) {
			h.once.Do(h.then)
		}
		return err
	}
}
func (h *afterFirstScript) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return next
}

// TestSweepLeavesANewStagingAlone: a cancel sweeps the campaign chunk by
// chunk; a re-staging that begins meanwhile (the campaign is cancelled, so
// send --resume-existing may stage it again) gets nothing of the sweep in
// its ledger and counters: its recipients are pending, not cancelled.
func TestSweepLeavesANewStagingAlone(t *testing.T) {
	rdb := startRedis(t)
	st := store.New(rdb)
	ctx := context.Background()
	sum := stage(t, st, "c-sweep", stageOpts{n: 21, size: 21}) // 3 chunks of 7
	hooked := redis.NewClient(rdb.Options())
	t.Cleanup(func() { _ = hooked.Close() })
	hooked.AddHook(&afterFirstScript{key: "tidings:{c-sweep}:finished", then: func() {
		stage(t, st, "c-sweep", stageOpts{n: 21, size: 21, resume: true})
	}})
	if _, _, err := store.New(hooked).Cancel(ctx, "c-sweep", who, "wrong file"); err != nil {
		t.Fatal(err)
	}
	s, err := st.Status(ctx, "c-sweep")
	if err != nil {
		t.Fatal(err)
	}
	if s.Stage == sum.Stage || s.Counts[store.OutcomeCancelled] != 0 || s.Counts[store.OutcomePending] != 21 {
		t.Errorf("the new staging after the sweep: stage %s (old %s), counts %v; want all 21 pending", s.Stage, sum.Stage, s.Counts)
	}
}

// TestLeaseLost: a staging whose lease ran out (its send was suspended
// longer than the lease) while another staging took the campaign writes
// nothing more: its next write fails, and the other staging's campaign is
// left as it staged it.
func TestLeaseLost(t *testing.T) {
	rdb := startRedis(t)
	st := store.New(rdb)
	ctx := context.Background()
	a, err := st.NewStager(ctx, store.StageConfig{Campaign: "c-lease", Definition: []byte(`{}`), Hash: "h", Env: "test", Who: "alice", Host: "box", ChunkSize: 7})
	if err != nil {
		t.Fatal(err)
	}
	if err := rdb.Del(ctx, "tidings:{c-lease}:staging").Err(); err != nil { // as if it ran out
		t.Fatal(err)
	}
	bob := stage(t, st, "c-lease", stageOpts{n: 21, size: 21})
	for i := range 3 {
		if err := a.Add(ctx, store.Recipient{Line: i + 2, ID: fmt.Sprint("a", i), Email: fmt.Sprintf("a%d@x.example", i), Lang: "de"}, 0, false); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := a.Finish(ctx, true); err == nil || !strings.Contains(err.Error(), "lease ran out") {
		t.Fatalf("alice's finish after her lease ran out: %v, want it refused", err)
	}
	meta, err := st.Meta(ctx, "c-lease", false)
	if err != nil {
		t.Fatal(err)
	}
	s, err := st.Status(ctx, "c-lease")
	if err != nil {
		t.Fatal(err)
	}
	if meta.Stage != bob.Stage || s.Stage != bob.Stage || meta.Staged != 21 || s.Counts[store.OutcomePending] != 21 {
		t.Errorf("bob's campaign after alice's finish: meta stage %s staged %d, control stage %s, counts %v; want bob's (%s, 21 pending)", meta.Stage, meta.Staged, s.Stage, s.Counts, bob.Stage)
	}
	if recs, err := st.Chunk(ctx, "c-lease", 0); err != nil || recs[0].ID != "r0" {
		t.Errorf("chunk 0: %v %v, want bob's", recs, err)
	}
}

// TestCancelOfTheStagingItRead: a cancel sweeps the staging it read; when
// the campaign is staged anew between that read and the cancel's move, the cancel does not move the new staging to cancelled
// (its recipients would stay pending in a cancelled campaign), and asking
// again cancels the new staging whole.
func TestCancelOfTheStagingItRead(t *testing.T) {
	rdb := startRedis(t)
	st := store.New(rdb)
	ctx := context.Background()
	stage(t, st, "c-read", stageOpts{n: 21, size: 21})
	if _, err := st.Pause(ctx, "c-read", who, "fix"); err != nil {
		t.Fatal(err)
	}
	hooked := redis.NewClient(rdb.Options())
	t.Cleanup(func() { _ = hooked.Close() })
	var anew *store.StageSummary
	hooked.AddHook(&afterCommand{name: "hmget", key: "tidings:{c-read}:meta", then: func() { // the read of its staging and format
		anew = stage(t, st, "c-read", stageOpts{n: 21, size: 21, resume: true}) // stays paused
	}})
	var te *store.TransitionError
	if _, _, err := store.New(hooked).Cancel(ctx, "c-read", who, "wrong file"); !errors.As(err, &te) || te.PausedFor != store.StagedAgain {
		t.Fatalf("cancel across a re-staging: %v, want the cancel not made, as staged again", err)
	}
	s, err := st.Status(ctx, "c-read")
	if err != nil {
		t.Fatal(err)
	}
	if s.Stage != anew.Stage || s.State == store.StateCancelled || s.Counts[store.OutcomePending] != 21 {
		t.Fatalf("the new staging after the cancel: %s (%s), counts %v; want it untouched", s.State, s.Stage, s.Counts)
	}
	if n, _, err := st.Cancel(ctx, "c-read", who, "wrong file"); err != nil || n.Recipients != 21 {
		t.Errorf("cancel again: %d, %v; want the new staging's 21 cancelled", n.Recipients, err)
	}
}
