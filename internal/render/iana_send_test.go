package render

import (
	"context"
	"fmt"
	"mime"
	"net/mail"
	"strings"
	"testing"
	"time"

	"github.com/tidings-mail/tidings/internal/send"
	"github.com/tidings-mail/tidings/internal/smtpcapture"
)

// TestRegistryTagsSentThroughSMTP sends, through a real SMTP server on
// loopback, one message to each of a few recipients whose locales are
// deprecated, replaced or two-language tags, with catalogs whose subjects
// say their language: the server receives exactly the accepted ones, each
// in its own language's catalog, and nothing for the refused ones (en-cmn
// was sent the zh catalog, hy-arevmda the hy one).
func TestRegistryTagsSentThroughSMTP(t *testing.T) {
	t.Parallel()
	// Catalogs that say which they are: the subject starts with [lang].
	extra := map[string]string{}
	for _, lang := range []string{"zh", "he", "ro", "hy", "mn"} {
		extra[lang+".toml"] = strings.Replace(allForms(t), `other = "Action needed:`, `other = "[`+lang+`] Action needed:`, 1)
		if extra[lang+".toml"] == allForms(t) {
			t.Fatal("the en catalog's subject changed: update this test")
		}
	}
	e := newEngine(t, localesWith(t, extra), Policy{})

	tests := []struct {
		locale string
		rule   string
		want   string // the subject's start; "" refused
	}{
		{"iw", "preferred: iw is he", "[he]"},
		{"mo", "preferred: mo is ro", "[ro]"},
		{"ger", "ISO 639-2 bibliographic code", "Bitte registrieren"},
		{"deu", "overlong ISO 639-2 code", "Bitte registrieren"},
		{"de-DD", "a region is not the language", "Bitte registrieren"},
		{"drh", "preferred then macro-same: drh is khk is mn", "[mn]"},
		{"zh-cmn", "extlang after its prefix", "[zh]"},
		{"en-cmn", "extlang after another language: two languages", ""},
		{"de-yue", "extlang after another language: two languages", ""},
		{"de-DEU", "a country's three-letter code, read as the first's own language (deu is de)", "Bitte registrieren"},
		{"pt-BRA", "a country's three-letter code, read as another language (bra, Braj): two languages", ""},
		{"hy-arevmda", "preferred (variant): Western Armenian is hyw", ""},
		{"hy-arevela", "preferred (variant): Eastern Armenian is hy", "[hy]"},
		{"i-klingon", "grandfathered: tlh, no catalog", ""},
		{"sgn-US", "sgn names sign languages: no catalog", ""},
		{"de-Qaai", "a script is part of the language", ""},
	}

	srv, err := smtpcapture.Start(context.WithoutCancel(t.Context()), smtpcapture.Config{})
	if err != nil {
		t.Fatalf("start capture server: %v", err)
	}
	t.Cleanup(func() { _ = srv.Close() })
	pool := send.NewPool(send.Config{Host: srv.Host(), Port: srv.Port(), TLS: send.TLSNone, HeloName: "test.local", Timeout: 5 * time.Second}, 1)
	t.Cleanup(func() { _ = pool.Close() })

	want := map[string]string{} // address -> subject start
	for i, tc := range tests {
		to := fmt.Sprintf("r%d@example.org", i)
		m, err := e.Resolve(tc.locale)
		if tc.want == "" {
			if err == nil {
				t.Errorf("%s (%s): accepted for the %s catalog, want refused", tc.locale, tc.rule, m.Lang)
			} else {
				refusalSaysWhatToDo(t, tc.locale, err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s (%s): refused: %v", tc.locale, tc.rule, err)
			continue
		}
		r, err := e.Render(m, Data{Email: to, Name: "R", Fields: map[string]string{"posts": "2"}, Data: map[string]any{"reregister_url": "https://altea.example/re-register"}})
		if err != nil {
			t.Fatalf("render %s: %v", tc.locale, err)
		}
		c, err := pool.Get(t.Context())
		if err != nil {
			t.Fatalf("connect: %v", err)
		}
		err = c.Send(t.Context(), &send.Message{From: "community@altea.example", To: to, Subject: r.Subject, Text: r.Text, HTML: r.HTML})
		pool.Put(c)
		if err != nil {
			t.Fatalf("send %s: %v", tc.locale, err)
		}
		want[to] = tc.want
	}

	got := map[string]string{}
	for _, msg := range srv.Messages() {
		m, err := mail.ReadMessage(strings.NewReader(string(msg.Data)))
		if err != nil {
			t.Fatalf("captured message: %v", err)
		}
		subject, err := new(mime.WordDecoder).DecodeHeader(m.Header.Get("Subject"))
		if err != nil {
			t.Fatalf("subject: %v", err)
		}
		got[strings.Join(msg.To, ",")] = subject
	}
	if len(got) != len(want) {
		t.Errorf("the server received %d messages, want %d (the accepted recipients)", len(got), len(want))
	}
	for to, start := range want {
		if !strings.HasPrefix(got[to], start) {
			t.Errorf("%s received subject %q, want it to start %q", to, got[to], start)
		}
	}
}
