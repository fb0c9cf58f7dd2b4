package cli

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/tidings-mail/tidings/internal/fixture"
)

// TestFromMustGoOnTheWire: a `from` that net/mail parses but
// SMTP cannot carry (a domain IDNA refuses, a local part longer than 64
// bytes) passes campaign validation, so plan says all is well and send
// stages and starts the campaign; the first worker then refuses to compose
// it and pauses it ("fix the campaign file and stage it again"), with the
// campaign and its recipients already in Redis. The README promises a
// configuration error with file, line and field (exit 2) and nothing
// staged on a refused send. send.NewComposer (worker.NewComposer) knows
// these Froms are wrong; campaign.validate does not ask it.
func TestFromMustGoOnTheWire(t *testing.T) {
	t.Parallel()
	for name, from := range map[string]string{
		"domain IDNA refuses": "Altea <community@bücher_news.example>",
		"local part of 65":    "Altea <" + strings.Repeat("a", 65) + "@altea.example>",
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			env, _ := redisEnv(t)
			file := writeCampaign(t, campaignFile{name: "wire", rows: []string{"ada@example.org,Ada,en,1"}})
			b, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			fixture.Write(t, file, strings.Replace(string(b), `"Altea Community <community@altea.example>"`, `"`+from+`"`, 1))
			want := regexp.MustCompile(regexp.QuoteMeta(file) + `:8: from: `)
			rejects := filepath.Join(filepath.Dir(file), "rejects.csv")
			if r := cli(t, env, "plan", file, "--rejects", rejects); r.code != 2 || !want.MatchString(r.stderr) {
				t.Errorf("plan of a campaign whose from cannot be sent: want exit 2 and %q\n%s", want, r)
			}
			r := cli(t, env, "send", file, "--env", "staging", "--rejects", rejects)
			if r.code != 2 || !want.MatchString(r.stderr) {
				t.Errorf("send of a campaign whose from cannot be sent: want exit 2 and %q\n%s", want, r)
			}
			noCampaign(t, env, "staging")
		})
	}
}

// TestEnvironmentListUnsubscribeIsValidated: the environment's
// list_unsubscribe (config key or TIDINGS_LIST_UNSUBSCRIBE) is copied into
// every campaign that sets none, but environment.Load never validates it.
// An address written where a URL belongs loads, plans and stages; every
// worker then fails to load the campaign's definition (validate: "is not an
// http(s) or mailto URL") and logs it 4 times a second, while the campaign
// stays RUNNING with nobody sent and nothing paused. The README promises a
// configuration error naming the file and line (or the variable) and the
// field, exit 2, and nothing staged.
func TestEnvironmentListUnsubscribeIsValidated(t *testing.T) {
	t.Parallel()
	const bad = "unsubscribe@altea.example"
	t.Run("variable", func(t *testing.T) {
		t.Parallel()
		env, _ := redisEnv(t)
		env["TIDINGS_LIST_UNSUBSCRIBE"] = bad
		file := writeCampaign(t, campaignFile{name: "unsubvar", rows: []string{"ada@example.org,Ada,en,1"}})
		r := cli(t, env, "send", file, "--env", "staging", "--rejects", filepath.Join(filepath.Dir(file), "rejects.csv"))
		if r.code != 2 || !strings.Contains(r.stderr, "TIDINGS_LIST_UNSUBSCRIBE") {
			t.Errorf("send with TIDINGS_LIST_UNSUBSCRIBE=%s: want exit 2 naming the variable\n%s", bad, r)
		}
		delete(env, "TIDINGS_LIST_UNSUBSCRIBE") // status refuses the environment too
		noCampaign(t, env, "staging")
	})
	t.Run("config file", func(t *testing.T) {
		t.Parallel()
		env, _ := redisEnv(t)
		cfg := filepath.Join(t.TempDir(), "tidings.yaml")
		fixture.Write(t, cfg, "environments:\n  staging:\n    list_unsubscribe: \""+bad+"\"\n")
		file := writeCampaign(t, campaignFile{name: "unsubfile", rows: []string{"ada@example.org,Ada,en,1"}})
		r := cli(t, env, "send", file, "--config", cfg, "--env", "staging", "--rejects", filepath.Join(filepath.Dir(file), "rejects.csv"))
		want := cfg + ":3: environments.staging.list_unsubscribe: "
		if r.code != 2 || !strings.Contains(r.stderr, want) {
			t.Errorf("send with list_unsubscribe %s in the config file: want exit 2 and %q\n%s", bad, want, r)
		}
		r = cli(t, env, "status", "--config", cfg, "--env", "staging")
		if r.code != 2 && !strings.Contains(r.stdout, "No campaigns") {
			t.Errorf("want no campaign staged\n%s", r)
		}
	})
}
