package cli

import (
	"strings"
	"testing"

	"github.com/tidings-mail/tidings/internal/smtpcapture"
	"github.com/tidings-mail/tidings/internal/unsubscribe"
)

// TestUnsubscribeSecretChangedRefusedBeforeConfirm: in production, send
// --resume-existing of a {token} campaign with another unsubscribe
// secret than it was staged with is refused before the confirmation is
// asked: the refusal, not the confirmation's "pass --confirm", is what
// it says; the standard input that would confirm it is not read, and
// nothing is staged (the stored fingerprint stays).
func TestUnsubscribeSecretChangedRefusedBeforeConfirm(t *testing.T) {
	t.Parallel()
	renv, rd := redisEnv(t)
	smtp := startSMTP(t, smtpcapture.Config{})
	oldEnv := merge(renv, smtpEnv(smtp), map[string]string{"TIDINGS_UNSUBSCRIBE_SECRET": tokenSecret})
	newEnv := merge(oldEnv, map[string]string{"TIDINGS_UNSUBSCRIBE_SECRET": "the-new-secret-of-the-same-site"})
	oldKey := unsubscribe.KeyFingerprint([]byte(tokenSecret))
	file := writeCampaign(t, campaignFile{name: "rekeyp", env: "production", rows: rowsIn(2, "en"), extra: "list_unsubscribe: \"" + tokenURL + "\"\n"})
	if r := cli(t, oldEnv, "send", file, "--env", "production", "--confirm", "rekeyp"); r.code != 0 {
		t.Fatalf("send\n%s", r)
	}
	if r := cli(t, oldEnv, "pause", "rekeyp", "--env", "production", "--reason", "new key"); r.code != 0 {
		t.Fatalf("pause\n%s", r)
	}
	stdin := strings.NewReader("rekeyp\n")
	r := cliIn(t, t.Context(), newEnv, stdin, "send", file, "--env", "production", "--resume-existing")
	if r.code != 2 {
		t.Errorf("re-staging with another secret: exit %d, want 2\n%s", r.code, r)
	}
	contains(t, "send --resume-existing", r.stderr, `campaign "rekeyp" was staged with another unsubscribe secret`)
	contains(t, "send --resume-existing", r.stderr, "--new-unsubscribe-secret")
	if strings.Contains(r.stderr, "--confirm") || strings.Contains(r.stdout, "PRODUCTION") {
		t.Errorf("the confirmation was asked before the refusal\n%s", r)
	}
	if stdin.Len() != len("rekeyp\n") {
		t.Errorf("%d bytes of standard input were read before the refusal, want none", len("rekeyp\n")-stdin.Len())
	}
	if got := rd.Client().HGet(t.Context(), "tidings:{rekeyp}:meta", "unsub_key").Val(); got != oldKey {
		t.Errorf("after the refusal the stored fingerprint is %q, want the first secret's %q kept", got, oldKey)
	}
}
