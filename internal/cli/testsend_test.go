package cli

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tidings-mail/tidings/internal/smtpcapture"
)

// TestTestSend: one message per covered language to the QA inbox; a
// language skipped as incomplete makes the exit code 1 when a recipient
// needs it, and only then, as preview's is for the same campaign.
func TestTestSend(t *testing.T) {
	t.Parallel()
	incomplete := filepath.Join(repoRoot(t), "testdata", "locales-incomplete")
	tests := []struct {
		name     string
		locales  string
		wantCode int
		wantSent int
		want     []string
	}{
		{"complete catalogs", "", 0, 9, []string{"sent  de     [TEST de] ", "9 test messages sent to qa@example.org"}},
		{"pt and pl incomplete, nobody needs them", incomplete, 0, 8, []string{"skip  pt     incomplete: lacks welcome.reregister", "(no recipient needs it)", "skip  pl "}},
		{"pt and pl incomplete, pt needed", incomplete, 1, 8, []string{"skip  pt     incomplete: lacks welcome.reregister (1 recipient(s) need it: they are refused)", "1 language(s) that recipients need skipped as incomplete"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			smtp := startSMTP(t, smtpcapture.Config{})
			env := merge(smtpEnv(smtp), map[string]string{"TIDINGS_ALLOW": "example.org"})
			rows := []string{"ada@example.org,Ada,en,1"}
			if strings.HasSuffix(tt.name, "pt needed") {
				rows = append(rows, "joao@example.org,João,pt-BR,2")
			}
			file := writeCampaign(t, campaignFile{locales: tt.locales, rows: rows})
			if p := cli(t, nil, "preview", file, "--out", t.TempDir()); p.code != tt.wantCode {
				t.Fatalf("setup: preview exit %d, want %d\n%s", p.code, tt.wantCode, p)
			}
			r := cli(t, env, "test-send", file, "--env", "staging", "--to", "qa@example.org")
			if r.code != tt.wantCode || smtp.Count() != tt.wantSent {
				t.Fatalf("want exit %d and %d messages, got %d messages\n%s", tt.wantCode, tt.wantSent, smtp.Count(), r)
			}
			for _, w := range tt.want {
				if !strings.Contains(r.stdout+r.stderr, w) {
					t.Errorf("output lacks %q\n%s", w, r)
				}
			}
		})
	}
}

// TestTestSendSMTPDown: an unreachable SMTP server is said once, with the
// next step (doctor in that environment), exit 3.
func TestTestSendSMTPDown(t *testing.T) {
	t.Parallel()
	host, port := closedPort(t)
	env := map[string]string{"TIDINGS_SMTP_HOST": host, "TIDINGS_SMTP_PORT": fmt.Sprint(port), "TIDINGS_SMTP_TLS": "none", "TIDINGS_ALLOW": "example.org"}
	file := writeCampaign(t, campaignFile{rows: []string{"ada@example.org,Ada,en,1"}})
	r := cli(t, env, "test-send", file, "--env", "staging", "--to", "qa@example.org")
	msg := strings.TrimSpace(r.stderr)
	if r.code != 3 || strings.Count(msg, "\n") != 0 || !strings.Contains(msg, "then run 'tidings doctor --env staging'") {
		t.Errorf("want exit 3 and one line naming the next step\n%s", r)
	}
	if strings.Count(msg, "unreachable") != 1 || strings.Contains(msg, "connect to") {
		t.Errorf("the message says more than once what failed\n%s", r)
	}
}

// TestTestSendUsesEnvironmentListUnsubscribe: a campaign without
// list_unsubscribe gets the environment's in its test messages, as send
// stages it; QA sees the header the recipients will get.
func TestTestSendUsesEnvironmentListUnsubscribe(t *testing.T) {
	t.Parallel()
	smtp := startSMTP(t, smtpcapture.Config{})
	env := merge(smtpEnv(smtp), map[string]string{"TIDINGS_ALLOW": "example.org", "TIDINGS_LIST_UNSUBSCRIBE": "https://example.org/unsub?id={id}"})
	file := writeCampaign(t, campaignFile{rows: []string{"ada@example.org,Ada,en,1"}})
	if r := cli(t, env, "test-send", file, "--env", "staging", "--to", "qa@example.org"); r.code != 0 {
		t.Fatalf("test-send\n%s", r)
	}
	msgs := smtp.Messages()
	if len(msgs) == 0 {
		t.Fatal("no test message was sent")
	}
	for _, m := range msgs {
		if !strings.Contains(string(m.Data), "\r\nList-Unsubscribe: <https://example.org/unsub?id=") || !strings.Contains(string(m.Data), "\r\nList-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n") {
			t.Fatalf("a test message lacks the environment's List-Unsubscribe:\n%s", m.Data)
		}
	}
}
