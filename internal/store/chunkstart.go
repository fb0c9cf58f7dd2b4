package store

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"
)

// ChunkStart is what a chunk task reads before it claims anyone: the
// campaign's control and the state key it is checked against (Control and
// StateKey, as a worker's check reads them), and the chunk's recipients
// (Chunk). StartChunk reads them in one round trip instead of three.
type ChunkStart struct {
	Control *Control // nil when Err is set
	Key     string   // the state key of Control (StateKey)
	// Err is why Control or Key could not be read: what Control or
	// StateKey would have returned.
	Err error
	// Recs and ChunkErr are what Chunk would have returned (a
	// *LostChunksError when Redis lost the chunk): a caller acts on
	// ChunkErr only once its check of the control passed, as it would
	// have read the chunk only then.
	Recs     []Recipient
	ChunkErr error
	// Fresh reports that nobody can have begun the chunk in the staging
	// of Control before this call: its recipients have no ledger entry
	// then, and a caller may take each for pending without reading the
	// entries (Entries). Only that read rests on it: every claim still
	// reads its recipient's entry (lua/step.lua), so a pass of the chunk
	// that runs at the same time cannot make two claims of one recipient
	// both send. See fresh.
	Fresh bool
}

// StartChunk reads chunk n of campaign c and c's control and state key,
// each with the result and the error Chunk, Control and StateKey give, in
// one pipeline: a chunk's start cost Redis three requests, each read,
// parsed and answered by a system call of its own (docs/benchmarks.md,
// "What a chunk costs Redis"). On Cluster, INFO goes to the master of c's
// slot as StateKey sends it, the other two through the cluster client (two
// round trips).
func (s *Store) StartChunk(ctx context.Context, c string, n int) ChunkStart {
	k := keysFor(c)
	p := s.rdb.Pipeline()
	ctl := p.HGetAll(ctx, k.control)
	var info *redis.StringCmd
	if _, ok := s.rdb.(*redis.Client); ok {
		info = p.Info(ctx, "server")
	}
	chunk := p.MGet(ctx, k.chunk(n))
	fresh := p.SRem(ctx, k.fresh, n)
	_, _ = p.Exec(ctx) // each command's error is its own, below
	var cs ChunkStart
	if err := chunk.Err(); err != nil {
		cs.ChunkErr = fmt.Errorf("read chunk %d of %s: %w", n, c, err)
	} else {
		cs.Recs, cs.ChunkErr = decodeChunk(c, n, chunk.Val()[0])
	}
	m, err := ctl.Result()
	switch {
	case err != nil:
		cs.Err = fmt.Errorf("read control of %s: %w", c, err)
		return cs
	case len(m) == 0:
		cs.Err = s.notFound(ctx, "read control", c)
		return cs
	}
	at := parseControl(m).At
	if info != nil {
		cs.Key, cs.Err = stateKeyOf(c, at, info.Val(), "", info.Err())
	} else {
		cs.Key, cs.Err = s.StateKey(ctx, c, at) // Cluster: the slot's master
	}
	if cs.Err == nil {
		cs.Control = parseControl(m)
		cs.Fresh = isFresh(m, fresh)
	}
	return cs
}

// isFresh reports whether chunk n, taken out of the campaign's fresh
// chunks by this call (took, SREM), is still as the staging of control m
// left it: no entry of the ledger is of its recipients. The promise, and
// what each part of it rests on:
//
//   - The staging found the ledger empty and made every chunk fresh in the
//     script that ended it (lua/stage_end.lua), naming itself in the
//     control (fresh_stage); a staging with any ledger (kept by
//     --resume-existing, with deferred retries and claims in doubt; rows
//     skipped as delivered) makes none fresh, and one begun since (by any
//     version) changes the control's stage, so fresh_stage no longer names
//     it.
//   - A chunk leaves the set in the round trip that reads it, before its
//     first claim, and only once (SREM answers 1 to one caller): a worker
//     killed after it, a pass run again, a retry, a resume, all find it
//     begun. A sweep (cancel) takes it out too (lua/sweep_chunk.lua). Redis
//     restored from a backup, or a replica promoted, has a prefix of those
//     writes, in order: where the ledger has an entry of the chunk, the
//     chunk is out of the set.
//
// Should a chunk that began be called fresh all the same, nothing is
// sent twice even so: the claim (lua/step.lua) reads each recipient's entry and
// claims none that has an outcome or another's claim
// (TestWronglyFreshChunkSendsNobodyTwice).
//
// Any error, or a campaign without fresh_stage (its staging kept a
// ledger), is not fresh: the entries are read.
func isFresh(m map[string]string, took *redis.IntCmd) bool {
	return took.Val() == 1 && took.Err() == nil && m["fresh_stage"] != "" && m["fresh_stage"] == m["stage"]
}

// stateKeyOf is StateKey's answer for campaign c, control At at, given
// what INFO answered (its server section, the role its replication section
// says, "" when not asked) and its error.
func stateKeyOf(c string, at time.Time, info, role string, err error) (string, error) {
	key := strconv.FormatInt(at.UnixMilli(), 10) + "/"
	switch {
	case err == nil && role != "" && role != "master":
		return "", fmt.Errorf("read the Redis run id: the node serving %s answers as a %s (a failover the client has not seen yet): for now", c, role)
	case err == nil:
		return key + infoField(info, "run_id"), nil
	case refused(err):
		return key, nil
	default: // unreachable, BUSY, LOADING, ...: for now
		return "", fmt.Errorf("read the Redis run id: %w", err)
	}
}
