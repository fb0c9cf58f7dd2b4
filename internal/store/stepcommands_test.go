package store_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/tidings-mail/tidings/internal/redistest"
	"github.com/tidings-mail/tidings/internal/store"
)

// TestStepCommandsDoNotGrowWithLanguages: the commands a ledger step calls
// in Redis (each costs Redis about a microsecond of its own, more than most
// of what the script does per recipient: docs/benchmarks.md, "Where Redis's
// CPU goes") do not depend on how many languages its window holds. The
// campaign's counters (sent, and sent per language) are read and written
// with one command each, not one HINCRBY per language: with 6 languages in
// a window of 16, the step called 15 commands per call before, 10 after.
// Counted in INFO commandstats of a redis-server of the test's own (no
// other test's commands in its counts), on the worker's hot path: a step
// that records a window sent and claims the next.
func TestStepCommandsDoNotGrowWithLanguages(t *testing.T) {
	conf := filepath.Join(t.TempDir(), "redis.conf")
	if err := os.WriteFile(conf, []byte("save \"\"\nappendonly no\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	rdb := redistest.StartServer(t, conf).Client()
	st := store.New(rdb)
	ctx := context.Background()
	p := store.Policy{MaxAttempts: 3, Window: 200, ErrorRate: 0.2, MinAttempts: 50,
		Host: "h", Env: "test", Sender: "run|worker"}
	const window = 16
	// commands returns the commands one hot-path step called (the step's
	// own EVALSHA and the reads of commandstats left out).
	commands := func(name string, langs []string) float64 {
		t.Helper()
		sum := stage(t, st, name, stageOpts{n: 3 * window, size: 3 * window})
		tick(t, st, name, sum, store.TickParams{})
		l := st.Ledger(name, sum.Stage)
		claims := func(from int) []store.Claim {
			cls := make([]store.Claim, window)
			for i := range cls {
				id := fmt.Sprint("r", from+i)
				cls[i] = store.Claim{ID: id, Lang: langs[i%len(langs)], Token: "t" + id}
			}
			return cls
		}
		sent := func(cls []store.Claim) []store.Record {
			recs := make([]store.Record, len(cls))
			for i, c := range cls {
				recs[i] = store.Record{ID: c.ID, Lang: c.Lang, Kind: store.KindSent, Code: "250", Response: "2.0.0 Ok", Token: c.Token}
			}
			return recs
		}
		first := claims(0)
		if _, err := l.Step(ctx, nil, first, p, time.Now()); err != nil {
			t.Fatal(err)
		}
		calls0, _ := commandStats(t, rdb)
		res, err := l.Step(ctx, sent(first), claims(window), p, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		calls1, _ := commandStats(t, rdb)
		for _, a := range res.Claims {
			if a.Result != store.ClaimOK {
				t.Fatalf("%s: claim answered %v, want OK", name, a.Result)
			}
		}
		var n float64
		for k, v := range calls1 {
			if k != "evalsha" && k != "eval" && k != "info" {
				n += v - calls0[k]
			}
		}
		return n
	}
	tests := []struct {
		name  string
		langs []string
	}{
		{"one", []string{"en"}},
		{"six", []string{"en", "de", "fr", "it", "ja", "ar"}},
	}
	got := map[string]float64{}
	for _, tt := range tests {
		got[tt.name] = commands("cmds-"+tt.name, tt.langs)
	}
	if got["six"] != got["one"] {
		t.Errorf("a step of %d recipients in 6 languages called %v commands, in 1 language %v: want the same", window, got["six"], got["one"])
	}
	if got["six"] > 10 {
		t.Errorf("a step of %d recipients in 6 languages called %v commands, want at most 10", window, got["six"])
	}
}
