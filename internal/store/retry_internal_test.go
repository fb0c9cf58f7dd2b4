package store

import (
	"context"
	"errors"
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
	n, err := s.sweep(ctx, "rc", "retry", sum.Stage)
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
	if n, err := s.sweep(ctx, "rc", "retry", sum.Stage); err != nil || n != 1 {
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
	n, err := s.Cancel(ctx, "mc", Actor{Who: "t"}, "x")
	lostChunk0("cancel", err)
	if n != 1 {
		t.Errorf("cancelled %d, want 1 (chunk 1's recipient)", n)
	}

	stage("mr")
	k := keysFor("mr")
	if err := s.rdb.HSet(ctx, k.ledger, "r1", "failed|3|1|451|t|later", "r0", "sent|1|1|250||ok").Err(); err != nil {
		t.Fatal(err)
	}
	if err := s.rdb.HSet(ctx, k.control, "state", string(StateDone)).Err(); err != nil {
		t.Fatal(err)
	}
	n, err = s.Retry(ctx, "mr", Actor{Who: "t"})
	lostChunk0("retry", err)
	if n != 1 {
		t.Errorf("re-queued %d, want 1 (chunk 1's temporary failure)", n)
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
	_, err := s.Cancel(ctx, "ua", Actor{Who: "t"}, "x")
	var ack *AckError
	var lost *LostChunksError
	if !errors.As(err, &ack) || !errors.As(err, &lost) {
		t.Errorf("cancel with a lost chunk, not acknowledged: %v, want both errors", err)
	}
	if err := s.rdb.HSet(ctx, keysFor("ub").control, "state", string(StateDone)).Err(); err != nil {
		t.Fatal(err)
	}
	if n, err := s.Retry(ctx, "ub", Actor{Who: "t"}); n != 0 || err != nil {
		t.Errorf("retry with nothing to re-queue: %d, %v; want 0 and no error", n, err)
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
