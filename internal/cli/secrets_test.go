package cli

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tidings-mail/tidings/internal/redistest"
	"github.com/tidings-mail/tidings/internal/smtpcapture"
)

// TestSecretsNeverPrinted runs commands with both passwords set, against a
// Redis and an SMTP server that require them, and with wrong or unreachable
// servers, and checks that no output ever contains a password.
func TestSecretsNeverPrinted(t *testing.T) {
	t.Parallel()
	const smtpSecret, redisSecret = "s3cr3t-value", "r3dis-pa55word"
	rd := redistest.StartServer(t, filepath.Join(repoRoot(t), "deploy", "redis.conf"))
	// redistest waits for an unauthenticated PING, so the password is set
	// once the server runs.
	if err := rd.Client().ConfigSet(t.Context(), "requirepass", redisSecret).Err(); err != nil {
		t.Fatalf("set requirepass: %v", err)
	}
	s := startSMTP(t, smtpcapture.Config{Username: "tidings", Password: smtpSecret})
	good := merge(smtpEnv(s), map[string]string{
		"TIDINGS_REDIS_URL":      rd.URL,
		"TIDINGS_REDIS_PASSWORD": redisSecret,
		"TIDINGS_SMTP_USERNAME":  "tidings",
		"TIDINGS_SMTP_PASSWORD":  smtpSecret,
	})
	host, port := closedPort(t)
	down := merge(good, map[string]string{"TIDINGS_REDIS_URL": fmt.Sprintf("redis://%s:%d/0", host, port)})
	// A password inside the URL is taken as the password; it must not be
	// echoed either.
	inURL := merge(good, map[string]string{"TIDINGS_REDIS_URL": fmt.Sprintf("redis://:%s@%s:%d/0", redisSecret, host, port)})
	wrongSMTP := merge(good, map[string]string{"TIDINGS_SMTP_USERNAME": "someone-else"})
	// A URL refused as malformed is not shown with its password either.
	badURL := func(u string) map[string]string { return merge(good, map[string]string{"TIDINGS_REDIS_URL": u}) }

	clean := writeCampaign(t, campaignFile{name: "sec", rows: []string{"ada@example.org,Ada,en,1"}})
	refused := writeCampaign(t, campaignFile{name: "sec2", rows: []string{"ada@example.org,Ada,en,1", "joao@example.org,João,pt,1"}})
	rejects := filepath.Join(t.TempDir(), "rejects.csv")

	steps := []struct {
		name     string
		env      map[string]string
		args     []string
		wantCode int
	}{
		{"doctor", good, []string{"doctor", "--env", "staging", clean}, 0},
		{"doctor with a wrong SMTP user", wrongSMTP, []string{"doctor", "--env", "staging"}, 1},
		{"plan", good, []string{"plan", clean, "--log-level", "debug"}, 0},
		{"send", good, []string{"send", clean, "--env", "staging", "--log-level", "debug"}, 0},
		{"status --json", good, []string{"status", "sec", "--env", "staging", "--json"}, 0},
		{"status list --json", good, []string{"status", "--env", "staging", "--json"}, 0},
		{"failing send: refused rows", good, []string{"send", refused, "--env", "staging", "--rejects", rejects}, 1},
		{"failing send: redis down", down, []string{"send", clean, "--env", "staging", "--log-level", "debug"}, 3},
		{"failing send: password in the URL", inURL, []string{"send", clean, "--env", "staging"}, 3},
		{"failing doctor: redis down", down, []string{"doctor", "--env", "staging"}, 3},
		{"URL without a host", badURL("redis://:" + redisSecret + "@:6379/0"), []string{"doctor", "--env", "staging", "--log-level", "debug"}, 2},
		{"URL with a bad port", badURL("redis://:" + redisSecret + "@127.0.0.1:63x9/0"), []string{"send", clean, "--env", "staging", "--log-level", "debug"}, 2},
		{"URL with an unknown scheme", badURL("http://:" + redisSecret + "@127.0.0.1:6379/0"), []string{"worker", "--env", "staging", "--log-level", "debug"}, 2},
		{"URL with a bad escape", badURL("redis://:" + redisSecret + "%zz@127.0.0.1:6379/0"), []string{"status", "--env", "staging", "--log-level", "debug"}, 2},
	}
	for _, s := range steps {
		r := cli(t, s.env, s.args...)
		if r.code != s.wantCode {
			t.Errorf("%s: want exit %d\n%s", s.name, s.wantCode, r)
		}
		for _, secret := range []string{smtpSecret, redisSecret} {
			if strings.Contains(r.stdout, secret) || strings.Contains(r.stderr, secret) {
				t.Errorf("%s: output shows a password\n%s", s.name, r)
			}
		}
	}
}
