package store

import (
	"context"
	"errors"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tidings-mail/tidings/internal/redistest"
)

// TestRetryChunkAfterCancel: a retry's chunk that runs after a cancel (the
// cancel landed between two chunks of the retry) re-queues nobody, so no
// recipient is left deferred in a cancelled campaign.
func TestRetryChunkAfterCancel(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := New(redistest.Start(t).Client())
	sg, err := s.NewStager(ctx, StageConfig{Campaign: "rc", Definition: []byte(`{}`), Hash: "h", Env: "test", Who: "t"})
	if err != nil {
		t.Fatal(err)
	}
	if err := sg.Add(ctx, Recipient{Line: 2, ID: "r0", Email: "r0@x.example", Locale: "de", Lang: "de"}, 0, false); err != nil {
		t.Fatal(err)
	}
	sum, err := sg.Finish(ctx, true)
	if err != nil {
		t.Fatal(err)
	}
	k := keysFor("rc")
	failed := "failed|1|1|451|t|later"
	if err := s.rdb.HSet(ctx, k.ledger, "r0", failed).Err(); err != nil {
		t.Fatal(err)
	}
	if err := s.rdb.HSet(ctx, k.control, "state", string(StateCancelled)).Err(); err != nil {
		t.Fatal(err)
	}
	n, _, _, err := s.sweep(ctx, "rc", "retry", sum.Stage, RetryScope{}, nil)
	if err != nil || n != 0 {
		t.Fatalf("retry of a cancelled campaign's chunk: %d, %v; want 0", n, err)
	}
	if v := s.rdb.HGet(ctx, k.ledger, "r0").Val(); v != failed {
		t.Errorf("entry %q, want it untouched (%q)", v, failed)
	}
	// The same chunk of a campaign that runs is re-queued.
	if err := s.rdb.HSet(ctx, k.control, "state", string(StateDone)).Err(); err != nil {
		t.Fatal(err)
	}
	if n, _, _, err := s.sweep(ctx, "rc", "retry", sum.Stage, RetryScope{}, nil); err != nil || n != 1 {
		t.Fatalf("retry of a done campaign's chunk: %d, %v; want 1", n, err)
	}
}

// TestMissingChunkSaysSo: a chunk key Redis lost is named, not reported as
// a JSON error, and does not stop a cancel from recording the other
// chunks' recipients, nor a retry from re-queuing them and running the
// campaign again.
func TestMissingChunkSaysSo(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := New(redistest.Start(t).Client())
	stage := func(c string) {
		stageTwoChunks(t, s, c)
		if err := s.rdb.Del(ctx, keysFor(c).chunk(0)).Err(); err != nil {
			t.Fatal(err)
		}
	}
	lostChunk0 := func(what string, err error) {
		t.Helper()
		var lost *LostChunksError
		if !errors.As(err, &lost) || len(lost.Chunks) != 1 || lost.Chunks[0] != 0 || !strings.Contains(err.Error(), "Redis lost chunk(s) [0]") {
			t.Errorf("%s with a lost chunk: %v, want chunk 0 named as lost", what, err)
		}
	}

	stage("mc")
	n, _, err := s.Cancel(ctx, "mc", Actor{Who: "t"}, "x")
	lostChunk0("cancel", err)
	if n.Recipients != 1 {
		t.Errorf("cancelled %d, want 1 (chunk 1's recipient)", n.Recipients)
	}

	stage("mr")
	k := keysFor("mr")
	if err := s.rdb.HSet(ctx, k.ledger, "r1", "failed|3|1|451|t|later", "r0", "sent|1|1|250||ok").Err(); err != nil {
		t.Fatal(err)
	}
	if err := s.rdb.HSet(ctx, k.control, "state", string(StateDone)).Err(); err != nil {
		t.Fatal(err)
	}
	retried, err := s.Requeue(ctx, "mr", Actor{Who: "t"}, RetryScope{})
	lostChunk0("retry", err)
	if retried.N != 1 {
		t.Errorf("re-queued %d, want 1 (chunk 1's temporary failure)", retried.N)
	}
	if st := s.rdb.HGet(ctx, k.control, "state").Val(); st != string(StateRunning) {
		t.Errorf("state after the retry: %s, want running (the re-queued recipient is sent)", st)
	}
}

