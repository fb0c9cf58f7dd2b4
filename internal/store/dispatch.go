package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// Meta is what staging recorded about a campaign.
type Meta struct {
	Campaign   string            `json:"campaign"`
	Definition []byte            `json:"-"`
	Hash       string            `json:"hash"`
	Snapshot   map[string][]byte `json:"-"`
	Env        string            `json:"env"`
	CreatedBy  string            `json:"created_by"`
	CreatedAt  time.Time         `json:"created_at"`
	Staged     int               `json:"staged"`
	Rejected   int               `json:"rejected"`
	NBatches   int               `json:"batches"`
	NChunks    int               `json:"chunks"`
	ChunkSize  int               `json:"chunk_size"`
	Columns    []string          `json:"columns"`
	Epoch      int64             `json:"epoch"`
}

// Meta reads the staging metadata of c; withSnapshot also decodes the
// template snapshot (large).
func (s *Store) Meta(ctx context.Context, c string, withSnapshot bool) (*Meta, error) {
	fields := []string{"def", "hash", "env", "created_by", "created_at", "total", "rejected", "nbatches", "nchunks", "chunk_size", "columns", "epoch"}
	snapshot := len(fields) // index of the snapshot, when asked for
	if withSnapshot {
		fields = append(fields, "snapshot")
	}
	v, err := s.rdb.HMGet(ctx, keysFor(c).meta, fields...).Result()
	if err != nil {
		return nil, fmt.Errorf("read meta of %s: %w", c, err)
	}
	str := func(i int) string { x, _ := v[i].(string); return x }
	if v[0] == nil {
		return nil, notFound("read meta", c)
	}
	m := &Meta{Campaign: c, Definition: []byte(str(0)), Hash: str(1), Env: str(2), CreatedBy: str(3), CreatedAt: fromMS(atoi64(str(4))),
		Staged: atoi(str(5)), Rejected: atoi(str(6)), NBatches: atoi(str(7)), NChunks: atoi(str(8)), ChunkSize: atoi(str(9)),
		Epoch: atoi64(str(11))}
	if err := json.Unmarshal([]byte(str(10)), &m.Columns); err != nil && str(10) != "" {
		return nil, fmt.Errorf("read meta of %s: columns: %w", c, err)
	}
	if withSnapshot && str(snapshot) != "" {
		if err := json.Unmarshal([]byte(str(snapshot)), &m.Snapshot); err != nil {
			return nil, fmt.Errorf("read meta of %s: snapshot: %w", c, err)
		}
	}
	return m, nil
}

// Chunk reads chunk n of campaign c.
func (s *Store) Chunk(ctx context.Context, c string, n int) ([]Recipient, error) {
	b, err := s.rdb.Get(ctx, keysFor(c).chunk(n)).Bytes()
	if err != nil {
		return nil, fmt.Errorf("read chunk %d of %s: %w", n, c, err)
	}
	var recs []Recipient
	if err := json.Unmarshal(b, &recs); err != nil {
		return nil, fmt.Errorf("decode chunk %d of %s: %w", n, c, err)
	}
	return recs, nil
}

// Active lists the campaigns workers must look at (staged, running,
// awaiting approval, paused).
func (s *Store) Active(ctx context.Context) ([]string, error) {
	v, err := s.rdb.SMembers(ctx, keyActive).Result()
	if err != nil {
		return nil, fmt.Errorf("list active campaigns: %w", err)
	}
	return v, nil
}

// Heartbeat marks worker id alive for ttl.
func (s *Store) Heartbeat(ctx context.Context, id string, ttl time.Duration) error {
	if err := s.rdb.Set(ctx, WorkerKey(id), ms(time.Now()), ttl).Err(); err != nil {
		return fmt.Errorf("heartbeat: %w", err)
	}
	return nil
}

var lockScript = redis.NewScript(`
local v = redis.call('GET', KEYS[1])
if v == ARGV[1] then redis.call('PEXPIRE', KEYS[1], ARGV[2]) return 1 end
if v then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return 1
`)

