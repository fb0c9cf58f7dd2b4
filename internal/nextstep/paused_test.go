package nextstep

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/tidings-mail/tidings/internal/store"
)

// TestPaused: after a pause, the next step of a campaign of this build's
// format (or whose format could not be read) is the hint, as a sentence;
// of one of another stored format, whose resume and cancel this build
// refuses, it says to run them with a tidings of that build, never this
// build's resume alone; a pause for state loss keeps its advice, with the
// build to run it with.
func TestPaused(t *testing.T) {
	t.Parallel()
	other := fmt.Errorf("read: %w", &store.FormatError{Campaign: "c", Format: store.StoredFormat + 1, Want: store.StoredFormat})
	none := &store.FormatError{Campaign: "c", Format: store.FormatNone, Want: store.StoredFormat}
	tests := []struct {
		name   string
		next   store.Next
		format error
		want   string
	}{
		{"this build's", store.NextResume, nil, "Resume with: tidings resume c --env prod (or cancel: tidings cancel c --env prod --reason ...)"},
		{"format unread", store.NextResume, errors.New("redis: connection refused"), "Resume with: tidings resume c --env prod (or cancel: tidings cancel c --env prod --reason ...)"},
		{"newer build's", store.NextResume, other, fmt.Sprintf("Resume it with a tidings of stored format %d, the build that staged it (this one has format %d and refuses it): tidings resume c --env prod (or cancel it with that build: tidings cancel c --env prod --reason ...)", store.StoredFormat+1, store.StoredFormat)},
		{"before formats", store.NextResume, none, "Resume it with a tidings of stored format 0 (a build before stored formats), the build that staged it"},
		{"state loss, newer build's", store.NextRecover, other, "Do not resume: Redis forgot deliveries, and resuming would send them again. Cancel it (tidings cancel c --env prod --reason \"state loss\")"},
	}
	for _, tt := range tests {
		got := Files(nil).Paused(tt.next, "c", "prod", tt.format)
		if !strings.HasPrefix(got, tt.want) {
			t.Errorf("%s:\n got %s\nwant %s...", tt.name, got, tt.want)
		}
		if _, ok := errors.AsType[*store.FormatError](tt.format); ok && (strings.Contains(got, "Resume with:") || !strings.Contains(got, "the build that staged it")) {
			t.Errorf("%s: says to resume with this build, or not which build:\n%s", tt.name, got)
		}
	}
	if got := Files(nil).Paused(store.NextRecover, "c", "prod", other); !strings.HasSuffix(got, fmt.Sprintf(". Run them with a tidings of stored format %d, the build that staged it: this one has format %d and refuses all but a pause", store.StoredFormat+1, store.StoredFormat)) {
		t.Errorf("state loss of another format: not which build runs the advice:\n%s", got)
	}
}

// TestHintOfPausedOfAnotherFormat: status's hint of a paused campaign
// staged by a build of another stored format (Status.Format) is what
// pause says of it (Paused), not "resume with:" this build's resume,
// which refuses it; of one of this build's format, or whose format is
// not known, it is the hint as it is; an environment not known is ENV.
func TestHintOfPausedOfAnotherFormat(t *testing.T) {
	t.Parallel()
	newer, this := store.StoredFormat+1, store.StoredFormat
	other := &store.FormatError{Campaign: "c", Format: newer, Want: store.StoredFormat}
	lower := func(s string) string { return strings.ToLower(s[:1]) + s[1:] }
	tests := []struct {
		name   string
		next   store.Next
		format *int
		env    string
		want   string
	}{
		{"newer build's", store.NextResume, &newer, "prod", lower(Files(nil).Paused(store.NextResume, "c", "prod", other))},
		{"newer build's, env not known", store.NextResume, &newer, "", lower(Files(nil).Paused(store.NextResume, "c", "ENV", other))},
		{"state loss, newer build's", store.NextRecover, &newer, "prod", lower(Files(nil).Paused(store.NextRecover, "c", "prod", other))},
		{"this build's", store.NextResume, &this, "prod", Hint(store.NextResume, "c", "prod")},
		{"format not known", store.NextResume, nil, "prod", Hint(store.NextResume, "c", "prod")},
	}
	for _, tt := range tests {
		st := &store.Status{Campaign: "c", Env: tt.env, Control: store.Control{State: store.StatePaused}, Format: tt.format}
		got := HintOf(tt.next, st)
		if got != tt.want {
			t.Errorf("%s:\n got %s\nwant %s", tt.name, got, tt.want)
		}
		if tt.format == &newer && (strings.HasPrefix(got, "resume with:") || !strings.Contains(got, "the build that staged it")) {
			t.Errorf("%s: says to resume with this build, or not which build:\n%s", tt.name, got)
		}
	}
}
