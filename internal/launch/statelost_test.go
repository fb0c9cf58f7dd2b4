package launch_test

import (
	"testing"

	"github.com/tidings-mail/tidings/internal/launch"
)

func TestStateLostErrorCampaignJournal(t *testing.T) {
	t.Parallel()
	tests := []struct {
		err  launch.StateLostError
		want string
	}{
		{launch.StateLostError{Campaign: "c1", JournalDir: "/state/journal"}, ""},
		{launch.StateLostError{Campaign: "c1", JournalDir: "/state/journal/", Journals: 2}, "/state/journal/c1"},
		{launch.StateLostError{Campaign: "c1", Journals: 1}, "c1"},
	}
	for _, tt := range tests {
		if got := tt.err.CampaignJournal(); got != tt.want {
			t.Errorf("%+v: CampaignJournal() = %q, want %q", tt.err, got, tt.want)
		}
	}
}
