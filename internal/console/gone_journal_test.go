package console_test

import (
	"html"
	"strings"
	"testing"
	"time"

	"github.com/tidings-mail/tidings/internal/console"
	"github.com/tidings-mail/tidings/internal/console/consoletest"
	"github.com/tidings-mail/tidings/internal/journal"
	"github.com/tidings-mail/tidings/internal/journal/journaltest"
	"github.com/tidings-mail/tidings/internal/statusview"
)

// TestCampaignsPageNamesJournaledCampaignsRedisLacks: on a worker host
// (no start record: send ran elsewhere), Redis has no trace of a campaign
// whose deliveries this host's delivery journal holds (a new empty
// instance, a flush). tidings status --env ENV and doctor say so on that
// host, and so does the worker at start; the console's campaigns page,
// where on-call looks, said "No campaign is staged in this environment"
// (or named the campaigns Redis has, and nothing else). Its note of lost
// campaigns must say it, in the words status prints.
func TestCampaignsPageNamesJournaledCampaignsRedisLacks(t *testing.T) {
	t.Parallel()
	entry := func(c string) journal.Entry {
		return journal.Entry{At: time.Now(), Campaign: c, Run: "r1", ID: "ann@x.example", Email: "ann@x.example", Lang: "en", Outcome: "sent"}
	}
	tests := []struct {
		name    string
		staged  []string // the campaigns Redis has
		journal []string // the campaigns this host's journal holds
		lost    []string // those the page must name as lost
	}{
		{"Redis has none of them", nil, []string{"journaled"}, []string{"journaled"}},
		{"Redis has one of them", []string{"kept"}, []string{"journaled", "kept"}, []string{"journaled"}},
		{"Redis has all of them", []string{"kept"}, []string{"kept"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			w := consoletest.New(t, nil)
			for _, c := range tt.staged {
				w.Stage(t, consoletest.Spec{Name: c, N: 3})
			}
			jdir := t.TempDir()
			for _, c := range tt.journal {
				journaltest.Write(t, jdir, "w1", entry(c))
			}
			s := newSiteWith(t, w, func(c *console.Config) { c.JournalDir = jdir })
			v := s.signIn(t, viewerToken)
			want := statusview.Journaled(tt.lost, consoletest.EnvName, jdir)
			for _, path := range []string{"/", "/live"} {
				var body string
				if path == "/live" {
					body = firstLiveEvent(t, v, path)
				} else {
					_, body, _ = v.get(path)
				}
				body = strings.Join(strings.Fields(html.UnescapeString(body)), " ")
				said := strings.Contains(body, "Redis has no trace of")
				switch {
				case want == "" && said:
					t.Errorf("GET %s names a campaign as lost that Redis has:\n%s", path, body)
				case want != "" && !strings.Contains(body, strings.Join(strings.Fields(want), " ")):
					t.Errorf("GET %s lacks %q:\n%s", path, want, body)
				}
				if strings.Contains(body, "No campaign is staged") && want != "" {
					t.Errorf("GET %s says no campaign is staged:\n%s", path, body)
				}
			}
		})
	}
}
