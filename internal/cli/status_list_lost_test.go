package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestStatusListNamesCampaignsRedisLost: after Redis lost its state (a
// FLUSHALL, a new empty instance), `tidings status --env ENV` on the host
// that started the campaigns said "No campaigns in this environment.
// Stage one with: tidings send ...", which on-call at 2 a.m. reads as
// nothing ever having been sent. The list names each campaign this host's
// state_dir records as started that Redis has no trace of, says that
// Redis lost it, and what tells the recovery; a campaign Redis still has
// is listed as before and not named lost; another environment's record
// is not this one's.
func TestStatusListNamesCampaignsRedisLost(t *testing.T) {
	t.Parallel()
	env, rd := redisEnv(t)
	for _, name := range []string{"spring-news", "autumn-news"} {
		file := writeCampaign(t, campaignFile{name: name, rows: []string{"ada@example.org,Ada,en,1"}})
		if r := cli(t, env, "send", file, "--env", "staging"); r.code != 0 {
			t.Fatalf("send %s\n%s", name, r)
		}
	}
	const lost = "Redis has no trace of 2 campaign(s) this host started in environment staging: autumn-news, spring-news"
	for _, tt := range []struct {
		name      string
		wipe      bool
		want, not []string
	}{
		{"Redis holds them", false, []string{"spring-news ", "autumn-news "}, []string{"no trace", "No campaigns"}},
		{"Redis lost them", true, []string{lost, "Redis lost them", "tidings status autumn-news --env staging (and so for each) says what to run"}, []string{"Stage one with", "elsewhere"}},
	} {
		if tt.wipe {
			if err := rd.Wipe(t.Context()); err != nil {
				t.Fatal(err)
			}
			rec := filepath.Join(env["TIDINGS_STATE_DIR"], "campaigns", "elsewhere.json")
			if err := os.WriteFile(rec, []byte(`{"campaign":"elsewhere","env":"production"}`), 0o600); err != nil {
				t.Fatal(err)
			}
		}
		r := cli(t, env, "status", "--env", "staging")
		if r.code != 0 {
			t.Errorf("%s: status --env staging: exit %d, want 0\n%s", tt.name, r.code, r)
		}
		for _, w := range tt.want {
			if !strings.Contains(r.stdout, w) {
				t.Errorf("%s: the list does not say %q\n%s", tt.name, w, r)
			}
		}
		for _, n := range tt.not {
			if strings.Contains(r.stdout, n) {
				t.Errorf("%s: the list says %q\n%s", tt.name, n, r)
			}
		}
	}
}
