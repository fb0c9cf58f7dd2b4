package cli

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/tidings-mail/tidings/internal/doctor"
	"github.com/tidings-mail/tidings/internal/environment"
)

// TestFreedThenLostIsLost: a campaign freed by `tidings free` keeps only
// its ledger and audit log in Redis. When Redis then loses them too (a
// flush, a new empty instance, an old backup), the host's start record
// still notes the free, and status and doctor said "Redis keeps its
// ledger (3 recipients)", doctor's campaign state passing: a state loss
// undetected. They now read Redis: status says Redis lost it (with the
// report saved before the free), and doctor's campaign state fails
// naming it (review of fx40a).
func TestFreedThenLostIsLost(t *testing.T) {
	t.Parallel()
	env, rd, _ := doneCampaign(t, "freed", "ada@example.org,Ada,en,1", "bo@example.org,Bo,en,2")
	report := filepath.Join(t.TempDir(), "freed.csv")
	if r := cli(t, env, "free", "freed", "--env", "staging", "--yes", "--report-out", report); r.code != 0 {
		t.Fatalf("free\n%s", r)
	}
	doctorState := func() doctor.Check {
		c, _ := doctor.State(t.Context(), &environment.Environment{Name: "staging", StateDir: env["TIDINGS_STATE_DIR"], Redis: environment.Redis{URL: rd.URL}})
		return c
	}
	if c := doctorState(); c.Status != doctor.Pass {
		t.Fatalf("doctor once freed, its ledger kept: %+v, want a pass", c)
	}
	if err := rd.Client().FlushDB(t.Context()).Err(); err != nil {
		t.Fatal(err)
	}
	r := cli(t, env, "status", "freed", "--env", "staging")
	if r.code == 0 || strings.Contains(r.stderr, "Redis keeps its ledger") || !strings.Contains(r.stderr, "Redis has since lost its ledger") || !strings.Contains(r.stderr, report) {
		t.Errorf("status once freed and then lost by Redis: want it to say Redis lost its ledger, naming the saved report %s, not that Redis keeps it\n%s", report, r)
	}
	if c := doctorState(); c.Status != doctor.Fail || !strings.Contains(c.Message, "freed") || strings.Contains(c.Message, "Redis keeps their ledgers") {
		t.Errorf("doctor once freed and then lost by Redis: %+v, want its campaign state to fail naming it", c)
	}
}
