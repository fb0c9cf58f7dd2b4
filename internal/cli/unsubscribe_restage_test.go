package cli

import (
	"net/url"
	"strings"
	"testing"

	"github.com/tidings-mail/tidings/internal/smtpcapture"
	"github.com/tidings-mail/tidings/internal/unsubscribe"
)

// TestUnsubscribeSecretChangedAtRestage: send --resume-existing of a
// {token} campaign with another unsubscribe secret than the one it was
// staged with is refused (exit 2, nothing staged: the stored fingerprint
// stays), naming both fingerprints, what to set and the flag that says
// the change is meant; with the same secret it stages; with
// --new-unsubscribe-secret it stages, stores the new fingerprint and
// says so in the audit log, and a worker holding the new secret sends
// links that verify under it.
func TestUnsubscribeSecretChangedAtRestage(t *testing.T) {
	t.Parallel()
	renv, rd := redisEnv(t)
	smtp := startSMTP(t, smtpcapture.Config{})
	const newSecret = "the-new-secret-of-the-same-site"
	oldEnv := merge(renv, smtpEnv(smtp), map[string]string{"TIDINGS_UNSUBSCRIBE_SECRET": tokenSecret})
	newEnv := merge(oldEnv, map[string]string{"TIDINGS_UNSUBSCRIBE_SECRET": newSecret})
	oldKey, newKey := unsubscribe.KeyFingerprint([]byte(tokenSecret)), unsubscribe.KeyFingerprint([]byte(newSecret))
	file := writeCampaign(t, campaignFile{name: "rekey", rows: rowsIn(2, "en"), extra: "list_unsubscribe: \"" + tokenURL + "\"\n"})
	stored := func() string {
		t.Helper()
		return rd.Client().HGet(t.Context(), "tidings:{rekey}:meta", "unsub_key").Val()
	}
	if r := cli(t, oldEnv, "send", file, "--env", "staging"); r.code != 0 {
		t.Fatalf("send\n%s", r)
	}
	if r := cli(t, oldEnv, "pause", "rekey", "--env", "staging", "--reason", "new key"); r.code != 0 {
		t.Fatalf("pause\n%s", r)
	}
	if got := stored(); got != oldKey {
		t.Fatalf("stored fingerprint %q, want the first secret's %q", got, oldKey)
	}

	r := cli(t, newEnv, "send", file, "--env", "staging", "--resume-existing")
	if r.code != 2 {
		t.Errorf("re-staging with another secret: exit %d, want 2\n%s", r.code, r)
	}
	for _, want := range []string{
		`campaign "rekey" was staged with another unsubscribe secret (key fingerprint ` + oldKey + `) than this send holds (` + newKey + `)`,
		"nothing was staged",
		"set TIDINGS_UNSUBSCRIBE_SECRET",
		"--new-unsubscribe-secret",
		"every worker of staging",
	} {
		contains(t, "send --resume-existing", r.stderr, want)
	}
	if got := stored(); got != oldKey {
		t.Errorf("after the refusal the stored fingerprint is %q, want the first secret's %q kept", got, oldKey)
	}

	if r := cli(t, oldEnv, "send", file, "--env", "staging", "--resume-existing"); r.code != 0 {
		t.Errorf("re-staging with the same secret: exit %d, want 0\n%s", r.code, r)
	}
	if r := cli(t, newEnv, "send", file, "--env", "staging", "--resume-existing", "--new-unsubscribe-secret"); r.code != 0 {
		t.Fatalf("re-staging with --new-unsubscribe-secret: exit %d, want 0\n%s", r.code, r)
	}
	if got := stored(); got != newKey {
		t.Errorf("after --new-unsubscribe-secret the stored fingerprint is %q, want the new secret's %q", got, newKey)
	}
	changed := 0
	for _, e := range status(t, newEnv, "rekey").Audit {
		if strings.Contains(e.Reason, ", another unsubscribe secret (key fingerprint "+newKey+", staged before with "+oldKey+")") {
			changed++
		}
	}
	if changed != 1 {
		t.Errorf("%d audit entries record the change of secret, want 1 (the staging with --new-unsubscribe-secret)", changed)
	}
	if r := cli(t, newEnv, "resume", "rekey", "--env", "staging"); r.code != 0 {
		t.Fatalf("resume\n%s", r)
	}
	_, log := startWorker(t, newEnv)
	waitState(t, newEnv, "rekey", "done", log)
	msgs := smtp.Messages()
	if len(msgs) != 2 {
		t.Fatalf("%d messages, want 2\n%s", len(msgs), log)
	}
	for _, m := range msgs {
		u, err := url.Parse(strings.Trim(decodeMail(t, m.Data).header.Get("List-Unsubscribe"), "<>"))
		if err != nil {
			t.Fatal(err)
		}
		if !verifyToken(newSecret, u.Query().Get("id"), u.Query().Get("token")) {
			t.Errorf("%s: the token does not verify under the new secret", u)
		}
	}
}
