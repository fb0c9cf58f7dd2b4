package worker_test

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"

	"github.com/tidings-mail/tidings/internal/store"
	"github.com/tidings-mail/tidings/internal/syncbuf"
	"github.com/tidings-mail/tidings/internal/wait"
	"github.com/tidings-mail/tidings/worker"
)

// TestOtherStoredFormatNotSent: a campaign staged by a build of another
// stored format (a newer one, an older one, or one before stored formats:
// no format in its meta), with its chunks' tasks queued as that build's
// workers would have queued them, is neither sent nor written into by
// this worker: the campaign's keys are the same after as before, its
// tasks are given back (not ended), and the worker says so in one ERROR
// line, whatever the passes of its loops and tasks that met it. Once the
// format is this build's, the same worker sends everyone exactly once.
func TestOtherStoredFormatNotSent(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name   string
		format string // "": no format field
		says   string
	}{
		{"newer", strconv.Itoa(store.StoredFormat + 1), "stop this worker or upgrade it"},
		{"older", strconv.Itoa(store.StoredFormat - 1), "stop this worker until workers of format"},
		{"none", "", "stored format 0 (a build before stored formats)"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			e := newEnv(t, nil)
			// A paused campaign of this format: the worker checks in for
			// it, in the same pass as for every campaign it checks in for.
			e.stage(t, opts{name: "witness", n: 6})
			if _, err := e.st.Pause(ctx, "witness", store.Actor{Who: "tester", Env: "test"}, "a witness"); err != nil {
				t.Fatal(err)
			}
			e.stage(t, opts{n: 30, chunk: 10})
			meta := "tidings:{" + e.name + "}:meta"
			if tt.format == "" {
				if err := e.rdb.HDel(ctx, meta, "format").Err(); err != nil {
					t.Fatal(err)
				}
			} else if err := e.rdb.HSet(ctx, meta, "format", tt.format).Err(); err != nil {
				t.Fatal(err)
			}
			ids := queueChunks(t, e)
			before := campaignKeys(t, e.rdb, e.name)
			logs := &syncbuf.Buffer{}
			e.startWorker(t, wopts{id: "w1", logs: logs})

			// Every task was taken and given back with the refusal, and
			// the control loop met the campaign running (ERROR line).
			insp := asynq.NewInspectorFromRedisClient(e.rdb)
			wait.For(t, 30*time.Second, "every chunk's task given back for its format", func() bool {
				if e.smtp.Count() > 0 {
					return true // sent: said below
				}
				for _, id := range ids {
					info, err := insp.GetTaskInfo(worker.QueueOf("test"), id)
					if err != nil || !strings.Contains(info.LastErr, "stored format") {
						return false
					}
				}
				return strings.Contains(logs.String(), "level=ERROR")
			}, logs.String)
			// Two check-in passes after the ERROR line (the control loop had
			// the campaign's state then) went by.
			since, err := e.rdb.Time(ctx).Result()
			if err != nil {
				t.Fatal(err)
			}
			var passes []string
			wait.For(t, 30*time.Second, "two check-ins for the witness", func() bool {
				v := e.rdb.HGet(ctx, "tidings:{witness}:checkins", "w1").Val()
				at, _, _ := strings.Cut(v, " ")
				if ms, _ := strconv.ParseInt(at, 10, 64); ms > since.UnixMilli() && !slices.Contains(passes, at) {
					passes = append(passes, at)
				}
				return len(passes) >= 2
			})
			if n := e.smtp.Count(); n != 0 {
				t.Errorf("sent %d messages of a campaign of another stored format", n)
			}
			if after := campaignKeys(t, e.rdb, e.name); !maps.Equal(before, after) {
				t.Errorf("the worker wrote into a campaign of another stored format:\n%s", keysDiff(before, after))
			}
			errs := errorLines(logs.String())
			if len(errs) != 1 {
				t.Fatalf("%d ERROR lines, want 1:\n%s", len(errs), strings.Join(errs, "\n"))
			}
			for _, w := range []string{"campaign=" + e.name, "was staged by a build with stored format", "this worker (version ",
				fmt.Sprintf("has format %d", store.StoredFormat), "run workers of one build per environment", tt.says} {
				if !strings.Contains(errs[0], w) {
					t.Errorf("the ERROR line lacks %q:\n%s", w, errs[0])
				}
			}

			// It records its build, which doctor reads.
			wait.For(t, 30*time.Second, "the worker's build record, its stored format first", func() bool {
				return strings.HasPrefix(e.rdb.HGet(ctx, store.BuildsKey("test"), "w1").Val(), strconv.Itoa(store.StoredFormat)+" ")
			})

			// The right format: the same worker sends it all, once each.
			if err := e.rdb.HSet(ctx, meta, "format", store.StoredFormat).Err(); err != nil {
				t.Fatal(err)
			}
			e.waitState(t, 60*time.Second, store.StateDone)
			st := e.checkReconcile(t)
			if st.Counts[store.OutcomeSent] != int64(e.staged) || e.smtp.Count() != e.staged {
				t.Errorf("sent %d (SMTP %d), want %d", st.Counts[store.OutcomeSent], e.smtp.Count(), e.staged)
			}
			if n := len(errorLines(logs.String())); n != 1 {
				t.Errorf("%d ERROR lines in all, want 1:\n%s", n, logs.String())
			}
		})
	}
}

