package testsend_test

import (
	"bytes"
	"strings"
	"testing"

	"github.com/tidings-mail/tidings/internal/send"
	"github.com/tidings-mail/tidings/internal/smtpcapture"
	"github.com/tidings-mail/tidings/internal/testsend"
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
