package cli

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tidings-mail/tidings/internal/golden"
	"github.com/tidings-mail/tidings/internal/launch"
	"github.com/tidings-mail/tidings/internal/nextstep"
)

// TestStateLostMessage: what send says when Redis lost a campaign this
// machine started, with and without its record and journals.
func TestStateLostMessage(t *testing.T) {
	t.Parallel()
	rec := &launch.Record{Run: "r-1", StartedAt: time.Date(2025, 3, 1, 9, 30, 0, 0, time.UTC), By: "alice", Host: "ops-1", Path: "/var/lib/tidings/production/campaigns/altea.json"}
	withFlags := *rec
	withFlags.Send = &launch.SendOptions{SkipRefused: true, SkipInvalid: true, Rejects: "/home/ops/altea rejects.csv"}
	noFlags := *rec
	noFlags.Send = &launch.SendOptions{}
	tests := []struct {
		name string
		err  *launch.StateLostError
	}{
		{"record of a send with --skip-refused --skip-invalid --rejects", &launch.StateLostError{Campaign: "altea", Record: &withFlags, Journals: 2, JournalDir: "/var/lib/tidings/production/journal"}},
		{"record of a send without flags", &launch.StateLostError{Campaign: "altea", Record: &noFlags, Journals: 2, JournalDir: "/var/lib/tidings/production/journal"}},
		{"record of an older version (no flags kept) and journals", &launch.StateLostError{Campaign: "altea", Record: rec, Journals: 2, JournalDir: "/var/lib/tidings/production/journal"}},
		{"record only", &launch.StateLostError{Campaign: "altea", Record: rec, JournalDir: "/var/lib/tidings/production/journal"}},
		{"journals only, no journal dir", &launch.StateLostError{Campaign: "altea", Journals: 1}},
		{"record only, on a host whose journal directory does not exist yet", &launch.StateLostError{Campaign: "altea", Record: &withFlags, JournalDir: "/var/lib/tidings/production/journal", JournalMissing: true}},
		{"journal directory with a space, not there yet", &launch.StateLostError{Campaign: "altea", Record: &noFlags, JournalDir: "/mnt/old disk/journal", JournalMissing: true}},
	}
	var all []string
	for _, tt := range tests {
		msg := nextstep.StateLost(tt.err, "/home/ops/campaigns/altea.yaml", "production")
		all = append(all, "# "+tt.name+"\n"+msg)
	}
	golden.Check(t, filepath.Join("testdata", "state-lost.golden"), strings.Join(all, "\n\n")+"\n")
}