// Lock takes or extends the dispatcher lock of c for owner.
func (s *Store) Lock(ctx context.Context, c, owner string, ttl time.Duration) (bool, error) {
	n, err := lockScript.Run(ctx, s.rdb, []string{keysFor(c).lock}, owner, ttl.Milliseconds()).Int()
	if err != nil {
		return false, fmt.Errorf("lock %s: %w", c, err)
	}
	return n == 1, nil
}

// BatchProgress are the counters of one batch.
type BatchProgress struct {
	Attempted  int `json:"attempted"`
	Sent       int `json:"sent"`
	Failed     int `json:"failed"`
	Errors1    int `json:"first_attempt_errors"`
	Temp       int `json:"temporary_errors"`
	Perm       int `json:"permanent_errors"`
	Refused    int `json:"refused"`
	InDoubt    int `json:"in_doubt"`
	Skipped    int `json:"skipped"`
	Cancelled  int `json:"cancelled"`
	ChunksDone int `json:"chunks_done"`
}

func parseBatchProgress(m map[string]string) BatchProgress {
	return BatchProgress{Attempted: atoi(m["attempted"]), Sent: atoi(m["sent"]), Failed: atoi(m["failed"]), Errors1: atoi(m["errors1"]),
		Temp: atoi(m["temp"]), Perm: atoi(m["perm"]), Refused: atoi(m["refused"]), InDoubt: atoi(m["in-doubt"]),
		Skipped: atoi(m["skipped"]), Cancelled: atoi(m["cancelled"]), ChunksDone: atoi(m["chunks_done"])}
}

// Batch reads batch b's table entry and counters.
func (s *Store) Batch(ctx context.Context, c string, b int) (BatchInfo, BatchProgress, error) {
	k := keysFor(c)
	p := s.rdb.Pipeline()
	ic := p.HGet(ctx, k.batches, strconv.Itoa(b))
	pc := p.HGetAll(ctx, k.batch(b))
	if _, err := p.Exec(ctx); err != nil {
		return BatchInfo{}, BatchProgress{}, fmt.Errorf("read batch %d of %s: %w", b, c, err)
	}
	var bi BatchInfo
	if err := json.Unmarshal([]byte(ic.Val()), &bi); err != nil {
		return bi, BatchProgress{}, fmt.Errorf("read batch %d of %s: %w", b, c, err)
	}
	return bi, parseBatchProgress(pc.Val()), nil
}

// SetControl sets dispatcher fields of the control hash (cur_batch,
// batch_done_at) without touching the state.
func (s *Store) SetControl(ctx context.Context, c string, fields ...any) error {
	if err := s.rdb.HSet(ctx, keysFor(c).control, fields...).Err(); err != nil {
		return fmt.Errorf("set control of %s: %w", c, err)
	}
	return nil
}

// ChunkGen returns the current generation of chunk n (0 if never bumped).
func (s *Store) ChunkGen(ctx context.Context, c string, n int) (int64, error) {
	v, err := s.rdb.HGet(ctx, keysFor(c).chunkgen, strconv.Itoa(n)).Int64()
	if errors.Is(err, redis.Nil) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("read generation of chunk %d of %s: %w", n, c, err)
	}
	return v, nil
}

func chunkField(n int) string { return "c" + strconv.Itoa(n) }

// beginChunkScript KEYS: 1 running, 2 chunkgen; ARGV: 1 field, 2 chunk,
// 3 gen, 4 owner value.
var beginChunkScript = redis.NewScript(`
if (redis.call('HGET', KEYS[2], ARGV[2]) or '0') ~= ARGV[3] then return 0 end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[4])
return 1
`)

// BeginChunk records that worker holds chunk n at gen; if the worker dies,
// the dispatcher re-enqueues the chunk (Orphans). It returns false, and
// records nothing, when gen is outdated: the chunk was taken over by a newer
// generation, whose holder's entry must not be overwritten.
func (s *Store) BeginChunk(ctx context.Context, c string, n int, gen int64, worker string) (bool, error) {
	k := keysFor(c)
	g := strconv.FormatInt(gen, 10)
	ok, err := beginChunkScript.Run(ctx, s.rdb, []string{k.running, k.chunkgen}, chunkField(n), strconv.Itoa(n), g, worker+"|"+g).Int()
	if err != nil {
		return false, fmt.Errorf("begin chunk %d of %s: %w", n, c, err)
	}
	return ok == 1, nil
}

