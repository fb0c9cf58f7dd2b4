package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestNotFoundSaysRedisLostItOnlyWhenStarted: a mistyped campaign name was
// told "If it was started, Redis lost it: run that send on the host that
// started it ..." (red team), which sends on-call after a loss that never
// happened. That advice is given only when this host's state_dir records
// the campaign as started in this environment (launch.Started); else the
// names that do exist are offered.
func TestNotFoundSaysRedisLostItOnlyWhenStarted(t *testing.T) {
	t.Parallel()
	env, _ := redisEnv(t)
	file := writeCampaign(t, campaignFile{name: "spring-news", rows: []string{"ada@example.org,Ada,en,1"}})
	if r := cli(t, env, "send", file, "--env", "staging"); r.code != 0 {
		t.Fatalf("send\n%s", r)
	}
	// "gone" was started here (its record), and Redis has no trace of it.
	rec := filepath.Join(env["TIDINGS_STATE_DIR"], "campaigns", "gone.json")
	if err := os.MkdirAll(filepath.Dir(rec), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(rec, []byte(`{"campaign":"gone"}`), 0o644); err != nil {
		t.Fatal(err)
	}
	// "elsewhere" was started here in another environment sharing this
	// state_dir (the default one is shared): Redis of staging never had
	// it, so it is no loss of staging's. It was told "Redis lost it".
	if err := os.WriteFile(filepath.Join(filepath.Dir(rec), "elsewhere.json"), []byte(`{"campaign":"elsewhere","env":"production"}`), 0o644); err != nil {
		t.Fatal(err)
	}
	const lost = "Redis lost it"
	for _, tc := range []struct {
		name      string
		want, not string
	}{
		{"spring-newz", `campaign "spring-newz" does not exist in environment staging (did you mean "spring-news"?)`, lost},
		{"autumn", `campaign "autumn" does not exist in environment staging: its campaigns are spring-news; list them with 'tidings status --env staging'`, lost},
		{"gone", `Redis has no trace of campaign "gone" in environment staging, and this host started it (its state_dir records the start): ` + lost, ""},
		{"elsewhere", `campaign "elsewhere" does not exist in environment staging: its campaigns are spring-news`, lost},
	} {
		r := cli(t, env, "approve", tc.name, "--env", "staging")
		if r.code != 2 || !strings.Contains(r.stderr, tc.want) || (tc.not != "" && strings.Contains(r.stderr, tc.not)) {
			t.Errorf("approve %s: want exit 2 saying %q, not %q\n%s", tc.name, tc.want, tc.not, r)
		}
	}
	// Every command that names a campaign exits 2 for one Redis lost, as
	// for one never staged, with the same advice (README, "Commands and
	// exit codes"); send's refusal and doctor's check are exit 1.
	for _, args := range [][]string{
		{"status", "gone"}, {"status", "gone", "--json"}, {"report", "gone"},
		{"pause", "gone", "--reason", "r"}, {"resume", "gone"}, {"cancel", "gone", "--reason", "r"}, {"retry", "gone"},
	} {
		r := cli(t, env, append(args, "--env", "staging")...)
		if r.code != 2 || !strings.Contains(r.stderr, `Redis has no trace of campaign "gone" in environment staging, and this host started it`) {
			t.Errorf("%s: want exit 2 saying Redis lost it\n%s", strings.Join(args, " "), r)
		}
	}
}
