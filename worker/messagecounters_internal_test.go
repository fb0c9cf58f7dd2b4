package worker

import (
	"fmt"
	"slices"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
)

// series is every series of vec as "labels=value", in the registry's order.
func series(t *testing.T, vec *prometheus.CounterVec) []string {
	t.Helper()
	reg := prometheus.NewRegistry()
	reg.MustRegister(vec)
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			s := ""
			for _, l := range m.GetLabel() {
				s += fmt.Sprintf("%s=%q,", l.GetName(), l.GetValue())
			}
			out = append(out, fmt.Sprint(s, " ", m.GetCounter().GetValue()))
		}
	}
	return out
}

// TestMessageCountersAsWithLabelValues: counting through messageCounters
// gives every series of tidings_messages_total the value that
// WithLabelValues(...).Inc() for each message gives, and keeps one child
// for each distinct campaign, language and outcome, whatever the order
// (the kept child must be the one of all three labels, not of one).
func TestMessageCountersAsWithLabelValues(t *testing.T) {
	t.Parallel()
	type msg struct{ campaign, lang, outcome string }
	for _, tc := range []struct {
		name string
		msgs []msg
		kids int
	}{
		{"none", nil, 0},
		{"one", []msg{{"c", "en", "sent"}}, 1},
		{"same thrice", []msg{{"c", "en", "sent"}, {"c", "en", "sent"}, {"c", "en", "sent"}}, 1},
		{"languages", []msg{{"c", "en", "sent"}, {"c", "de-CH", "sent"}, {"c", "en", "sent"}, {"c", "ja", "sent"}, {"c", "de-CH", "sent"}}, 3},
		{"outcomes of one language", []msg{{"c", "en", "sent"}, {"c", "en", "failed"}, {"c", "en", "sent"}, {"c", "en", "in-doubt"}}, 3},
		{"language and outcome swapped", []msg{{"c", "sent", "en"}, {"c", "en", "sent"}, {"c", "en", "sent"}}, 2},
		{"campaigns", []msg{{"a", "en", "sent"}, {"b", "en", "sent"}, {"a", "en", "sent"}}, 2},
		{"empty labels", []msg{{"c", "", "sent"}, {"c", "en", ""}, {"c", "", ""}, {"c", "", "sent"}}, 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			opts := prometheus.CounterOpts{Name: "tidings_messages_total", Help: "h"}
			labels := []string{"campaign", "lang", "outcome"}
			got, want := prometheus.NewCounterVec(opts, labels), prometheus.NewCounterVec(opts, labels)
			var mc messageCounters
			for _, m := range tc.msgs {
				mc.inc(got, m.campaign, m.lang, m.outcome)
				want.WithLabelValues(m.campaign, m.lang, m.outcome).Inc()
			}
			if g, w := series(t, got), series(t, want); !slices.Equal(g, w) {
				t.Errorf("series %q, want %q (WithLabelValues for each message)", g, w)
			}
			if len(mc.kids) != tc.kids {
				t.Errorf("%d children kept, want %d (one for each distinct campaign, lang, outcome)", len(mc.kids), tc.kids)
			}
		})
	}
}
