package store_test

import (
	"context"
	"fmt"
	"math/rand"
	"os"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/tidings-mail/tidings/internal/store"
)

// TestStepMatchesReference runs random operations through lua/step.lua and
// through testdata/step_reference.lua (the step before it was written for
// speed) from the same starting state, and requires the same answers and
// the same keys afterwards. The operations cover every kind, tokens that
// match and that do not (among them tokens that end with another: "xa",
// "|a" of "a", and entries of attempt 10 that begin as a first attempt's),
// replies with '|', NUL and UTF-8, hundreds of languages and replies in a
// big call (the shape's indexes past one byte), the same recipient several
// times in one call, unreleased batches, a cancelled, paused, done, gone or
// re-staged campaign (with the give-backs of its staging before: held,
// finished), retries' outcomes that decide a first-attempt error a retry
// re-queued (gate1) (entries failed, and deferred by a retry with their
// reply kept), a journal's abandoned claim (in doubt, code
// claimed-no-outcome: no error of the gates, so not in doubt1 either), the
// late temporary failure of a claim another pass found in doubt (failed,
// not deferred: entries in doubt with a token and without, records with
// attempts left), an auto-pause in the middle of a call (and one on the
// campaign's last outcome, which pauses nothing), and calls of 900
// to 3,400 operations (the script reads and writes the ledger 1,000 values
// at a time), and calls that name each recipient once (up to 1,000
// operations the script reads their entries by operation instead of by
// id; past that, 1,000 at a time by id).
// TIDINGS_STEP_ITERS sets the number of calls (default 2,000).
func TestStepMatchesReference(t *testing.T) {
	t.Parallel()
	rdb := startRedis(t)
	ctx := context.Background()
	scripts := stepScripts(t)
	keys := stepKeys
	dump := func(ks []string) []any { return dumpKeys(ctx, rdb, ks) }
	iters := 2000
	if v, err := strconv.Atoi(os.Getenv("TIDINGS_STEP_ITERS")); err == nil {
		iters = v
	} else if testing.Short() {
		iters = 300
	}
	// Tokens that end with another ("xa", "|a" of "a": the hot path tells
	// a first attempt's entry by its token's suffix).
	toks := []string{"", "a", "b", "c", "xa", "|a"}
	// A third of the calls with the tokens of one worker, "w-1/" and a
	// counter (lua/step.lua then takes their shared beginning once: TP),
	// one of them all of that beginning.
	wtoks := []string{"w-1/", "w-1/a", "w-1/b", "w-1/c", "w-1/xa", "w-1/|a"}
	for it := range iters {
		rng := rand.New(rand.NewSource(int64(it)))
		toks := toks
		if it%3 == 1 {
			toks = wtoks
		}
		big := rng.Intn(40) == 0
		nids := 1 + rng.Intn(6)
		if big && rng.Intn(2) == 0 {
			nids = 1500 + rng.Intn(2000)
		}
		// The starting state, the same under both prefixes.
		states := []string{"running", "running", "running", "cancelled", "paused", "done"}
		ctl := map[string]any{"state": states[rng.Intn(len(states))], "stage": "s1", "cur_batch": "0"}
		// Every other call, a campaign whose recipients the call's outcomes
		// may all be of (an auto-pause on its last outcome pauses nothing).
		ctl["total"] = "1000000"
		if it%2 == 0 {
			ctl["total"] = strconv.Itoa(it % 7)
		}
		if rng.Intn(2) == 0 {
			// Released (or resumed), nothing claimed since: the batch's idle
			// time, which the first claim ends at Redis's TIME (the two
			// scripts' differ): since a time to come, it adds nothing.
			ctl["idle_since"], ctl["idle_ms"] = "4102444800000", "2500"
			if rng.Intn(2) == 0 { // and resumed after a pause of 4 s
				ctl["idle_pending_ms"] = "4000"
			}
		}
		gone := rng.Intn(20) == 0
		entries := map[string]string{}
		for i := range nids {
			tk, id := toks[1+rng.Intn(len(toks)-1)], "r"+strconv.Itoa(i)
			switch rng.Intn(12) {
			case 0:
				entries[id] = "sending|1|5|||" + tk
			case 1:
				entries[id] = "sending|2|5|||" + tk
			case 2:
				entries[id] = "deferred|1|0||t|later"
			case 3:
				entries[id] = "in-doubt|1|5||k:" + tk + "|x"
			case 4:
				entries[id] = "in-doubt|2|5|||x"
			case 5:
				entries[id] = "sent|1|5|250||ok"
			case 6:
				entries[id] = "cancelled|1|5|||c"
			case 7: // re-queued by a retry (lua/sweep_chunk.lua), its reply kept
				entries[id] = "deferred|3|0|550 5.1.1||no such user"
			case 8:
				entries[id] = "failed|1|5|550||x"
			case 9: // begins as a first attempt's does
				entries[id] = "sending|10|5|||" + tk
			}
		}
		held := map[string]any{"none": "x"}
		for _, tk := range toks[1:4] {
			if rng.Intn(2) == 0 {
				held[tk] = fmt.Sprintf(`{"i":"r%d","l":"de","b":0,"c":%d}`, rng.Intn(nids), rng.Intn(2))
			}
		}
		// First-attempt errors the batch gate counts, some of them re-queued
		// by a retry (r...): drawn from their own source, so that the draws
		// above stay as they were.
		g1rng, gate1 := rand.New(rand.NewSource(int64(it)+1<<40)), map[string]any{}
		for i := range nids {
			if v := []string{"", "t", "p", "rt", "rp"}[g1rng.Intn(5)]; v != "" {
				gate1["r"+strconv.Itoa(i)] = v
			}
		}
		pos := rng.Intn(10)
		var failedAt []int
		for q := max(pos-3, 1); q <= pos; q++ {
			if rng.Intn(2) == 0 {
				failedAt = append(failedAt, q)
			}
		}
		for _, prefix := range []string{"ref:", "new:"} {
			ks := keys(prefix)
			rdb.Del(ctx, ks...)
			if !gone {
				rdb.HSet(ctx, ks[2], ctl)
			}
			if len(entries) > 0 {
				rdb.HSet(ctx, ks[0], entries)
			}
			rdb.HSet(ctx, ks[4], "p", pos)
			// Where a staging since kept some claims in doubt (held), and
			// its finished chunks: for the give-backs of a staging before.
			rdb.HSet(ctx, ks[10], held)
			rdb.SAdd(ctx, ks[11], "0", "1")
			if len(gate1) > 0 {
				rdb.HSet(ctx, ks[12], gate1)
			}
			for _, q := range failedAt {
				rdb.ZAdd(ctx, ks[5], redis.Z{Score: float64(q), Member: q})
			}
		}
		// The operations, in each script's layout.
		nops := rng.Intn(12)
		if big {
			nops = 900 + rng.Intn(2500)
		}
		// A third of the calls name each recipient once (the worker's
		// usual call: the script then reads the entries by operation).
		var distinct []int
		if rng.Intn(3) == 0 {
			distinct = rng.Perm(nids)
			nops = min(nops, nids)
		}
		stage := "s1"
		if rng.Intn(20) == 0 {
			stage = "s0" // staged anew since
		}
		hdr := []any{stage, 1 + rng.Intn(3), []int{0, 4, 10}[rng.Intn(3)], []float64{0, 0.3}[rng.Intn(2)], rng.Intn(4), "h", "e", "1700000000123", nops}
		// step.lua's header is the reference's without its 9th value (the
		// number of operations: step.lua counts them from the shape), and
		// its 9th, the sender's counter, is left empty: it then answers
		// the campaign's sent count, as the reference does.
		refArgs, ops := append([]any{}, hdr...), []any{}
		kinds := []string{"sent", "failed", "temp", "refused", "invalid", "skipped", "in-doubt", "unclaim", "unclaim"}
		// Languages and replies: a big call has hundreds of each, so that
		// lua/step.lua's 3-byte indexes of them go past one byte.
		langs, resps := []string{"de", "fr"}, []string{"resp", "resp", "", "r|e\x00sp ü"}
		if big {
			for i := range 300 {
				langs, resps = append(langs, "l"+strconv.Itoa(i)), append(resps, "resp "+strconv.Itoa(i))
			}
		}
		for o := range nops {
			id, batch := "r"+strconv.Itoa(rng.Intn(nids)), rng.Intn(4)/3 // batch 1 is not released
			if distinct != nil {
				id = "r" + strconv.Itoa(distinct[o])
			}
			if rng.Intn(2) == 0 {
				k := kinds[rng.Intn(len(kinds))]
				code, lang, tok := []string{"250", "451", "550", "claimed-no-outcome"}[rng.Intn(4)], langs[rng.Intn(len(langs))], toks[rng.Intn(len(toks))]
				resp := resps[rng.Intn(len(resps))]
				refArgs = append(refArgs, "r", id, k, code, resp, lang, batch, tok)
				ops = append(ops, store.Record{Kind: store.Kind(k), ID: id, Code: code, Response: resp, Lang: lang, Batch: batch, Token: tok})
			} else {
				lang, tok := langs[rng.Intn(len(langs))], toks[1+rng.Intn(len(toks)-1)]
				refArgs = append(refArgs, "c", id, lang, batch, tok, "", "", "")
				ops = append(ops, store.Claim{ID: id, Lang: lang, Batch: batch, Token: tok})
			}
		}
		newArgs := store.StepArgs(append(hdr[:8:8], ""), ops)
		refRes, refErr := scripts[0].Run(ctx, rdb, keys("ref:"), refArgs...).Result()
		newRes, newErr := scripts[1].Run(ctx, rdb, keys("new:"), newArgs...).Result()
		if fmt.Sprint(refErr) != fmt.Sprint(newErr) {
			t.Fatalf("call %d: errors differ: reference %v, step.lua %v", it, refErr, newErr)
		}
		if refRes != nil {
			refRes = stepAnswer(refRes.([]any), ops)
		}
		if !reflect.DeepEqual(refRes, newRes) {
			t.Fatalf("call %d: answers differ:\nreference %v\nstep.lua  %v\nARGV %v", it, refRes, newRes, newArgs)
		}
		if r, n := dump(keys("ref:")), dump(keys("new:")); !reflect.DeepEqual(r, n) {
			t.Fatalf("call %d: keys differ:\nreference %v\nstep.lua  %v\nARGV %v", it, r, n, newArgs)
		}
	}
}