// endChunkScript KEYS: 1 running, 2 interrupted, 3 chunksdone, 4 b:<batch>
// ARGV: 1 field, 2 owner value, 3 chunk, 4 complete, 5 resume index
var endChunkScript = redis.NewScript(`
if redis.call('HGET', KEYS[1], ARGV[1]) == ARGV[2] then redis.call('HDEL', KEYS[1], ARGV[1]) end
if ARGV[4] == '1' then
  if redis.call('SADD', KEYS[3], ARGV[3]) == 1 then redis.call('HINCRBY', KEYS[4], 'chunks_done', 1) end
else
  redis.call('HSET', KEYS[2], ARGV[3], ARGV[5])
end
return 1
`)

// EndChunk releases chunk n held by worker at gen. complete means every
// recipient of the chunk was attempted at least once; otherwise the chunk is
// marked interrupted at index resume and re-enqueued when the campaign runs.
func (s *Store) EndChunk(ctx context.Context, c string, batch, n int, gen int64, worker string, complete bool, resume int) error {
	k := keysFor(c)
	cf := "0"
	if complete {
		cf = "1"
	}
	err := endChunkScript.Run(ctx, s.rdb, []string{k.running, k.interrupted, k.done, k.batch(batch)},
		chunkField(n), worker+"|"+strconv.FormatInt(gen, 10), n, cf, resume).Err()
	if err != nil {
		return fmt.Errorf("end chunk %d of %s: %w", n, c, err)
	}
	return nil
}

// ReleaseChunk gives back chunk n that owner took over (TakeInterrupted,
// Reclaim) but could not enqueue: it becomes interrupted at resume again,
// for the next dispatch.
func (s *Store) ReleaseChunk(ctx context.Context, c string, n int, gen int64, owner string, resume int) error {
	return s.EndChunk(ctx, c, 0, n, gen, owner, false, resume)
}

// BeginRetry records a retry pass over members ("chunk:index") held by
// worker under field; EndRetry releases it.
func (s *Store) BeginRetry(ctx context.Context, c, field, worker string, members []string) error {
	if err := s.rdb.HSet(ctx, keysFor(c).running, field, worker+"|"+strings.Join(members, ",")).Err(); err != nil {
		return fmt.Errorf("begin retry of %s: %w", c, err)
	}
	return nil
}

// EndRetry releases a retry pass; members not processed (pause, shutdown)
// go back to the retry queue, due now.
func (s *Store) EndRetry(ctx context.Context, c, field string, unprocessed []string) error {
	k := keysFor(c)
	p := s.rdb.TxPipeline()
	p.HDel(ctx, k.running, field)
	now := float64(ms(time.Now()))
	for _, m := range unprocessed {
		p.ZAdd(ctx, k.retry, redis.Z{Score: now, Member: m})
	}
	if _, err := p.Exec(ctx); err != nil {
		return fmt.Errorf("end retry of %s: %w", c, err)
	}
	return nil
}

// takeInterruptedScript KEYS: 1 interrupted, 2 chunkgen, 3 running; ARGV:
// 1 chunk, 2 running field, 3 owner. The chunk moves from interrupted to
// running under the dispatching worker in one step, so that it is never
// held by nobody: if the dispatcher dies before the task is enqueued, the
// orphan is recovered; if the enqueue fails, ReleaseChunk gives it back.
var takeInterruptedScript = redis.NewScript(`
local v = redis.call('HGET', KEYS[1], ARGV[1])
if not v then return {-1, 0} end
redis.call('HDEL', KEYS[1], ARGV[1])
local g = redis.call('HINCRBY', KEYS[2], ARGV[1], 1)
redis.call('HSET', KEYS[3], ARGV[2], ARGV[3] .. '|' .. g)
return {g, tonumber(v)}
`)

// Interrupted lists the chunks stopped by pause or shutdown.
func (s *Store) Interrupted(ctx context.Context, c string) ([]int, error) {
	v, err := s.rdb.HKeys(ctx, keysFor(c).interrupted).Result()
	if err != nil {
		return nil, fmt.Errorf("read interrupted chunks of %s: %w", c, err)
	}
	out := make([]int, 0, len(v))
	for _, f := range v {
		out = append(out, atoi(f))
	}
	return out, nil
}