// queueChunks queues a task for every chunk of e's campaign, as the tick
// of a worker that sends it does when it releases the batches, and
// returns their ids.
func queueChunks(t *testing.T, e *env) []string {
	t.Helper()
	ctx := context.Background()
	m, err := e.st.Meta(ctx, e.name, false)
	if err != nil {
		t.Fatal(err)
	}
	c := asynq.NewClientFromRedisClient(e.rdb)
	var ids []string
	for b, bi := range m.Batches {
		for n := bi.First; n <= bi.Last; n++ {
			p, _ := json.Marshal(map[string]any{"c": e.name, "s": m.Stage, "n": n, "b": b})
			id := fmt.Sprintf("other-build-%d", n)
			if _, err := c.EnqueueContext(ctx, asynq.NewTask(worker.TaskChunk, p), asynq.TaskID(id), asynq.Queue(worker.QueueOf("test")), asynq.MaxRetry(1000)); err != nil {
				t.Fatal(err)
			}
			ids = append(ids, id)
		}
	}
	if len(ids) < 2 {
		t.Fatalf("%d chunks, want several", len(ids))
	}
	return ids
}

// campaignKeys reads every key of campaign c, by type, as text.
func campaignKeys(t *testing.T, rdb *redis.Client, c string) map[string]string {
	t.Helper()
	ctx := context.Background()
	keys, err := rdb.Keys(ctx, "tidings:{"+c+"}:*").Result()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, k := range keys {
		var v any
		switch typ := rdb.Type(ctx, k).Val(); typ {
		case "string":
			v, err = rdb.Get(ctx, k).Result()
		case "hash":
			v, err = rdb.HGetAll(ctx, k).Result()
		case "list":
			v, err = rdb.LRange(ctx, k, 0, -1).Result()
		case "set":
			var s []string
			s, err = rdb.SMembers(ctx, k).Result()
			slices.Sort(s)
			v = s
		case "zset":
			v, err = rdb.ZRangeWithScores(ctx, k, 0, -1).Result()
		default:
			v = "type " + typ
		}
		if err != nil {
			t.Fatal(err)
		}
		b, _ := json.Marshal(v)
		out[k] = string(b)
	}
	if len(out) < 5 {
		t.Fatalf("campaign %s has %d keys: %v", c, len(out), keys)
	}
	return out
}

// keysDiff says which keys differ between two campaignKeys reads.
func keysDiff(before, after map[string]string) string {
	var b strings.Builder
	all := maps.Clone(before)
	maps.Copy(all, after)
	for _, k := range slices.Sorted(maps.Keys(all)) {
		if before[k] != after[k] {
			fmt.Fprintf(&b, "%s:\n  before %s\n  after  %s\n", k, before[k], after[k])
		}
	}
	return b.String()
}

// errorLines returns the lines of log at level ERROR.
func errorLines(log string) []string {
	var out []string
	for l := range strings.Lines(log) {
		if strings.Contains(l, "level=ERROR") {
			out = append(out, strings.TrimSpace(l))
		}
	}
	return out
}