// stepAnswer is the reference's answer (2 values per claim, then the
// state, the auto-pause reason, the sent count and the pairs (record
// number, outcome written)) in step.lua's layout for the same operations
// ops (Record or Claim): the three values and the number of claims, then
// in the order of the operations each record's pair and a triple (-claim
// number, result, attempt) for each claim not answered OK at attempt 1.
func stepAnswer(ref []any, ops []any) []any {
	nc := 0
	for _, o := range ops {
		if _, ok := o.(store.Claim); ok {
			nc++
		}
	}
	out, pairs := append(slices.Clone(ref[2*nc:2*nc+3]), int64(nc)), ref[2*nc+3:]
	nrec, ncl := int64(0), 0
	for _, o := range ops {
		if _, ok := o.(store.Claim); ok {
			if r, a := ref[2*ncl], ref[2*ncl+1]; r != int64(1) || a != int64(1) {
				out = append(out, -int64(ncl+1), r, a)
			}
			ncl++
			continue
		}
		nrec++
		if len(pairs) > 0 && pairs[0] == nrec {
			out, pairs = append(out, pairs[0], pairs[1]), pairs[2:]
		}
	}
	return out
}

// stepScripts loads the reference step (testdata/step_reference.lua, the
// step before it was written for speed) and lua/step.lua as the store
// runs it (its include lines replaced: store.ScriptSource), in that order.
func stepScripts(t *testing.T) []*redis.Script {
	t.Helper()
	ref, err := os.ReadFile("testdata/step_reference.lua")
	if err != nil {
		t.Fatal(err)
	}
	return []*redis.Script{redis.NewScript(string(ref)), redis.NewScript(store.ScriptSource("step"))}
}

