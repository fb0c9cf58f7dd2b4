package cli

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tidings-mail/tidings/internal/doctor"
	"github.com/tidings-mail/tidings/internal/environment"
	"github.com/tidings-mail/tidings/internal/redistest"
	"github.com/tidings-mail/tidings/internal/smtpcapture"
	"github.com/tidings-mail/tidings/internal/wait"
)

// TestFreedOnAnotherHostIsFreedEverywhere: `tidings free` ran on another
// host than the one that started the campaign (another state_dir, whose
// start records do not name it), so the starting host's start record
// does not note the free. Its status CAMPAIGN, status list (text and
// JSON), doctor and send said Redis lost it, pointing at the state-loss
// recovery. Redis keeps the ledger and the audit entry of the free: they
// must say it was freed, by whom; and once Redis loses the ledger too
// (FLUSHDB), lost again, the status list included.
func TestFreedOnAnotherHostIsFreedEverywhere(t *testing.T) {
	t.Parallel()
	env, rd, file := doneCampaign(t, "elsewhere", "ada@example.org,Ada,en,1", "bo@example.org,Bo,en,2")
	other := merge(env, map[string]string{"TIDINGS_STATE_DIR": t.TempDir()}) // another host: its own state_dir
	if r := cli(t, other, "free", "elsewhere", "--env", "staging", "--yes", "--report-out", filepath.Join(t.TempDir(), "elsewhere.csv")); r.code != 0 {
		t.Fatalf("free on another host\n%s", r)
	}
	doctorState := func() doctor.Check {
		c, _ := doctor.State(t.Context(), &environment.Environment{Name: "staging", StateDir: env["TIDINGS_STATE_DIR"], Redis: environment.Redis{URL: rd.URL}})
		return c
	}
	listJSON := func() string {
		r := cli(t, env, "status", "--env", "staging", "--format", "json")
		var all []map[string]any
		if err := json.Unmarshal([]byte(r.stdout), &all); err != nil {
			t.Fatalf("status --format json: %v\n%s", err, r)
		}
		for _, c := range all {
			if c["campaign"] == "elsewhere" {
				s, _ := c["state"].(string)
				return s
			}
		}
		return ""
	}
	const freed = "was freed by 'tidings free' at"
	t.Run("freed", func(t *testing.T) {
		if r := cli(t, env, "status", "elsewhere", "--env", "staging"); !strings.Contains(r.stderr, freed) || !strings.Contains(r.stderr, "Redis keeps its ledger (2 recipients)") || strings.Contains(r.stderr, "Redis lost it") {
			t.Errorf("status CAMPAIGN on the starting host: want it freed, Redis keeping its ledger\n%s", r)
		}
		if r := cli(t, env, "status", "--env", "staging"); !strings.Contains(r.stdout, "Freed by 'tidings free'") || strings.Contains(r.stdout, "Redis lost") {
			t.Errorf("status list on the starting host: want it freed\n%s", r)
		}
		if s := listJSON(); s != "freed" {
			t.Errorf("status --format json: state %q, want freed", s)
		}
		if c := doctorState(); c.Status != doctor.Pass || !strings.Contains(c.Message, "elsewhere") {
			t.Errorf("doctor on the starting host: %+v, want its campaign state to pass naming it freed", c)
		}
		if r := cli(t, env, "send", file, "--env", "staging"); r.code == 0 || !strings.Contains(r.stderr, freed) || strings.Contains(r.stderr, "Redis lost") {
			t.Errorf("send again on the starting host: want a refusal saying it was freed\n%s", r)
		}
	})
	if err := rd.Client().FlushDB(t.Context()).Err(); err != nil {
		t.Fatal(err)
	}
	t.Run("then lost", func(t *testing.T) {
		if r := cli(t, env, "status", "elsewhere", "--env", "staging"); !strings.Contains(r.stderr, "Redis lost it") || strings.Contains(r.stderr, freed) {
			t.Errorf("status CAMPAIGN once Redis lost the ledger: want lost\n%s", r)
		}
		if s := listJSON(); s != "lost" {
			t.Errorf("status --format json once Redis lost the ledger: state %q, want lost", s)
		}
		if c := doctorState(); c.Status != doctor.Fail {
			t.Errorf("doctor once Redis lost the ledger: %+v, want a failure", c)
		}
	})
}

// TestFreedHereThenLostListsLost: the status list (text and JSON) said
// "freed" from the start record alone, once Redis lost the freed
// campaign's ledger too, where status CAMPAIGN says lost (review of
// fx40a): it now says lost.
func TestFreedHereThenLostListsLost(t *testing.T) {
	t.Parallel()
	env, rd, _ := doneCampaign(t, "herelost", "ada@example.org,Ada,en,1")
	if r := cli(t, env, "free", "herelost", "--env", "staging", "--yes", "--report-out", filepath.Join(t.TempDir(), "herelost.csv")); r.code != 0 {
		t.Fatalf("free\n%s", r)
	}
	if r := cli(t, env, "status", "--env", "staging"); !strings.Contains(r.stdout, "Freed by 'tidings free'") {
		t.Fatalf("status list once freed, its ledger kept: want it freed\n%s", r)
	}
	if err := rd.Client().FlushDB(t.Context()).Err(); err != nil {
		t.Fatal(err)
	}
	r := cli(t, env, "status", "--env", "staging")
	if strings.Contains(r.stdout, "Freed by 'tidings free'") || !strings.Contains(r.stdout, "herelost") || !strings.Contains(r.stdout, "Redis has no trace of 1 campaign(s)") {
		t.Errorf("status list once Redis lost the freed campaign's ledger: want it lost\n%s", r)
	}
	r = cli(t, env, "status", "--env", "staging", "--format", "json")
	if !strings.Contains(r.stdout, `"state":"lost"`) || strings.Contains(r.stdout, `"state":"freed"`) {
		t.Errorf("status --format json once Redis lost the freed campaign's ledger: want lost\n%s", r)
	}
}

// doneCampaign sends campaign name (rows: its recipients) in environment
// staging of a real Redis and SMTP server and waits until a real worker
// has sent it all: the env of the host that started it, its Redis and
// the campaign file.
func doneCampaign(t *testing.T, name string, rows ...string) (map[string]string, *redistest.Redis, string) {
	t.Helper()
	renv, rd := redisEnv(t)
	env := merge(renv, smtpEnv(startSMTP(t, smtpcapture.Config{})))
	file := writeCampaign(t, campaignFile{name: name, rows: rows})
	if r := cli(t, env, "send", file, "--env", "staging"); r.code != 0 {
		t.Fatalf("send\n%s", r)
	}
	_, log := startWorker(t, env)
	wait.For(t, time.Minute, "the campaign to be done", func() bool { return status(t, env, name).State == "done" }, log.String)
	return env, rd, file
}
