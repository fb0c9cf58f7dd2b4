package worker

import (
	"fmt"
	"testing"

	"github.com/tidings-mail/tidings/internal/render"
)

// TestMismatchDiffClause: a template mismatch names the files that differ,
// says on which side a file is missing, and names at most maxDiffFiles.
func TestMismatchDiffClause(t *testing.T) {
	t.Parallel()
	many := make([]render.FileDiff, maxDiffFiles+3)
	for i := range many {
		many[i] = render.FileDiff{File: fmt.Sprintf("locales/l%d.toml", i), Change: render.FileChanged}
	}
	for _, tt := range []struct {
		name  string
		diffs []render.FileDiff
		want  string
	}{
		{"none", nil, ""},
		{"one", []render.FileDiff{{File: "locales/de.toml", Change: render.FileChanged}},
			"; its files differ from the approved snapshot in locales/de.toml (changed)"},
		{"each change", []render.FileDiff{
			{File: "locales/de.toml", Change: render.FileChanged},
			{File: "locales/nb.toml", Change: render.FileExtra},
			{File: "templates/welcome/text.tmpl", Change: render.FileMissing},
		}, "; its files differ from the approved snapshot in locales/de.toml (changed), locales/nb.toml (extra on this worker), templates/welcome/text.tmpl (missing on this worker)"},
		{"exactly the cap", many[:maxDiffFiles],
			"; its files differ from the approved snapshot in locales/l0.toml (changed), locales/l1.toml (changed), locales/l2.toml (changed), locales/l3.toml (changed), locales/l4.toml (changed)"},
		{"over the cap", many,
			"; its files differ from the approved snapshot in locales/l0.toml (changed), locales/l1.toml (changed), locales/l2.toml (changed), locales/l3.toml (changed), locales/l4.toml (changed), and 3 more"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := diffClause(tt.diffs); got != tt.want {
				t.Errorf("diffClause = %q\nwant          %q", got, tt.want)
			}
		})
	}
}
