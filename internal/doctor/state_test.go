package doctor_test

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/tidings-mail/tidings/internal/doctor"
	"github.com/tidings-mail/tidings/internal/environment"
	"github.com/tidings-mail/tidings/internal/launch"
	"github.com/tidings-mail/tidings/internal/redistest"
)

// TestDoctorFailsWhenRedisLostACampaignThisHostStarted: this host's state
// directory records starting a campaign (with --skip-refused and
// --rejects) that Redis has no trace of (a flush, an empty instance).
// doctor must fail a "campaign state" check naming it, with the recovery
// command send's refusal gives, the first send's flags in it; with no
// record, or Redis holding the campaign, there is no such check. It
// said "unless a first staging of them was given up", false since a
// given-up first staging leaves no start record, and softening a real
// loss for on-call: the loss is said plainly.
func TestDoctorFailsWhenRedisLostACampaignThisHostStarted(t *testing.T) {
	rd := redistest.Start(t)
	dir := t.TempDir()
	e := &environment.Environment{Name: "staging", StateDir: dir, Journal: environment.Journal{Dir: filepath.Join(dir, "journal")},
		Redis: environment.Redis{URL: rd.URL}}
	for _, tc := range []struct {
		name   string
		record bool
		want   []string // nil: no check
	}{
		{"no record", false, nil},
		{"record, Redis empty", true, []string{"altea", "Redis lost their state (flushed, evicted, a new empty instance, or restored from a backup older than them); no worker sends them", "tidings send CAMPAIGN-FILE --env staging --exclude-delivered " + e.Journal.Dir + " --skip-refused --rejects /tmp/altea.rejects.csv"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.record {
				if _, err := launch.WriteRecord(dir, launch.Record{Campaign: "altea", Env: "staging", Run: "r1",
					Send: &launch.SendOptions{SkipRefused: true, Rejects: "/tmp/altea.rejects.csv"}}); err != nil {
					t.Fatal(err)
				}
			}
			c, ok := doctor.State(t.Context(), e)
			if tc.want == nil {
				if ok {
					t.Fatalf("nothing lost: doctor says %s %q", c.Status, c.Message)
				}
				return
			}
			if !ok || c.Status != doctor.Fail || c.Name != "campaign state" {
				t.Fatalf("Redis lost campaign altea, which this host started: doctor's check is %+v (%v), want FAIL campaign state", c, ok)
			}
			for _, w := range tc.want {
				if !strings.Contains(c.Message, w) {
					t.Errorf("doctor says %q, want %q", c.Message, w)
				}
			}
		})
	}
}
