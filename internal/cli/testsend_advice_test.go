package cli

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/tidings-mail/tidings/internal/smtpcapture"
)

// TestTestSendAdviceFollowsWhatWentWrong: what test-send says to do when
// not every language was tested follows why. A relay that refuses the QA
// inbox (550) fails every language: the languages are complete, so
// pointing QA to `tidings check` ("see where the catalogs are
// incomplete", which it said whatever failed) sends them looking at
// catalogs that check passes; the advice names the SMTP replies on the
// FAIL lines and the environment's doctor. An incomplete language still
// points to `tidings check`; a locale refused because no catalog of its
// language exists names the catalog file to add (check, which reads the
// catalogs there are, cannot say where a missing one is incomplete). Only the places that
// apply are named: a refusal at the server names no recipients row, and a
// language none of whose rows can be rendered names neither the server
// nor doctor.
func TestTestSendAdviceFollowsWhatWentWrong(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name      string
		rows      []string
		fault     func(string) error
		want, not []string
	}{
		{
			name:  "the relay refuses the QA inbox",
			rows:  []string{"ada@example.org,Ada,en,1"},
			fault: func(string) error { return smtpcapture.Reject(550, "5.1.1 mailbox unavailable") },
			want:  []string{"FAIL", "the FAIL lines above", "tidings doctor --env staging"},
			not:   []string{"catalogs are incomplete", "tidings check", "recipients row"},
		},
		{
			name: "no row of a language can be rendered",
			rows: []string{"ada@example.org,Ada,en,many"},
			want: []string{"FAIL", "none of the 1 row(s) of en can be rendered", "the FAIL lines above", "recipients row"},
			not:  []string{"tidings doctor", "QA inbox", "SMTP server", "tidings check"},
		},
		{
			name: "a recipient's locale has no catalog",
			rows: []string{"ada@example.org,Ada,en,1", "daan@example.org,Daan,nl,2"},
			want: []string{"no catalog of nl", string(filepath.Separator) + filepath.Join("locales", "nl.toml")},
			not:  []string{"the FAIL lines above", "catalogs are incomplete", "tidings check"},
		},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			file := writeCampaign(t, campaignFile{name: "advice", rows: tt.rows})
			smtp := startSMTP(t, smtpcapture.Config{Fault: tt.fault})
			env := merge(smtpEnv(smtp), map[string]string{"TIDINGS_ALLOW": "example.org"})
			r := cli(t, env, "test-send", file, "--env", "staging", "--to", "qa@example.org")
			if r.code != 1 {
				t.Errorf("test-send: exit %d, want 1\n%s", r.code, r)
			}
			out := r.stdout + r.stderr
			for _, w := range tt.want {
				if !strings.Contains(out, w) {
					t.Errorf("test-send does not say %q\n%s", w, r)
				}
			}
			for _, n := range tt.not {
				if strings.Contains(r.stderr, n) {
					t.Errorf("test-send's advice says %q, which is not why it failed\n%s", n, r)
				}
			}
		})
	}
}
