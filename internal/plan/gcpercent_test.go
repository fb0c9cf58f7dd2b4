package plan

import (
	"context"
	"fmt"
	"os"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"strings"
	"testing"

	"github.com/tidings-mail/tidings/internal/render"
)

// gcPercent returns the runtime's GC percent (setting it reads it).
func gcPercent() int {
	p := debug.SetGCPercent(100)
	debug.SetGCPercent(p)
	return p
}

// benchRows is a CSV file of n rows in the languages of engine, some of
// them refused.
func benchRows(n int) string {
	var in strings.Builder
	in.WriteString("id,email,locale,name,posts\n")
	locales := []string{"de", "fr-FR", "ja", "ar", "en", "de-CH", "it", "pt-BR"}
	for i := range n {
		fmt.Fprintf(&in, "u%d,user%d@example.com,%s,Name %d 😀,%d\n", i, i, locales[i%len(locales)], i, i%7)
	}
	return in.String()
}

// TestRunLowersGCPercentWhileItRuns: while Run reads a file the GC runs at
// GCPercent (what Run holds live is its index of the addresses seen, which
// the default percent would let the heap double), the default comes back
// after it, and a GC percent the operator set (GOGC) is kept. Not parallel:
// the GC percent is the process's.
func TestRunLowersGCPercentWhileItRuns(t *testing.T) {
	defer debug.SetGCPercent(debug.SetGCPercent(100)) // as go test was started
	t.Setenv("GOGC", "")                              // restored after the test, whatever the cases set
	c := testCampaign(t, "")
	eng := engine(t, render.Policy{})
	for _, tc := range []struct {
		gogc           string // the environment's GOGC, "" unset
		before, during int
	}{
		{"", 100, GCPercent}, // the runtime's default
		{"200", 200, 200},    // GOGC=200
		{"off", -1, -1},      // GOGC=off
		{"100", 100, 100},    // GOGC=100, set by the operator: kept too
	} {
		if tc.gogc == "" {
			os.Unsetenv("GOGC") //nolint:errcheck // restored below
		} else {
			os.Setenv("GOGC", tc.gogc) //nolint:errcheck
		}
		debug.SetGCPercent(tc.before)
		var during []int
		_, err := Run(context.Background(), Input{Campaign: c, Engine: eng, Recipients: strings.NewReader(benchRows(3)), RecipientsName: "r.csv"},
			func(Accepted) error { during = append(during, gcPercent()); return nil })
		if err != nil {
			t.Fatal(err)
		}
		if len(during) == 0 {
			t.Fatalf("GOGC %d: no row accepted", tc.before)
		}
		for _, p := range during {
			if p != tc.during {
				t.Errorf("GOGC %d: GC percent %d while Run ran, want %d", tc.before, p, tc.during)
			}
		}
		if p := gcPercent(); p != tc.before {
			t.Errorf("GOGC %d: GC percent %d after Run, want %d back", tc.before, p, tc.before)
		}
	}
}

// BenchmarkRunHeap reports the largest heap the runtime let Run grow to
// (its heap goal, sampled every 1,000 rows) while it reads 200,000 rows,
// in bytes a row: what planning or staging a large file costs in memory
// besides the binary itself (send's peak RSS is measured on the real
// binary, see docs/benchmarks.md).
func BenchmarkRunHeap(b *testing.B) {
	const rows = 200_000
	data := benchRows(rows)
	c := testCampaign(b, "")
	eng := engine(b, render.Policy{})
	goal := []metrics.Sample{{Name: "/gc/heap/goal:bytes"}}
	for b.Loop() {
		runtime.GC()
		var peak uint64
		n := 0
		_, err := Run(context.Background(), Input{Campaign: c, Engine: eng, Recipients: strings.NewReader(data), RecipientsName: "b.csv"}, func(Accepted) error {
			if n++; n%1_000 == 0 {
				metrics.Read(goal)
				peak = max(peak, goal[0].Value.Uint64())
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(float64(peak)/rows, "peak-heap-goal-B/row")
	}
}
