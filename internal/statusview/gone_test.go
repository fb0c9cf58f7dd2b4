package statusview_test

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/tidings-mail/tidings/internal/golden"
	"github.com/tidings-mail/tidings/internal/statusview"
)

// TestWriteGone: below the list of campaigns, the campaigns Redis lost:
// those this host started (its start records) and those only its
// delivery journal holds (a worker host: no start record), each with
// what to run. "No campaigns" only when Redis has none and nothing was
// lost.
func TestWriteGone(t *testing.T) {
	t.Parallel()
	const dir = "/var/lib/tidings/production/journal"
	var all []string
	for _, tc := range []struct {
		name            string
		listed          int
		gone, journaled []string
	}{
		{"nothing at all", 0, nil, nil},
		{"started here", 0, []string{"altea"}, nil},
		{"journaled only, Redis empty", 0, nil, []string{"altea", "spring-news"}},
		{"journaled only, beside campaigns Redis has", 2, nil, []string{"altea"}},
		{"both", 0, []string{"altea"}, []string{"spring-news"}},
	} {
		var b strings.Builder
		statusview.WriteGone(&b, tc.listed, statusview.Missing{Started: tc.gone, Journaled: tc.journaled, JournalDir: dir}, "production")
		all = append(all, "# "+tc.name+"\n"+b.String())
	}
	golden.Check(t, filepath.Join("testdata", "gone.golden"), strings.Join(all, "\n"))
}