// TakeInterrupted moves chunk n from the interrupted set to the running
// tasks held by owner (the dispatching worker) and bumps its generation; it
// returns the new generation and the index to resume at, or gen -1 when the
// chunk was not interrupted. The task that then runs takes the chunk over
// (BeginChunk); if it cannot be enqueued, call ReleaseChunk.
func (s *Store) TakeInterrupted(ctx context.Context, c string, n int, owner string) (gen int64, resume int, err error) {
	k := keysFor(c)
	res, err := takeInterruptedScript.Run(ctx, s.rdb, []string{k.interrupted, k.chunkgen, k.running}, strconv.Itoa(n), chunkField(n), owner).Int64Slice()
	if err != nil {
		return 0, 0, fmt.Errorf("take interrupted chunk %d of %s: %w", n, c, err)
	}
	return res[0], int(res[1]), nil
}

// Orphan is a chunk or retry pass held by a worker whose heartbeat expired.
type Orphan struct {
	Field   string
	Worker  string
	Chunk   int      // chunk tasks
	Members []string // retry passes
	value   string
}

// Orphans lists the tasks held by dead workers.
func (s *Store) Orphans(ctx context.Context, c string) ([]Orphan, error) {
	m, err := s.rdb.HGetAll(ctx, keysFor(c).running).Result()
	if err != nil {
		return nil, fmt.Errorf("read running tasks of %s: %w", c, err)
	}
	var out []Orphan
	alive := map[string]bool{}
	for f, v := range m {
		w, rest, _ := strings.Cut(v, "|")
		ok, seen := alive[w]
		if !seen {
			n, err := s.rdb.Exists(ctx, WorkerKey(w)).Result()
			if err != nil {
				return nil, fmt.Errorf("check worker %s: %w", w, err)
			}
			ok = n == 1
			alive[w] = ok
		}
		if ok {
			continue
		}
		o := Orphan{Field: f, Worker: w, value: v, Chunk: -1}
		if strings.HasPrefix(f, "c") {
			o.Chunk = atoi(f[1:])
		} else if rest != "" {
			o.Members = strings.Split(rest, ",")
		}
		out = append(out, o)
	}
	return out, nil
}

// reclaimScript KEYS: 1 running, 2 chunkgen, 3 retry; ARGV: 1 field,
// 2 orphan value, 3 chunk ("" for a retry pass), 4 now, 5 new owner, then
// retry members. A chunk stays in running, now held by the new owner.
var reclaimScript = redis.NewScript(`
if redis.call('HGET', KEYS[1], ARGV[1]) ~= ARGV[2] then return -1 end
redis.call('HDEL', KEYS[1], ARGV[1])
if ARGV[3] ~= '' then
  local g = redis.call('HINCRBY', KEYS[2], ARGV[3], 1)
  redis.call('HSET', KEYS[1], ARGV[1], ARGV[5] .. '|' .. g)
  return g
end
for i = 6, #ARGV do redis.call('ZADD', KEYS[3], ARGV[4], ARGV[i]) end
return 0
`)

// Reclaim takes over an orphan: a chunk gets a new generation (returned)
// and is held by owner until the task the caller enqueues takes it over
// (ReleaseChunk if the enqueue fails); a retry pass's members go back to
// the retry queue. It returns -1 when the orphan changed meanwhile.
func (s *Store) Reclaim(ctx context.Context, c string, o Orphan, owner string) (int64, error) {
	k := keysFor(c)
	args := []any{o.Field, o.value, "", ms(time.Now()), owner}
	if o.Chunk >= 0 {
		args[2] = strconv.Itoa(o.Chunk)
	}
	for _, m := range o.Members {
		args = append(args, m)
	}
	g, err := reclaimScript.Run(ctx, s.rdb, []string{k.running, k.chunkgen, k.retry}, args...).Int64()
	if err != nil {
		return 0, fmt.Errorf("reclaim %s of %s: %w", o.Field, c, err)
	}
	return g, nil
}