// stepKeys are the step's KEYS, each named prefix and its role.
func stepKeys(prefix string) []string {
	names := []string{"ledger", "counts", "control", "bstats", "win", "winerr", "errors", "audit", "persec", "wsent", "held", "finished", "gate1"}
	ks := make([]string, len(names))
	for i, n := range names {
		ks[i] = prefix + n
	}
	return ks
}

// dumpKeys is the content of every key of ks, in order (a missing key by
// its type, "none"). An auto-pause's time (the control's `at` and its
// audit entry's), which both scripts take from Redis's TIME at their own
// call, is "Redis's now" when it is of the hour before Redis's now (the
// tests' worker clock, ARGV's now, is of 2023).
func dumpKeys(ctx context.Context, rdb *redis.Client, ks []string) []any {
	var out []any
	now := rdb.Time(ctx).Val()
	for _, k := range ks {
		switch typ := rdb.Type(ctx, k).Val(); typ {
		case "hash":
			h := rdb.HGetAll(ctx, k).Val()
			if strings.HasSuffix(k, "bstats") {
				h = attemptedOf(h, strings.Contains(k, "new:"))
			}
			if strings.HasSuffix(k, "control") && h["action"] == "auto-pause" {
				h["at"] = redisTimeOf(h["at"], now)
			}
			out = append(out, h)
		case "list":
			l := rdb.LRange(ctx, k, 0, -1).Val()
			for i, e := range l {
				if strings.HasSuffix(k, "audit") && strings.Contains(e, `"action":"auto-pause"`) {
					l[i] = auditAt.ReplaceAllStringFunc(e, func(m string) string { return `"at":"` + redisTimeOf(m[len(`"at":`):], now) + `"` })
				}
			}
			out = append(out, l)
		case "set":
			out = append(out, rdb.SMembersMap(ctx, k).Val())
		case "zset":
			out = append(out, rdb.ZRangeWithScores(ctx, k, 0, -1).Val())
		default:
			out = append(out, typ)
		}
	}
	return out
}

