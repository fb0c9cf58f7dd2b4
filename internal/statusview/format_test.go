package statusview_test

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/tidings-mail/tidings/internal/statusview"
	"github.com/tidings-mail/tidings/internal/store"
)

// TestFormat: a campaign staged by a build of another stored format (a
// newer build's, or one before stored formats) is named as such in the
// full status, the list and the one-line form, with what to do; one of
// this build's format, or one whose first staging has not ended (no format
// yet), is not.
func TestFormat(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC)
	for _, tt := range []struct {
		name   string
		format int
		state  store.State
		want   string // "" : no word of the format
	}{
		{"newer", store.StoredFormat + 1, store.StateRunning, fmt.Sprintf("staged by a build with stored format %d; this tidings has format %d", store.StoredFormat+1, store.StoredFormat)},
		{"older", store.StoredFormat - 1, store.StatePaused, fmt.Sprintf("staged by a build with stored format %d; this tidings has format %d", store.StoredFormat-1, store.StoredFormat)},
		{"none", store.FormatNone, store.StatePaused, fmt.Sprintf("stored format 0 (a build before stored formats); this tidings has format %d", store.StoredFormat)},
		{"this build's", store.StoredFormat, store.StateRunning, ""},
		{"being staged", store.FormatNone, store.StateBeingStaged, ""},
		{"not read", -1, store.StateRunning, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			st := &store.Status{Campaign: "c", Env: "production", Format: &tt.format, Counts: map[string]int64{}}
			st.State = tt.state
			if tt.format < 0 {
				st.Format = nil
			}
			var full, list bytes.Buffer
			statusview.WriteAt(&full, st, now, "")
			statusview.WriteList(&list, []*store.Status{st}, now, func(*store.Status) string { return "tidings status c" }, func(*store.Status) string { return "" })
			line := statusview.Line(st, now)
			if tt.want == "" {
				for what, s := range map[string]string{"status": full.String(), "list": list.String(), "line": line} {
					if strings.Contains(s, "format") {
						t.Errorf("the %s speaks of a format:\n%s", what, s)
					}
				}
				return
			}
			next := "finish it with the workers of the build that staged it"
			for what, s := range map[string]string{"status": full.String(), "list": list.String()} {
				if !strings.Contains(s, tt.want) || !strings.Contains(s, next) {
					t.Errorf("the %s lacks %q and %q:\n%s", what, tt.want, next, s)
				}
			}
			if !strings.Contains(full.String(), "\nFormat:   ") {
				t.Errorf("the status has no Format line:\n%s", full.String())
			}
			if !strings.Contains(line, fmt.Sprintf(" stored_format=%d", tt.format)) {
				t.Errorf("the line lacks stored_format=%d: %s", tt.format, line)
			}
		})
	}
}
