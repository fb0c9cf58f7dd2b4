package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestStatusJSONListsLostCampaigns: `status --env --format json` lists,
// after the campaigns Redis has, those it lost that this host holds
// traces of, as the text list and the console name them: state "lost",
// started_here when this host's start record names it (next: the send
// that started it, with its campaign file), else only its delivery
// journal holds it (journal_dir, next: the recovery with
// --exclude-delivered). It listed the campaigns Redis has alone, so a
// script watching the array saw a lost campaign vanish.
func TestStatusJSONListsLostCampaigns(t *testing.T) {
	t.Parallel()
	const name = "json-lost"
	env, file, journalDir := lostAfterCanary(t, name)
	other := stageCampaign(t, env, "still-here") // one Redis has: listed first, as it was

	type entry struct {
		Campaign    string `json:"campaign"`
		Env         string `json:"env"`
		State       string `json:"state"`
		StartedHere bool   `json:"started_here"`
		JournalDir  string `json:"journal_dir"`
		Next        string `json:"next"`
	}
	list := func() []entry {
		t.Helper()
		r := cli(t, env, "status", "--env", "staging", "--format", "json")
		var got []entry
		if err := json.Unmarshal([]byte(r.stdout), &got); r.code != 0 || err != nil || len(got) != 2 {
			t.Fatalf("status --format json: %v; want exit 0 and 2 campaigns\n%s", err, r)
		}
		if got[0].Campaign != other || got[0].State == "lost" {
			t.Errorf("first: %+v; want %s, as Redis has it", got[0], other)
		}
		return got
	}
	// This host sent it: its start record names the send to run again.
	lost := list()[1]
	if lost.Campaign != name || lost.Env != "staging" || lost.State != "lost" || !lost.StartedHere || lost.JournalDir != "" ||
		!strings.Contains(lost.Next, "tidings send "+file+" --env staging") || !strings.Contains(lost.Next, "Redis lost it") {
		t.Errorf("the lost campaign started here: %+v; want state lost, started_here, next naming the send of %s", lost, file)
	}
	// A worker host: its journal, no start record.
	if err := os.RemoveAll(filepath.Join(env["TIDINGS_STATE_DIR"], "campaigns")); err != nil {
		t.Fatal(err)
	}
	lost = list()[1]
	if lost.Campaign != name || lost.State != "lost" || lost.StartedHere || lost.JournalDir != journalDir ||
		!strings.Contains(lost.Next, "tidings send CAMPAIGN-FILE --env staging --exclude-delivered "+journalDir) {
		t.Errorf("the lost campaign only the journal holds: %+v; want state lost, journal_dir %s, next the recovery", lost, journalDir)
	}
}
