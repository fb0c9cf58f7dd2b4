package doctor_test

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tidings-mail/tidings/internal/bundle"
	"github.com/tidings-mail/tidings/internal/demo"
	"github.com/tidings-mail/tidings/internal/doctor"
	"github.com/tidings-mail/tidings/internal/environment"
	"github.com/tidings-mail/tidings/internal/freeport"
	"github.com/tidings-mail/tidings/internal/golden"
	"github.com/tidings-mail/tidings/internal/smtpcapture"
)

// TestDoctorSaysWhatTheRelaysExtensionsMean: against a real SMTP server
// (go-smtp, in process) with every extension the sender looks for, and
// without each of SMTPUTF8, 8BITMIME, SIZE (or with a limit of 10 MiB)
// and PIPELINING, doctor has a line for each of them that says whether
// the relay offers it and what its absence means for the mail tidings
// sends; a relay without SMTPUTF8 is a warning, the others' absence is
// not. testdata/relay.golden holds the SMTP lines (all but connect, whose
// port changes); go test -update rewrites it.
func TestDoctorSaysWhatTheRelaysExtensionsMean(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		cfg  smtpcapture.Config
	}{
		{"every extension", smtpcapture.Config{}},
		{"no SMTPUTF8", smtpcapture.Config{NoSMTPUTF8: true}},
		{"no 8BITMIME", smtpcapture.Config{HideExtensions: []string{"8BITMIME"}}},
		{"no SIZE", smtpcapture.Config{HideExtensions: []string{"SIZE"}}},
		{"SIZE 10 MiB", smtpcapture.Config{MaxMessageBytes: 10 << 20}},
		{"no PIPELINING", smtpcapture.Config{HideExtensions: []string{"PIPELINING"}}},
		{"none of them", smtpcapture.Config{NoSMTPUTF8: true, HideExtensions: []string{"8BITMIME", "SIZE", "PIPELINING"}}},
	}
	lines := make([]string, len(cases))
	t.Run("relays", func(t *testing.T) {
		for i, tt := range cases {
			t.Run(tt.name, func(t *testing.T) {
				t.Parallel()
				lines[i] = smtpLines(t, relayEnv(t, tt.cfg), nil)
			})
		}
	})
	var got strings.Builder
	for i, tt := range cases {
		fmt.Fprintf(&got, "## %s\n%s", tt.name, lines[i])
	}
	golden.Check(t, filepath.Join("testdata", "relay.golden"), got.String())
}

// TestDoctorCountsTheCampaignsRecipientsThatNeedSMTPUTF8: given a
// campaign and a relay without SMTPUTF8, doctor's smtp smtputf8 line says
// whether the campaign's recipients need it: a warning with how many
// accepted recipients have an address whose local part is not ASCII and
// the first of them as file:line (the plan's count, plan.Summary.SMTPUTF8),
// or a pass when none has; a campaign whose reply_to (or from) needs it
// fails, since no message of it could be sent. Against a relay that
// offers SMTPUTF8 none of it is a concern. testdata/relay_campaign.golden.
func TestDoctorCountsTheCampaignsRecipientsThatNeedSMTPUTF8(t *testing.T) {
	t.Parallel()
	const ascii = "email,name,locale,posts\nada@altea.example,Ada,en,1\njuerg@altea.example,Jürg,de-CH,3\n"
	const utf8 = ascii + "jösé@altea.example,José,es,2\nnot an address,X,en,1\nzoë@altea.example,Zoë,fr,4\n"
	cases := []struct {
		name       string
		recipients string
		cfg        smtpcapture.Config
		replyTo    string
	}{
		{"no SMTPUTF8, two recipients need it", utf8, smtpcapture.Config{NoSMTPUTF8: true}, ""},
		{"no SMTPUTF8, no recipient needs it", ascii, smtpcapture.Config{NoSMTPUTF8: true}, ""},
		{"SMTPUTF8, two recipients need it", utf8, smtpcapture.Config{}, ""},
		{"no SMTPUTF8, the reply_to needs it", ascii, smtpcapture.Config{NoSMTPUTF8: true}, "Jösé <jösé@altea.example>"},
		{"SMTPUTF8, the reply_to needs it", ascii, smtpcapture.Config{}, "Jösé <jösé@altea.example>"},
	}
	lines := make([]string, len(cases))
	t.Run("campaigns", func(t *testing.T) {
		for i, tt := range cases {
			t.Run(tt.name, func(t *testing.T) {
				t.Parallel()
				b, err := demo.Load(filepath.Join(t.TempDir(), "demo"))
				if err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(b.RecipientsPath(), []byte(tt.recipients), 0o600); err != nil {
					t.Fatal(err)
				}
				if tt.replyTo != "" {
					b.Campaign.ReplyTo = tt.replyTo
				}
				lines[i] = strings.ReplaceAll(smtpLines(t, relayEnv(t, tt.cfg), b), b.RecipientsPath(), "recipients.csv")
			})
		}
	})
	var got strings.Builder
	for i, tt := range cases {
		fmt.Fprintf(&got, "## %s\n%s", tt.name, lines[i])
	}
	golden.Check(t, filepath.Join("testdata", "relay_campaign.golden"), got.String())
}

// relayEnv starts a capture server with cfg and returns an environment
// sending to it without TLS, whose Redis is unreachable (these tests
// look at the SMTP lines alone).
func relayEnv(t *testing.T, cfg smtpcapture.Config) *environment.Environment {
	t.Helper()
	srv, err := smtpcapture.Start(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Close() })
	_, closed, _ := net.SplitHostPort(freeport.Closed(t))
	vars := map[string]string{
		"TIDINGS_REDIS_URL": "redis://127.0.0.1:" + closed + "/0", "TIDINGS_STATE_DIR": t.TempDir(),
		"TIDINGS_SMTP_HOST": srv.Host(), "TIDINGS_SMTP_PORT": fmt.Sprint(srv.Port()), "TIDINGS_SMTP_TLS": "none",
		"TIDINGS_SMTP_HELO": "doctor.test",
	}
	e, err := environment.Load(nil, "", "staging", func(k string) string { return vars[k] })
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// smtpLines runs doctor on e (with campaign b, or none) and returns the
// lines of its text output that are about SMTP, but for connect's.
func smtpLines(t *testing.T, e *environment.Environment, b *bundle.Bundle) string {
	t.Helper()
	var text strings.Builder
	doctor.Run(t.Context(), e, b, nil).WriteText(&text)
	var out strings.Builder
	for line := range strings.Lines(text.String()) {
		if f := strings.Fields(line); len(f) > 2 && f[1] == "smtp" && f[2] != "connect" {
			out.WriteString(line)
		}
	}
	return out.String()
}
