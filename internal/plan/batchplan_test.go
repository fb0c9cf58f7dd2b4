package plan

import (
	"bytes"
	"strings"
	"testing"

	"github.com/tidings-mail/tidings/internal/render"
)

// TestBatchPlanWording: the batch plan reads as a sentence whatever the
// numbers: "then" only after a canary, "1 regular batch" (not "1 regular
// batch(es) of 500 (last 1)"), and the last batch's size only when it
// differs. testdata/recipients.csv has 7 rows a staging plan accepts (5
// languages).
func TestBatchPlanWording(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name, batches string
		want, not     []string
	}{
		{"no canary, uneven", "{size: 3, interval: 0s}", []string{"Batch plan: 3 batches\n  3 regular batches of 3 (the last of 1), back to back\n"}, []string{"then", "batch(es)"}},
		{"no canary, one batch", "{size: 500, interval: 1m}", []string{"Batch plan: 1 batch\n  1 regular batch of 7\n"}, []string{"then", "batch(es)", "last"}},
		{"no canary, even", "{size: 7, interval: 0s}", []string{"  1 regular batch of 7\n"}, []string{"last"}},
		{"canary, two of one", "{canary_per_locale: 1, size: 1, interval: 10s}", []string{"  canary: 5 recipients", "  then 2 regular batches of 1, one every 10s\n"}, []string{"batch(es)", "last"}},
		{"canary, one batch", "{canary_per_locale: 1, size: 500, interval: 10s}", []string{"  then 1 regular batch of 2, 10s after the canary\n"}, []string{"batch(es)", "last", "one every"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := testCampaign(t, "locale_policy: {aliases: {gsw: de}}\nbatches: "+tt.batches+"\nrate: 2/s\n")
			s, _ := runFile(t, Input{Campaign: c, Engine: engine(t, render.Policy{Aliases: c.LocalePolicy.Aliases}), Env: staging(t)}, "testdata/recipients.csv")
			var text bytes.Buffer
			if err := s.WriteText(&text, 0); err != nil {
				t.Fatal(err)
			}
			out := text.String()
			for _, w := range tt.want {
				if !strings.Contains(out, w) {
					t.Errorf("lacks %q:\n%s", w, out)
				}
			}
			i := strings.Index(out, "Batch plan:")
			for _, n := range tt.not {
				if i >= 0 && strings.Contains(out[i:], n) {
					t.Errorf("batch plan holds %q:\n%s", n, out[i:])
				}
			}
		})
	}
}
