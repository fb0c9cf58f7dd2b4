package cli

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/tidings-mail/tidings/internal/journal"
	"github.com/tidings-mail/tidings/internal/journal/journaltest"
)

// TestSendExcludeDeliveredOfNoDelivery: send --exclude-delivered with
// another campaign's journal is refused before anything is planned, naming
// the file and what to give; the campaign's own journal that holds no
// delivery is read, and send says that it excludes nobody.
func TestSendExcludeDeliveredOfNoDelivery(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		of       string // the campaign the journal's lines name
		outcome  string
		wantCode int
		want     string // in stderr (refused) or stdout
	}{
		{"another campaign's journal", "beta", "sent", 2, "is a delivery journal of campaign beta, not of c1"},
		{"the campaign's journal with no delivery", "c1", "failed", 0, `They hold 1 record(s) of "c1" and no delivery (sent or in doubt): nobody is excluded.`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			env, _ := redisEnv(t)
			file := writeCampaign(t, campaignFile{rows: []string{"ada@example.org,Ada,en,1"}})
			jdir := t.TempDir()
			journaltest.Write(t, jdir, "w1", journal.Entry{Campaign: tt.of, Run: "r1", ID: "ada@example.org", Email: "ada@example.org", Outcome: tt.outcome})
			r := cli(t, env, "send", file, "--env", "staging", "--exclude-delivered", filepath.Join(jdir, tt.of))
			if r.code != tt.wantCode || !strings.Contains(r.stdout+r.stderr, tt.want) {
				t.Fatalf("want exit %d and %q\n%s", tt.wantCode, tt.want, r)
			}
			if tt.wantCode != 0 {
				noCampaign(t, env, "staging")
			}
		})
	}
}
