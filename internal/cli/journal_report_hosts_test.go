package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tidings-mail/tidings/internal/journal"
	"github.com/tidings-mail/tidings/internal/journal/journaltest"
)

// TestReportJournalOfTwoHosts: two workers on two machines, each with its
// own journal directory, and Redis lost the campaign. The on-call engineer
// copies host B's directory next to host A's and asks who was sent, giving
// both: `report CAMPAIGN --journal A --journal B`.
//
// Red team 29a: --journal was a plain string flag, so the second path
// silently replaced the first: the report listed host B's recipients only
// (1127 of 3000 sent, in the run that found it), and read as the whole
// campaign's it said that the other 1873 were never sent. --journal is now
// repeatable, as --exclude-delivered is: every path is read, a line read
// twice (host B's files already copied into A's directory, as the
// recovery asks) counts once, and the attempts stay true.
func TestReportJournalOfTwoHosts(t *testing.T) {
	t.Parallel()
	at := time.Date(2026, 12, 1, 2, 0, 0, 0, time.UTC)
	a, b := t.TempDir(), t.TempDir()
	journaltest.Write(t, a, "wa",
		journal.Entry{At: at, Campaign: "lost", Run: "r1", ID: "u1", Email: "ada@example.org", Lang: "en", Outcome: "sent", Code: "250"})
	journaltest.Write(t, b, "wb",
		journal.Entry{At: at, Campaign: "lost", Run: "r1", ID: "u2", Email: "jose@example.org", Lang: "es", Outcome: "sent", Code: "250"},
		journal.Entry{At: at.Add(time.Second), Campaign: "lost", Run: "r1", ID: "u3", Email: "li@example.org", Lang: "ja", Outcome: "in-doubt", Code: "claimed-no-outcome"})
	// Host B's file copied into host A's directory too.
	bFiles, err := filepath.Glob(filepath.Join(b, "lost", "*.jsonl"))
	if err != nil || len(bFiles) != 1 {
		t.Fatalf("host B's journal files: %v %v", bFiles, err)
	}
	both := t.TempDir()
	journaltest.Write(t, both, "wa",
		journal.Entry{At: at, Campaign: "lost", Run: "r1", ID: "u1", Email: "ada@example.org", Lang: "en", Outcome: "sent", Code: "250"})
	data, err := os.ReadFile(bFiles[0])
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(both, "lost", filepath.Base(bFiles[0])), data, 0o600); err != nil {
		t.Fatal(err)
	}

	want := "id,email,lang,outcome,code,at,attempts,run,worker,campaign,env\n" +
		"u1,ada@example.org,en,sent,250,2026-12-01T02:00:00Z,1,r1,wa,lost,\n" +
		"u2,jose@example.org,es,sent,250,2026-12-01T02:00:00Z,1,r1,wb,lost,\n" +
		"u3,li@example.org,ja,in-doubt,claimed-no-outcome,2026-12-01T02:00:01Z,1,r1,wb,lost,\n"
	for _, tt := range []struct {
		name  string
		paths []string
	}{
		{"each host's directory", []string{a, b}},
		{"host B's copied into A's, and B's given too", []string{both, b}},
		{"host B's file given beside A's directory", []string{a, bFiles[0]}},
	} {
		args := []string{"report", "lost"}
		for _, p := range tt.paths {
			args = append(args, "--journal", p)
		}
		r := cli(t, nil, args...)
		if r.code != 0 || r.stdout != want || !strings.Contains(r.stderr, "3 recipients (sent 2, in-doubt 1)") {
			t.Errorf("%s: %v:\n%s\nwant exit 0, stdout\n%s", tt.name, args[2:], r, want)
		}
	}
}
