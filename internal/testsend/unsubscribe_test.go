package testsend_test

import (
	"bytes"
	"net/url"
	"strings"
	"testing"

	"github.com/tidings-mail/tidings/internal/environment"
	"github.com/tidings-mail/tidings/internal/send"
	"github.com/tidings-mail/tidings/internal/smtpcapture"
	"github.com/tidings-mail/tidings/internal/testsend"
	"github.com/tidings-mail/tidings/internal/unsubscribe"
)

// TestRunWarnsOfListUnsubscribeNamingNobody: test-send of a campaign whose
// https list_unsubscribe names no recipient still sends (QA sees the
// header) and warns that plan and send refuse it; one that names the
// recipient gets no warning.
func TestRunWarnsOfListUnsubscribeNamingNobody(t *testing.T) {
	t.Parallel()
	tests := []struct {
		url  string
		warn bool
	}{
		{"https://altea.example/unsubscribe", true},
		{"https://altea.example/unsubscribe?id={id}", false},
	}
	for _, tt := range tests {
		srv, err := smtpcapture.Start(t.Context(), smtpcapture.Config{})
		if err != nil {
			t.Fatal(err)
		}
		defer srv.Close()
		b := sample(t)
		b.Campaign.ListUnsubscribe = tt.url // the campaign's, or the environment's (bundle.UseEnv)
		res, err := testsend.Run(t.Context(), testsend.Config{Bundle: b, To: "qa@example.org",
			SMTP: send.Config{Host: srv.Host(), Port: srv.Port(), TLS: send.TLSNone}})
		if err != nil {
			t.Fatal(err)
		}
		if srv.Count() != 9 || !bytes.Contains(srv.Messages()[0].Data, []byte("\r\nList-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n")) {
			t.Errorf("%s: %d captured, want 9 with one-click: the test messages still go", tt.url, srv.Count())
		}
		var out strings.Builder
		res.WriteText(&out)
		warned := strings.Contains(out.String(), "\nwarning: list_unsubscribe \""+tt.url+"\" names no recipient: ") &&
			strings.Contains(out.String(), "; the messages above carry it, and plan and send refuse it\n")
		if warned != tt.warn || (res.Unsubscribe != nil) != tt.warn {
			t.Errorf("%s: warned %v (%v), want %v\n%s", tt.url, warned, res.Unsubscribe, tt.warn, out.String())
		}
	}
}

// TestRunTokenNeedsTheSecret: test-send of a campaign whose
// list_unsubscribe has {token} sends nothing without the environment's
// unsubscribe secret, saying what to set, before connecting; with it,
// each test message's List-Unsubscribe carries the token of its id.
func TestRunTokenNeedsTheSecret(t *testing.T) {
	t.Parallel()
	const tmpl, secret = "https://altea.example/u?id={id}&token={token}", "0123456789abcdef-qa"
	srv, err := smtpcapture.Start(t.Context(), smtpcapture.Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	b := sample(t)
	b.Campaign.ListUnsubscribe = tmpl
	cfg := testsend.Config{Bundle: b, To: "qa@example.org", SMTP: send.Config{Host: srv.Host(), Port: srv.Port(), TLS: send.TLSNone}}
	_, err = testsend.Run(t.Context(), cfg)
	want := `nothing was sent: compose messages: list-unsubscribe "` + tmpl + `" has {token}: no unsubscribe secret is set: set the environment's TIDINGS_UNSUBSCRIBE_SECRET, TIDINGS_UNSUBSCRIBE_SECRET_FILE or unsubscribe_secret_file, as for send`
	if err == nil || err.Error() != want || srv.Count() != 0 {
		t.Fatalf("got %v and %d messages, want %q and none", err, srv.Count(), want)
	}
	cfg.Env = &environment.Environment{Name: "staging", UnsubscribeSecret: secret}
	if _, err := testsend.Run(t.Context(), cfg); err != nil {
		t.Fatal(err)
	}
	if srv.Count() != 9 {
		t.Fatalf("%d messages, want 9", srv.Count())
	}
	for _, m := range srv.Messages() {
		shown, err := send.Show(m.Data)
		if err != nil {
			t.Fatal(err)
		}
		u, err := url.Parse(strings.Trim(shown.ListUnsubscribe, "<>"))
		if err != nil {
			t.Fatal(err)
		}
		id := u.Query().Get("id")
		if tok := u.Query().Get("token"); tok != unsubscribe.Token([]byte(secret), id) || !strings.HasPrefix(id, "test-") {
			t.Errorf("%s: token %q of id %q", shown.ListUnsubscribe, tok, id)
		}
	}
}
