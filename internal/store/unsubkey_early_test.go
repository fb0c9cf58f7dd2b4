package store_test

import (
	"errors"
	"testing"

	"github.com/tidings-mail/tidings/internal/store"
)

// TestCheckUnsubscribeKey: the early check of a staging again
// (CheckExisting) refuses for its unsubscribe secret what begin refuses (another secret, not
// allowed) and lets pass what begin lets pass or refuses for another
// reason (the same secret, a new one allowed, no {token}, not a staging
// again, a campaign not staged, another environment's, a done one).
func TestCheckUnsubscribeKey(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	rdb := startRedis(t)
	st := store.New(rdb)
	for _, c := range []string{"keyed", "keyed-done"} {
		sg, err := st.NewStager(ctx, store.StageConfig{Campaign: c, Definition: []byte(`{}`), Hash: "h", Env: "test", Who: "alice", UnsubscribeKey: "k1"})
		if err != nil {
			t.Fatal(err)
		}
		if err := sg.Add(ctx, store.Recipient{Line: 2, ID: "r0", Email: "r0@x.example", Locale: "en", Lang: "en"}, 0, false); err != nil {
			t.Fatal(err)
		}
		if _, err := sg.Finish(ctx, false); err != nil {
			t.Fatal(err)
		}
	}
	rdb.HSet(ctx, "tidings:{keyed-done}:control", "state", string(store.StateDone))
	for _, tc := range []struct {
		name    string
		cfg     store.StageConfig
		refused bool
	}{
		{"another secret", store.StageConfig{Campaign: "keyed", Env: "test", ResumeExisting: true, UnsubscribeKey: "k2"}, true},
		{"the same secret", store.StageConfig{Campaign: "keyed", Env: "test", ResumeExisting: true, UnsubscribeKey: "k1"}, false},
		{"another secret, allowed", store.StageConfig{Campaign: "keyed", Env: "test", ResumeExisting: true, UnsubscribeKey: "k2", NewUnsubscribeKey: true}, false},
		{"no {token} now", store.StageConfig{Campaign: "keyed", Env: "test", ResumeExisting: true}, false},
		{"not a staging again", store.StageConfig{Campaign: "keyed", Env: "test", UnsubscribeKey: "k2"}, false},
		{"not staged", store.StageConfig{Campaign: "unknown", Env: "test", ResumeExisting: true, UnsubscribeKey: "k2"}, false},
		{"another environment's", store.StageConfig{Campaign: "keyed", Env: "other", ResumeExisting: true, UnsubscribeKey: "k2"}, false},
		{"done", store.StageConfig{Campaign: "keyed-done", Env: "test", ResumeExisting: true, UnsubscribeKey: "k2"}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := st.CheckExisting(ctx, tc.cfg)
			var ke *store.UnsubscribeKeyError
			// Not a staging again, it is refused as existing
			// (TestCheckExistingRefusesWhatBeginRefuses), not for its secret.
			other := err != nil && !(tc.name == "not a staging again" && errors.Is(err, store.ErrCampaignExists))
			if got := errors.As(err, &ke); got != tc.refused || (!tc.refused && other) {
				t.Fatalf("CheckExisting: %v, want refused for its secret %v", err, tc.refused)
			}
			if tc.refused && (ke.Staged != "k1" || ke.Now != "k2") {
				t.Errorf("refusal names %q and %q, want k1 and k2", ke.Staged, ke.Now)
			}
		})
	}
}