// TestLostChunkAndUnacknowledgedWrites: a lost chunk does not hide that the
// replicas did not acknowledge a cancel (a failover could undo it), and a
// retry that re-queued nobody is no error however many replicas answered.
func TestLostChunkAndUnacknowledgedWrites(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	r := redistest.Start(t)
	if r.Embedded {
		t.Skip("the embedded Redis has no WAIT; CI runs this on redis-server")
	}
	plain := New(r.Client())
	s := NewWithConfig(r.Client(), Config{ReplicaAcks: 1, AckTimeout: 10 * time.Millisecond}) // no replica: never acknowledged
	stageTwoChunks(t, plain, "ua")
	stageTwoChunks(t, plain, "ub")
	if err := s.rdb.Del(ctx, keysFor("ua").chunk(0)).Err(); err != nil {
		t.Fatal(err)
	}
	_, _, err := s.Cancel(ctx, "ua", Actor{Who: "t"}, "x")
	var ack *AckError
	var lost *LostChunksError
	if !errors.As(err, &ack) || !errors.As(err, &lost) {
		t.Errorf("cancel with a lost chunk, not acknowledged: %v, want both errors", err)
	}
	if err := s.rdb.HSet(ctx, keysFor("ub").control, "state", string(StateDone)).Err(); err != nil {
		t.Fatal(err)
	}
	if retried, err := s.Requeue(ctx, "ub", Actor{Who: "t"}, RetryScope{}); retried.N != 0 || err != nil {
		t.Errorf("retry with nothing to re-queue: %d, %v; want 0 and no error", retried.N, err)
	}
}

// stageTwoChunks stages and starts campaign c with recipients r0 and r1,
// one per chunk, and returns the staging.
func stageTwoChunks(t *testing.T, s *Store, c string) *StageSummary {
	t.Helper()
	ctx := context.Background()
	sg, err := s.NewStager(ctx, StageConfig{Campaign: c, Definition: []byte(`{}`), Hash: "h", Env: "test", Who: "t", ChunkSize: 1})
	if err != nil {
		t.Fatal(err)
	}
	for i, id := range []string{"r0", "r1"} {
		if err := sg.Add(ctx, Recipient{Line: 2 + i, ID: id, Email: id + "@x.example", Locale: "de", Lang: "de"}, 0, false); err != nil {
			t.Fatal(err)
		}
	}
	sum, err := sg.Finish(ctx, true)
	if err != nil {
		t.Fatal(err)
	}
	return sum
}

