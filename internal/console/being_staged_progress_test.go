package console_test

import (
	"fmt"
	"html"
	"strings"
	"testing"

	"github.com/tidings-mail/tidings/internal/console/consoletest"
	"github.com/tidings-mail/tidings/internal/store"
)

// TestBeingStagedPageSaysHowFar: the page of a campaign whose first
// staging runs says how many recipients that staging has written so far
// and what comes next, as `tidings status` does
// (statusview.BeingStagedProgress); it said "0 of 0 recipients done".
func TestBeingStagedPageSaysHowFar(t *testing.T) {
	t.Parallel()
	w := consoletest.New(t, nil)
	sg, err := w.Store.NewStager(t.Context(), store.StageConfig{Campaign: "big", Definition: []byte(`{}`), Hash: "h", Env: consoletest.EnvName, Who: "erin", Host: "ci", ChunkSize: 7})
	if err != nil {
		t.Fatal(err)
	}
	defer sg.Abort(t.Context())
	for i := range 112 { // 16 chunks of 7: one batch of chunks written
		if err := sg.Add(t.Context(), store.Recipient{ID: fmt.Sprint(i), Email: fmt.Sprintf("u%d@example.com", i), Lang: "en", Line: i + 2}, 0, false); err != nil {
			t.Fatal(err)
		}
	}
	s := newSite(t, w, false)
	_, page, _ := s.signIn(t, operatorToken).get("/c/big")
	page = html.UnescapeString(page)
	if want := "being staged: 112 recipients written to Redis so far"; !strings.Contains(page, want) || strings.Contains(page, "0 of 0 recipients done") {
		t.Errorf("the page of a campaign being staged says neither %q nor 0 of 0:\n%s", want, page)
	}
}
