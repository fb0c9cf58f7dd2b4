package journaltest_test

import (
	"testing"

	"github.com/tidings-mail/tidings/internal/journal"
	"github.com/tidings-mail/tidings/internal/journal/journaltest"
)

// TestWriteIsReadBack: what Write writes, journal.Read reads back, per
// campaign, and the path it returns is the last entry's file.
func TestWriteIsReadBack(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	tests := []struct {
		campaign string
		ids      []string
	}{
		{"alpha", []string{"a", "b"}},
		{"beta", []string{"z"}},
	}
	var entries []journal.Entry
	for _, tt := range tests {
		for _, id := range tt.ids {
			entries = append(entries, journal.Entry{Campaign: tt.campaign, Run: "r1", ID: id, Email: id + "@example.org", Outcome: "sent"})
		}
	}
	if got, want := journaltest.Write(t, dir, "w1", entries...), journal.FileName(dir, "beta", "r1", "w1"); got != want {
		t.Errorf("Write returned %s, want %s", got, want)
	}
	for _, tt := range tests {
		var got []string
		if err := journal.Read(dir, tt.campaign, func(e journal.Entry) error { got = append(got, e.ID); return nil }); err != nil {
			t.Fatalf("read %s: %v", tt.campaign, err)
		}
		if len(got) != len(tt.ids) || got[0] != tt.ids[0] {
			t.Errorf("%s: read %v, want %v", tt.campaign, got, tt.ids)
		}
	}
}
