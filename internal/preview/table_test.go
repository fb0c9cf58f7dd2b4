package preview_test

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/tidings-mail/tidings/internal/golden"
	"github.com/tidings-mail/tidings/internal/preview"
)

// TestTableSaysWhatItsCountCounts: preview's table counts, per language,
// the recipients file's rows whose locale resolves to it, before the
// plan's checks: rows the plan finds invalid (the template cannot be
// rendered with them) or refuses (an incomplete catalog) are among them.
// Its header called that count NEEDED, which reads as the recipients who
// will be sent the language; de below has 5 of which 2 are invalid and not
// sent, fr 3 all refused. The header says ROWS and a line under the table
// says what they are and where to see what is sent.
func TestTableSaysWhatItsCountCounts(t *testing.T) {
	t.Parallel()
	res := &preview.Result{
		Languages: []preview.Language{
			{Lang: "de", Covered: true, Subject: "Willkommen", Needed: 5, Invalid: 2, InvalidFirst: "recipients.csv:4: posts is not a number"},
			{Lang: "en", Covered: true, Subject: "Welcome", Needed: 0},
			{Lang: "fr", Covered: false, Problem: "incomplete: fr lacks hello", Needed: 3},
		},
		Uncovered: []preview.Language{{Lang: "-", Requested: "rm", Problem: "no catalog for rm", Refused: 2}},
	}
	var b strings.Builder
	res.WriteTable(&b)
	golden.Check(t, filepath.Join("testdata", "table.txt"), b.String())
}
