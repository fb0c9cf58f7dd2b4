package cli

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/tidings-mail/tidings/internal/store"
)

// TestHintsNameTheCampaignFileItWasStagedFrom: a campaign staged from a
// file whose path has a space and a quote; what status and the controls'
// refusals say to run names that file (absolute, quoted for a POSIX
// shell), never CAMPAIGN-FILE, and pasted as it is from another
// directory it works. Its staging again is interrupted (paused before):
// status's hint and cancel's refusal name the send that stages it again;
// pasted, it stages it (paused); cancelled, resume's refusal names the
// send that stages it again for those not sent; pasted, it stages it.
// They said "tidings send CAMPAIGN-FILE ..." although this host's start
// record names the file.
//
// Not parallel: it changes the working directory (t.Chdir).
func TestHintsNameTheCampaignFileItWasStagedFrom(t *testing.T) {
	env, r := redisEnv(t)
	const c = "named-file"
	written := writeCampaign(t, campaignFile{name: c, locales: filepath.Join(repoRoot(t), "testdata", "locales-incomplete"),
		rows: []string{"ada@example.org,Ada,en,1", "joao@example.org,João,pt,3", "bad-email,Bob,de,2"}})
	dir := filepath.Join(t.TempDir(), "ops' mail")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(dir, "Q4 altea.yaml")
	for from, to := range map[string]string{written: file, filepath.Join(filepath.Dir(written), "recipients.csv"): filepath.Join(dir, "recipients.csv")} {
		b, err := os.ReadFile(from)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(to, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if res := cli(t, env, "send", file, "--env", "staging", "--skip-refused", "--skip-invalid", "--rejects", filepath.Join(dir, "rejects.csv")); res.code != 0 {
		t.Fatalf("stage %s\n%s", c, res)
	}
	s, ctx := store.New(r.Client()), context.Background()
	_ = interruptRestaging(t, s, c) // on this host: its record names the file

	quote := func(p string) string { return `'` + strings.ReplaceAll(p, `'`, `'\''`) + `'` }
	// The send that staged it, again: its file and flags, as its start record keeps them.
	again := "tidings send " + quote(file) + " --env staging --resume-existing --skip-refused --skip-invalid --rejects " + quote(filepath.Join(dir, "rejects.csv"))
	for _, tt := range []struct {
		args   []string
		code   int
		stderr bool
		want   string
	}{
		{[]string{"status", "--env", "staging"}, 0, false, "Next: run the same send again as a re-staging: " + again + " (with any --exclude-delivered it had)"},
		{[]string{"status", c, "--env", "staging"}, 0, false, "run the same send again as a re-staging: " + again + " (with any --exclude-delivered it had)"},
		{[]string{"cancel", c, "--env", "staging", "--reason", "give up"}, 1, true, "if it was interrupted, run it again as a re-staging: " + again + " (with any --exclude-delivered it had); then cancel it"},
		{[]string{"resume", c, "--env", "staging"}, 1, true, "if the send was interrupted, run it again: " + again + " (with any --exclude-delivered it had)\n"},
	} {
		res := cli(t, env, tt.args...)
		out := map[bool]string{false: res.stdout, true: res.stderr}[tt.stderr]
		if res.code != tt.code || !strings.Contains(out, tt.want) || strings.Contains(res.stdout+res.stderr, "CAMPAIGN-FILE") {
			t.Errorf("%s: want exit %d, %q and no CAMPAIGN-FILE\n%s", strings.Join(tt.args, " "), tt.code, tt.want, res)
		}
	}

	t.Chdir(t.TempDir()) // where on-call pastes
	res := cli(t, env, "status", c, "--env", "staging")
	m := regexp.MustCompile(`(tidings send .*) \(with any --exclude-delivered it had\)`).FindStringSubmatch(res.stdout)
	if m == nil || m[1] != again {
		t.Fatalf("status's command: %q, want %q\n%s", m, again, res)
	}
	cmd := m[1]
	if res := paste(t, env, cmd); res.code != 0 {
		t.Fatalf("status's command pasted (%s): want it staged again\n%s", cmd, res)
	}
	if ctl, err := s.Control(ctx, c); err != nil || ctl.State != store.StatePaused {
		t.Fatalf("%s staged again: %+v, %v; want it paused (the pause stays)", c, ctl, err)
	}
	if res := cli(t, env, "cancel", c, "--env", "staging", "--reason", "give up"); res.code != 0 {
		t.Fatalf("cancel once staged\n%s", res)
	}
	res = cli(t, env, "resume", c, "--env", "staging")
	want := "a cancelled campaign does not run again; to send to the recipients not yet sent, stage it again: " + again + " (nobody already sent is sent again)"
	if res.code != 1 || !strings.Contains(res.stderr, want) {
		t.Fatalf("resume of the cancelled campaign: want exit 1 and %q\n%s", want, res)
	}
	if res := paste(t, env, again); res.code != 0 || !strings.Contains(res.stdout, "Staged ") {
		t.Fatalf("resume's command pasted (%s): want it staged again\n%s", again, res)
	}
	if st, err := s.Status(ctx, c); err != nil || st.State == store.StateCancelled {
		t.Errorf("%s after the pasted send: %v, %v; want it staged again, not cancelled", c, st, err)
	}
}