// popRetryScript KEYS: 1 retry, 2 running; ARGV: 1 now, 2 limit, 3 hold
// field, 4 owner. Popped members are held in running under the owner until
// their tasks are enqueued (then ReleaseRetries), so that a dispatcher
// dying in between loses none of them: the orphan goes back to the queue.
var popRetryScript = redis.NewScript(`
local v = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, ARGV[2])
if #v == 0 then return v end
redis.call('ZREM', KEYS[1], unpack(v))
-- A hold left by a release that failed goes back to the queue (the ledger
-- makes a second retry pass over a recipient harmless).
local held = redis.call('HGET', KEYS[2], ARGV[3])
if held then
  for m in string.gmatch(string.match(held, '^[^|]*|(.*)$') or '', '[^,]+') do
    redis.call('ZADD', KEYS[1], ARGV[1], m)
  end
end
redis.call('HSET', KEYS[2], ARGV[3], ARGV[4] .. '|' .. table.concat(v, ','))
return v
`)

// HoldField is the running field under which owner holds popped retry
// members until their tasks are enqueued.
func HoldField(owner string) string { return "p" + owner }

// PopDueRetries moves up to limit retry members due at now from the retry
// queue to a hold of owner (HoldField) and returns them grouped by chunk
// (indices into the chunk). Once their tasks are enqueued, release the hold
// with EndRetry(HoldField(owner), members not enqueued).
func (s *Store) PopDueRetries(ctx context.Context, c string, now time.Time, limit int, owner string) (map[int][]int, error) {
	k := keysFor(c)
	v, err := popRetryScript.Run(ctx, s.rdb, []string{k.retry, k.running}, ms(now), limit, HoldField(owner), owner).StringSlice()
	if err != nil {
		return nil, fmt.Errorf("pop due retries of %s: %w", c, err)
	}
	out := map[int][]int{}
	for _, m := range v {
		a, b, _ := strings.Cut(m, ":")
		out[atoi(a)] = append(out[atoi(a)], atoi(b))
	}
	return out, nil
}

// NextID returns a new sequence number of campaign c (retry task ids).
func (s *Store) NextID(ctx context.Context, c string) (int64, error) {
	v, err := s.rdb.HIncrBy(ctx, keysFor(c).control, "seq", 1).Result()
	if err != nil {
		return 0, fmt.Errorf("next id of %s: %w", c, err)
	}
	return v, nil
}

// Counts reads the counts hash of c: outcome -> n, "lang:<l>:<outcome>" ->
// n, "staged:<l>" -> n.
func (s *Store) Counts(ctx context.Context, c string) (map[string]int64, error) {
	m, err := s.rdb.HGetAll(ctx, keysFor(c).counts).Result()
	if err != nil {
		return nil, fmt.Errorf("read counts of %s: %w", c, err)
	}
	out := make(map[string]int64, len(m))
	for f, v := range m {
		out[f] = atoi64(v)
	}
	return out, nil
}

// Terminal is the number of recipients (staged and rejected) with a final
// outcome, from counts.
func Terminal(counts map[string]int64) int64 {
	var n int64
	for _, o := range terminal {
		n += counts[o]
	}
	return n
}

// PendingRetries is the number of deferred recipients waiting for a retry.
func (s *Store) PendingRetries(ctx context.Context, c string) (int64, error) {
	n, err := s.rdb.ZCard(ctx, keysFor(c).retry).Result()
	if err != nil {
		return 0, fmt.Errorf("read retries of %s: %w", c, err)
	}
	return n, nil
}

// TrimRate drops per-second counters older than a minute.
func (s *Store) TrimRate(ctx context.Context, c string, now time.Time) error {
	k := keysFor(c)
	f, err := s.rdb.HKeys(ctx, k.persec).Result()
	if err != nil {
		return fmt.Errorf("trim rate of %s: %w", c, err)
	}
	cut := now.Unix() - 60
	var old []string
	for _, x := range f {
		if atoi64(x) < cut {
			old = append(old, x)
		}
	}
	if len(old) > 0 {
		return s.rdb.HDel(ctx, k.persec, old...).Err()
	}
	return nil
}
