package send_test

import (
	"strings"
	"sync"
	"testing"

	"github.com/tidings-mail/tidings/internal/send"
	"github.com/tidings-mail/tidings/internal/smtpcapture"
)

// TestCheckWithoutCredentialsTellsAuthFromPolicy: with no credentials
// configured, Check starts a transaction as the sender would and judges the
// server's answer to MAIL FROM. Only a refusal about authentication (530,
// enhanced status 5.7.0 or 5.7.57, or text saying so) means every message
// would be refused for want of credentials, and fails. A server that
// refuses the null sender <> by policy (553 5.7.1 "null sender not
// allowed") says nothing about authentication: a warning that says what
// was refused, not a failure that blocks the operator. Given the
// campaign's sender, the probe uses it, as the sender does: its refusal
// fails whatever the reason, since every message would carry it.
func TestCheckWithoutCredentialsTellsAuthFromPolicy(t *testing.T) {
	t.Parallel()
	const sender = "Altea Community <community@altea.example>"
	refuseNull := func(err error) func(string) error {
		return func(from string) error {
			if from == "" {
				return err
			}
			return nil
		}
	}
	refuseAll := func(err error) func(string) error { return func(string) error { return err } }
	tests := []struct {
		name     string
		from     string // the campaign's sender given to Check; "" for none
		fault    func(string) error
		wantMail string // the sender the probe must use ("" for <>)
		want     string // "pass", "warn" or "fail"
		wantMsg  []string
	}{
		{"null sender taken", "", nil, "", "pass", []string{"takes mail without them"}},
		{"null sender refused by policy", "", refuseNull(smtpcapture.Reject(553, "5.7.1 Sender address rejected: null sender not allowed")),
			"", "warn", []string{"MAIL FROM:<>", "553", "null sender not allowed", "not about authentication", "campaign"}},
		{"null sender refused, not authorized to relay", "", refuseNull(smtpcapture.Reject(550, "5.7.1 Sender not authorized by policy")),
			"", "warn", []string{"MAIL FROM:<>", "550", "Sender not authorized"}},
		{"greylisted", "", refuseNull(smtpcapture.Reject(450, "4.7.1 Try again later")),
			"", "warn", []string{"MAIL FROM:<>", "450"}},
		{"campaign sender greylisted", sender, refuseAll(smtpcapture.Reject(451, "4.7.1 Greylisted, try again later")),
			"community@altea.example", "warn", []string{"MAIL FROM:<community@altea.example>", "451", "again later"}},
		{"530 authentication required", "", refuseAll(smtpcapture.Reject(530, "5.7.0 Authentication required")),
			"", "fail", []string{"530", "smtp.username", "TIDINGS_SMTP_USERNAME"}},
		{"5.7.0 under another code", "", refuseAll(smtpcapture.Reject(554, "5.7.0 Relay denied")),
			"", "fail", []string{"554", "smtp.username"}},
		{"5.7.57 client not authenticated", "", refuseAll(smtpcapture.Reject(550, "5.7.57 Client not authenticated to send mail")),
			"", "fail", []string{"5.7.57", "smtp.username"}},
		{"text says authentication required", "", refuseAll(smtpcapture.Reject(550, "Authentication required")),
			"", "fail", []string{"smtp.username"}},
		{"campaign sender probed instead of <>", sender, refuseNull(smtpcapture.Reject(553, "5.7.1 null sender not allowed")),
			"community@altea.example", "pass", []string{"community@altea.example"}},
		{"campaign sender refused by policy", sender, refuseAll(smtpcapture.Reject(553, "5.7.1 Sender address rejected: not owned by you")),
			"community@altea.example", "fail", []string{"MAIL FROM:<community@altea.example>", "553", "not owned by you", "from"}},
		{"campaign sender refused for want of auth", sender, refuseAll(smtpcapture.Reject(530, "5.7.0 Authentication required")),
			"community@altea.example", "fail", []string{"530", "smtp.username"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var mu sync.Mutex
			var got []string
			srv := startCapture(t, smtpcapture.Config{MailFault: func(from string) error {
				mu.Lock()
				got = append(got, from)
				mu.Unlock()
				if tt.fault != nil {
					return tt.fault(from)
				}
				return nil
			}})
			rep, _ := send.Check(t.Context(), plainConfig(srv), tt.from)
			var auth *send.Step
			for i := range rep.Steps {
				if rep.Steps[i].Name == "auth" {
					auth = &rep.Steps[i]
				}
			}
			if auth == nil {
				t.Fatalf("no auth step: %+v", rep.Steps)
			}
			status := "pass"
			switch {
			case !auth.OK:
				status = "fail"
			case auth.Warn:
				status = "warn"
			}
			if status != tt.want {
				t.Errorf("auth step %s %q, want %s", status, auth.Msg, tt.want)
			}
			for _, w := range tt.wantMsg {
				if !strings.Contains(auth.Msg, w) {
					t.Errorf("auth step %q does not say %q", auth.Msg, w)
				}
			}
			mu.Lock()
			defer mu.Unlock()
			if len(got) != 1 || got[0] != tt.wantMail {
				t.Errorf("the probe sent MAIL FROM %q, want exactly one, <%s>", got, tt.wantMail)
			}
			if n := len(srv.Messages()); n != 0 {
				t.Errorf("the probe delivered %d message(s), want none", n)
			}
		})
	}
}
