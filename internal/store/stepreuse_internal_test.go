package store

import (
	"fmt"
	"math/rand"
	"testing"
)

// argvOf is what go-redis writes of args: each *string as its string.
func argvOf(args []any) []string {
	out := make([]string, len(args))
	for i, a := range args {
		if p, ok := a.(*string); ok {
			a = *p
		}
		out[i] = fmt.Sprint(a)
	}
	return out
}

// TestStepOpsReusedWritesTheSameArgv: a Ledger's round trips reuse one
// stepOps (Ledger.ops); each call's ARGV is the one a new stepOps makes
// for it, whatever the calls before it held (more or fewer operations, a
// recipient named twice, tokens with or without a shared beginning,
// other languages, batches and replies, the call before released or
// not), and a released stepOps holds none of the call's values.
func TestStepOpsReusedWritesTheSameArgv(t *testing.T) {
	t.Parallel()
	hdr := []any{"stage", 3, 0, 0.5, 20, "host", "env", "1700000000000", "sender"}
	kinds := []Kind{KindSent, KindFailed, KindTemp, KindRefused, KindInDoubt, KindUnclaim}
	var reused stepOps
	for it := range 300 {
		rng := rand.New(rand.NewSource(int64(it)))
		n := 1 + rng.Intn(40)
		if it%7 == 0 {
			n = 1
		}
		prefix := []string{"", "w-1/", "w-2/x"}[rng.Intn(3)]
		var ops []any
		for i := range n {
			id := fmt.Sprint("r", rng.Intn(2*n)) // sometimes named twice
			lang, batch := []string{"de", "fr", "en"}[rng.Intn(3)], rng.Intn(3)
			tok := prefix + fmt.Sprint(i)
			if rng.Intn(2) == 0 {
				ops = append(ops, Claim{ID: id, Lang: lang, Batch: batch, Token: tok})
				continue
			}
			ops = append(ops, Record{ID: id, Lang: lang, Batch: batch, Kind: kinds[rng.Intn(len(kinds))],
				Code: fmt.Sprint(250 + rng.Intn(3)), Response: fmt.Sprint("ok ", rng.Intn(3)), Token: tok})
		}
		want := argvOf(StepArgs(hdr, ops))
		reused.add(ops)
		got := argvOf(reused.args(hdr...))
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("call %d (%d operations): reused ARGV\n%q\nwant a new stepOps's\n%q", it, n, got, want)
		}
		if it%5 == 4 {
			continue // not released: the next call's ARGV must not depend on it
		}
		reused.release()
		for name, vs := range map[string][]any{"ids": reused.ids, "toks": reused.toks, "pairs": reused.pairs,
			"replies": reused.replies, "argv": reused.argv, "rest": reused.rest} {
			for i, v := range vs {
				if v != nil {
					t.Fatalf("call %d: released, %s[%d] still holds %v", it, name, i, v)
				}
			}
		}
		for i, s := range reused.restStr {
			if s != "" {
				t.Fatalf("call %d: released, restStr[%d] still holds %q", it, i, s)
			}
		}
		if len(reused.named)+len(reused.pairAt)+len(reused.replyAt) != 0 {
			t.Fatalf("call %d: released, its maps still hold %d, %d, %d entries", it, len(reused.named), len(reused.pairAt), len(reused.replyAt))
		}
	}
}
