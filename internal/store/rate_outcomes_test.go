package store_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/tidings-mail/tidings/internal/store"
)

// TestRateCountsOutcomesNotRetries: Status.Rate (status's "msg/s", the
// console's Rate, tidings_campaign_send_rate, and the rate the ETA runs
// at) counts the records that give a recipient an outcome (sent, failed
// for good, a last temporary failure that fails it), never a temporary
// failure deferred for a retry, which leaves the recipient pending: during
// a burst of connection refusals the rate was 2.0 msg/s while nobody had
// an outcome, and the ETA as optimistic.
func TestRateCountsOutcomesNotRetries(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	for _, tc := range []struct {
		name  string
		kinds []store.Kind // one recipient each, at attempt 1 of max 2
		again bool         // each recipient then fails temporarily at its attempt 2 (its last): failed
		want  float64
	}{
		{"temporary failures deferred", []store.Kind{store.KindTemp, store.KindTemp, store.KindTemp, store.KindTemp}, false, 0},
		{"sent and failed for good", []store.Kind{store.KindSent, store.KindFailed, store.KindRefused}, false, 0.3},
		{"sent beside deferred", []store.Kind{store.KindSent, store.KindTemp, store.KindTemp}, false, 0.1},
		{"retries run out", []store.Kind{store.KindTemp, store.KindTemp}, true, 0.2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			st, _, l := released(t, "rate", len(tc.kinds), len(tc.kinds))
			pol := store.Policy{MaxAttempts: 2}
			at := time.Now().Add(-2 * time.Second) // inside the last 10 complete seconds
			langs := []string{"de", "fr", "en"}    // stage's, by line
			try := func(i int, tok string, k store.Kind) {
				t.Helper()
				if _, err := l.Step(ctx, nil, []store.Claim{{ID: fmt.Sprint("r", i), Lang: langs[i%3], Token: tok}}, pol, at); err != nil {
					t.Fatal(err)
				}
				if _, err := l.Step(ctx, []store.Record{{ID: fmt.Sprint("r", i), Lang: langs[i%3], Kind: k, Code: "421", Response: "connection refused", Token: tok}}, nil, pol, at); err != nil {
					t.Fatal(err)
				}
			}
			for i, k := range tc.kinds {
				try(i, fmt.Sprint("a", i), k)
			}
			if tc.again {
				for i := range tc.kinds {
					try(i, fmt.Sprint("b", i), store.KindTemp)
				}
			}
			s, err := st.Status(ctx, "rate")
			if err != nil {
				t.Fatal(err)
			}
			if s.Rate != tc.want {
				t.Errorf("rate %.2f/s, want %.2f/s (outcomes over 10 s; counts %v)", s.Rate, tc.want, s.Counts)
			}
		})
	}
}
