package worker

import (
	"context"
	"errors"
	"strconv"
	"testing"

	"github.com/tidings-mail/tidings/internal/redistest"
	"github.com/tidings-mail/tidings/internal/store"
)

// TestLoadRefusesAnotherStoredFormat: a campaign staged again by a build
// of another stored format after Campaign read its format (one HGET) is
// refused by load, which reads the whole meta, with the store's own
// format check: the same *store.FormatError, word for word, as the
// store's Format gives, for a newer, an older and no stored format.
func TestLoadRefusesAnotherStoredFormat(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	rdb := redistest.Start(t).Client()
	st := store.New(rdb)
	w := &Worker{cfg: Config{WorkerID: "wk", Env: "test", Concurrency: 1, ClaimWindow: 1}.WithDefaults(), st: st}
	for _, tt := range []struct {
		name   string
		format string // "": no format field
		want   int
	}{
		{"newer", strconv.Itoa(store.StoredFormat + 1), store.StoredFormat + 1},
		{"older", strconv.Itoa(store.StoredFormat - 1), store.StoredFormat - 1},
		{"none", "", store.FormatNone},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c := "lf-" + tt.name
			stageTest(t, st, c, 2, 0, false)
			meta := "tidings:{" + c + "}:meta"
			if tt.format == "" {
				if err := rdb.HDel(ctx, meta, "format").Err(); err != nil {
					t.Fatal(err)
				}
			} else if err := rdb.HSet(ctx, meta, "format", tt.format).Err(); err != nil {
				t.Fatal(err)
			}
			_, want := st.Format(ctx, c)
			cs, err := w.load(ctx, c)
			fe, ok := errors.AsType[*store.FormatError](err)
			if !ok || fe.Campaign != c || fe.Format != tt.want || fe.Want != store.StoredFormat {
				t.Fatalf("load of campaign %s of stored format %q: %+v, %v; want a *store.FormatError of format %d", c, tt.format, cs, err, tt.want)
			}
			if want == nil || err.Error() != want.Error() {
				t.Errorf("load: %v\nthe store's format check: %v\nwant the same", err, want)
			}
		})
	}
}