// auditAt is an audit entry's time as lua/step.lua's cjson writes it.
var auditAt = regexp.MustCompile(`"at":\d+`)

// redisTimeOf is at (unix ms) as "Redis's now" when it is of the hour
// before now (Redis's), else as written.
func redisTimeOf(at string, now time.Time) string {
	ms, err := strconv.ParseInt(at, 10, 64)
	if t := time.UnixMilli(ms); err == nil && !t.After(now) && t.After(now.Add(-time.Hour)) {
		return "Redis's now"
	}
	return at
}

// attemptedOf is bstats h with each batch's count of what it attempted
// as testdata/step_reference.lua writes it, "<b>:attempted" (0: absent);
// of lua/step.lua's (isNew), from its tried + sent - sent_late.
func attemptedOf(h map[string]string, isNew bool) map[string]string {
	out := map[string]string{}
	att := map[string]int{}
	for f, v := range h {
		i := strings.LastIndex(f, ":")
		b, c := f[:i+1], f[i+1:]
		n, _ := strconv.Atoi(v)
		switch c {
		case "tried", "sent_late":
			if c == "sent_late" {
				n = -n
			}
			att[b] += n
			continue
		case "sent":
			att[b] += n
		case "attempted":
			if n != 0 {
				out[f] = v
			}
			continue
		}
		out[f] = v
	}
	if !isNew {
		return out
	}
	for b, n := range att {
		if n != 0 {
			out[b+"attempted"] = strconv.Itoa(n)
		}
	}
	return out
}