// TestRetryScopes: a retry re-queues the temporary failures; with
// Permanent also those failed for good by an SMTP 5xx reply (never
// delivered), and with a code only the failures whose last reply has it,
// basic or enhanced. Nobody sent, in doubt, refused or failed without a
// reply is re-queued by any of them; a re-queued permanent failure keeps
// its code, reply and flag, counts reconcile, and the audit log says what
// was re-queued.
func TestRetryScopes(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := New(redistest.Start(t).Client())
	entries := map[string]string{
		"temp":    "failed|3|1|451 4.7.1|t|greylisted",
		"relay":   "failed|1|1|554 5.7.1||Relay access denied",
		"unknown": "failed|1|1|550 5.1.1||<u@x.example>: Recipient address rejected",
		"basic":   "failed|1|1|550||mailbox unavailable",
		"nocode":  "failed|1|1|||invalid message: no SMTPUTF8",
		"doubt":   "in-doubt|1|1|||no reply after the message was sent",
		"doubt5":  "in-doubt|1|1|550 5.0.0||a reply came too late",
		"sent":    "sent|1|1|250||ok",
		"refused": "refused|0|1|locale-not-covered||no catalog",
	}
	for _, tc := range []struct {
		name  string
		scope RetryScope
		want  []string // re-queued
		audit string
	}{
		{"default", RetryScope{}, []string{"temp"}, "1 temporary failures re-queued"},
		{"permanent", RetryScope{Permanent: true}, []string{"basic", "relay", "temp", "unknown"}, "4 temporary and permanent failures re-queued"},
		{"enhanced code", RetryScope{Permanent: true, Code: "5.7.1"}, []string{"relay"}, "1 temporary and permanent failures with reply code 5.7.1 re-queued"},
		{"basic code", RetryScope{Permanent: true, Code: "550"}, []string{"basic", "unknown"}, "2 temporary and permanent failures with reply code 550 re-queued"},
		{"temporary code", RetryScope{Code: "451"}, []string{"temp"}, "1 temporary failures with reply code 451 re-queued"},
		{"permanent code without permanent", RetryScope{Code: "5.7.1"}, nil, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := "rs-" + strings.ReplaceAll(tc.name, " ", "-")
			sg, err := s.NewStager(ctx, StageConfig{Campaign: c, Definition: []byte(`{}`), Hash: "h", Env: "test", Who: "t"})
			if err != nil {
				t.Fatal(err)
			}
			k := keysFor(c)
			var failed int64
			for id, e := range entries {
				if err := sg.Add(ctx, Recipient{Line: 2, ID: id, Email: id + "@x.example", Lang: "de"}, 0, false); err != nil {
					t.Fatal(err)
				}
				if err := s.rdb.HSet(ctx, k.ledger, id, e).Err(); err != nil {
					t.Fatal(err)
				}
				if strings.HasPrefix(e, "failed|") {
					failed++
				}
			}
			if _, err := sg.Finish(ctx, true); err != nil {
				t.Fatal(err)
			}
			if err := s.rdb.HSet(ctx, k.counts, "failed", failed).Err(); err != nil {
				t.Fatal(err)
			}
			if err := s.rdb.HSet(ctx, k.control, "state", string(StateDone)).Err(); err != nil {
				t.Fatal(err)
			}
			retried, err := s.Requeue(ctx, c, Actor{Who: "t"}, tc.scope)
			if err != nil || retried.N != len(tc.want) {
				t.Fatalf("retry %+v: %d, %v; want %d (%v)", tc.scope, retried.N, err, len(tc.want), tc.want)
			}
			var got []string
			for id, e := range entries {
				v := s.rdb.HGet(ctx, k.ledger, id).Val()
				switch {
				case strings.HasPrefix(v, "deferred|"):
					got = append(got, id)
					// Due now; the attempts, code, flag and reply kept.
					f := strings.Split(e, "|")
					if want := strings.Join(append([]string{"deferred", f[1], "0"}, f[3:]...), "|"); v != want {
						t.Errorf("%s re-queued as %q, want %q", id, v, want)
					}
				case v != e:
					t.Errorf("%s: %q, want it untouched (%q)", id, v, e)
				}
			}
			slices.Sort(got)
			if !slices.Equal(got, tc.want) {
				t.Errorf("re-queued %v, want %v", got, tc.want)
			}
			cnt := s.rdb.HGetAll(ctx, k.counts).Val()
			if cnt["failed"] != strconv.Itoa(int(failed)-retried.N) || cnt["deferred"] != strconv.Itoa(retried.N) && retried.N > 0 {
				t.Errorf("counts %v, want failed %d and deferred %d", cnt, int(failed)-retried.N, retried.N)
			}
			st, err := s.Status(ctx, c)
			if err != nil {
				t.Fatal(err)
			}
			if a := st.Audit[len(st.Audit)-1]; retried.N > 0 && (a.Action != "retry" || a.Reason != tc.audit || st.State != StateRunning) {
				t.Errorf("state %s, audit %+v; want running, %q", st.State, a, tc.audit)
			}
		})
	}
	// A re-queued permanent failure cancelled says what its last attempt was.
	c := "rs-permanent"
	if _, _, err := s.Cancel(ctx, c, Actor{Who: "t"}, "stop"); err != nil {
		t.Fatal(err)
	}
	if v, want := s.rdb.HGet(ctx, keysFor(c).ledger, "relay").Val(), "|554 5.7.1||cancelled after a permanent failure; last reply: Relay access denied"; !strings.HasSuffix(v, want) {
		t.Errorf("relay cancelled while re-queued: %q, want it to end %q", v, want)
	}
	if _, err := s.Requeue(ctx, c, Actor{Who: "t"}, RetryScope{Permanent: true, Code: "5.7"}); !errors.As(err, new(*ReplyCodeError)) {
		t.Errorf("retry with code 5.7: %v, want a *ReplyCodeError", err)
	}
}
