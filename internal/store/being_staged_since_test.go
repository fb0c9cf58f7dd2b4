package store_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/tidings-mail/tidings/internal/store"
)

// TestBeingStagedSaysSinceWhen: while its first staging runs, a
// campaign's status is a *store.BeingStagedError saying who stages it
// and since when (its record as begun), and store.BeingStaged, the
// status `tidings status` and the console show of it, has both (before,
// it had no time: "by alice@box" alone).
func TestBeingStagedSaysSinceWhen(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := store.New(startRedis(t))
	before := time.Now().Add(-time.Second) // the record is in whole milliseconds
	sg := begin(t, st, "c")
	defer sg.Abort(ctx)
	_, err := st.Status(ctx, "c")
	var be *store.BeingStagedError
	if !errors.As(err, &be) || be.By != "alice@box" || be.Since.Before(before) || be.Since.After(time.Now()) {
		t.Fatalf("status while its first staging runs: %v (%+v); want a *BeingStagedError by alice@box since its begin", err, be)
	}
	if s := store.BeingStaged("c", "test", be); s.State != store.StateBeingStaged || s.By != be.By || !s.At.Equal(be.Since) {
		t.Errorf("BeingStaged: %s by %s at %s; want being-staged by %s at %s", s.State, s.By, s.At, be.By, be.Since)
	}
}
