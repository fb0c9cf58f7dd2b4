package testsend_test

import (
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/tidings-mail/tidings/internal/bundle"
	"github.com/tidings-mail/tidings/internal/demo"
	"github.com/tidings-mail/tidings/internal/freeport"
	"github.com/tidings-mail/tidings/internal/send"
	"github.com/tidings-mail/tidings/internal/smtpcapture"
	"github.com/tidings-mail/tidings/internal/testsend"
)

func sample(t *testing.T) *bundle.Bundle {
	t.Helper()
	b, err := demo.Load(filepath.Join(t.TempDir(), "demo"))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestRun: one message per covered language of the demo to the QA inbox,
// the subject prefixed with the language; pt (incomplete) skipped with
// what it lacks.
func TestRun(t *testing.T) {
	t.Parallel()
	srv, err := smtpcapture.Start(t.Context(), smtpcapture.Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	res, err := testsend.Run(t.Context(), testsend.Config{Bundle: sample(t), To: "qa@example.org",
		SMTP: send.Config{Host: srv.Host(), Port: srv.Port(), TLS: send.TLSNone}})
	if err != nil {
		t.Fatal(err)
	}
	if res.Count[testsend.Sent] != 9 || res.Count[testsend.Skipped] != 1 || res.Count[testsend.Failed] != 0 || srv.Count() != 9 {
		t.Fatalf("counts %v, %d captured; want 9 sent, pt skipped", res.Count, srv.Count())
	}
	for _, l := range res.Languages {
		switch {
		case l.Lang == "pt" && (l.Outcome != testsend.Skipped || !strings.Contains(strings.Join(l.Missing, ","), "welcome.reregister")):
			t.Errorf("pt: %+v", l)
		case l.Lang != "pt" && !strings.HasPrefix(l.Subject, "[TEST "+l.Lang+"] "):
			t.Errorf("%s: subject %q", l.Lang, l.Subject)
		}
	}
	for _, m := range srv.Messages() {
		if len(m.To) != 1 || m.To[0] != "qa@example.org" {
			t.Errorf("a test message went to %v", m.To)
		}
	}
}

// TestRunWarnsOfLiteralProse: QA test-sends a template with literal prose:
// the messages go (QA is to see them), and the result names the text, its
// file and line, and says that every language got it untranslated.
func TestRunWarnsOfLiteralProse(t *testing.T) {
	t.Parallel()
	b := sample(t)
	c := b.Campaign
	text := filepath.Join(c.Path(c.TemplatesDir), c.Template, "text.tmpl")
	src, err := os.ReadFile(text)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(text, append(src, "Your password has been reset\n"...), 0o644); err != nil {
		t.Fatal(err)
	}
	if b, err = bundle.Load(b.File); err != nil {
		t.Fatal(err)
	}
	srv, err := smtpcapture.Start(t.Context(), smtpcapture.Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	res, err := testsend.Run(t.Context(), testsend.Config{Bundle: b, To: "qa@example.org",
		SMTP: send.Config{Host: srv.Host(), Port: srv.Port(), TLS: send.TLSNone}})
	if err != nil {
		t.Fatal(err)
	}
	if res.Count[testsend.Sent] != 9 || srv.Count() != 9 {
		t.Errorf("counts %v, %d captured: the test messages still go", res.Count, srv.Count())
	}
	var out strings.Builder
	res.WriteText(&out)
	want := fmt.Sprintf("%s:%d: literal text %q", text, 1+strings.Count(string(src), "\n"), "Your password has been reset")
	if len(res.Prose) != 1 || !strings.Contains(out.String(), "warning: the template has 1 text(s) outside message keys: every language above received them untranslated") ||
		!strings.Contains(out.String(), want) {
		t.Errorf("prose %+v, output:\n%s\nwant a warning naming %s", res.Prose, out.String(), want)
	}
}

func TestRunSMTPDown(t *testing.T) {
	t.Parallel()
	_, p, _ := net.SplitHostPort(freeport.Closed(t))
	port, _ := strconv.Atoi(p)
	_, err := testsend.Run(t.Context(), testsend.Config{Bundle: sample(t), To: "qa@example.org",
		SMTP: send.Config{Host: "127.0.0.1", Port: port, TLS: send.TLSNone}})
	var ce *testsend.ConnectError
	if !errors.As(err, &ce) || ce.Server != fmt.Sprintf("127.0.0.1:%d", port) {
		t.Errorf("err = %v, want a *ConnectError naming the server", err)
	}
}

func TestWriteText(t *testing.T) {
	t.Parallel()
	r := &testsend.Result{Languages: []testsend.Language{
		{Lang: "de", Outcome: testsend.Sent, Subject: "[TEST de] Hallo"},
		{Lang: "pt", Outcome: testsend.Skipped, Missing: []string{"title", "body"}},
		{Lang: "pl", Outcome: testsend.Skipped, Missing: []string{"title"}, Needed: 2},
		{Lang: "ja", Outcome: testsend.Failed, Err: errors.New("550 no")},
		{Lang: "fr", Outcome: testsend.Unshown, Err: errors.New("no column plan")},
	}, Refused: []testsend.Refused{{Reason: "not-covered: no catalog for nl", Locale: "nl", Count: 3}, {Reason: "not-covered: no catalog for da", Locale: "da", Count: 1}}}
	var b strings.Builder
	r.WriteText(&b)
	want := "sent  de     [TEST de] Hallo\n" +
		"skip  pt     incomplete: lacks title, body (no recipient needs it)\n" +
		"skip  pl     incomplete: lacks title (2 recipient(s) need it: they are refused)\n" +
		"FAIL  ja     550 no\n" +
		"none  fr     nothing to show: the campaign has no recipient of this language, and the sample data cannot render its message: no column plan\n" +
		// As preview says it: one locale as an example of the reason,
		// never "and others like it" of a lone recipient.
		"REFUSED 3 recipient(s): not-covered: no catalog for nl (e.g. locale \"nl\"); they will not be sent anything\n" +
		"REFUSED 1 recipient(s): not-covered: no catalog for da (locale \"da\"); they will not be sent anything\n"
	if b.String() != want {
		t.Errorf("got\n%s\nwant\n%s", b.String(), want)
	}
}

// TestUntested: test-send's exit follows preview's: a failed language, a
// skipped language some recipient needs and a refused locale count; a
// skipped or unshown language nobody needs does not. Advice points to
// check for the catalogs' problems, to the FAIL lines and doctor for a
// failed language, never to the catalogs for a failure alone.
func TestUntested(t *testing.T) {
	t.Parallel()
	const check, fails = "tidings check c.yaml", "the FAIL lines above say why each language failed"
	tests := []struct {
		name         string
		res          testsend.Result
		want, advice string
	}{
		{"all sent", testsend.Result{Languages: []testsend.Language{{Lang: "de", Outcome: testsend.Sent}}}, "", ""},
		{"skipped, nobody needs it", testsend.Result{Languages: []testsend.Language{{Lang: "pt", Outcome: testsend.Skipped}}}, "", ""},
		{"nothing to show", testsend.Result{Languages: []testsend.Language{{Lang: "fr", Outcome: testsend.Unshown}}}, "", ""},
		{"skipped, needed", testsend.Result{Languages: []testsend.Language{{Lang: "pt", Outcome: testsend.Skipped, Needed: 1}}},
			"1 language(s) that recipients need skipped as incomplete", check},
		{"failed", testsend.Result{Languages: []testsend.Language{{Lang: "ja", Outcome: testsend.Failed}}}, "1 failed", fails},
		// No catalog of nl: check reads the catalogs there are, and says
		// nothing of one missing; the advice names the file to add.
		{"refused locale, no catalog", testsend.Result{Refused: []testsend.Refused{{Reason: "no catalog for nl", Locale: "nl", Count: 2, Catalog: "locales/nl.toml"},
			{Reason: "no catalog for nl-BE", Locale: "nl-BE", Count: 1, Catalog: "locales/nl.toml"}}},
			"3 recipient(s) refused: their locale has no catalog",
			"no catalog of nl exists: add locales/nl.toml with every message the template uses (or map the locale under locale_policy.aliases), then run test-send again"},
		{"refused locale, unparsable", testsend.Result{Refused: []testsend.Refused{{Reason: "unparsable: ...", Locale: "??", Count: 1}}},
			"1 recipient(s) refused: their locale has no catalog", "the REFUSED lines above say what to do about their locales"},
		{"failed and skipped", testsend.Result{Languages: []testsend.Language{{Lang: "ja", Outcome: testsend.Failed}, {Lang: "pt", Outcome: testsend.Skipped, Needed: 1}}},
			"1 language(s) that recipients need skipped as incomplete; 1 failed", check + "; " + fails},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := strings.Join(tt.res.Untested(), "; "); got != tt.want {
				t.Errorf("Untested() = %q, want %q", got, tt.want)
			}
			if got := tt.res.Advice("c.yaml", "staging"); !strings.Contains(got, tt.advice) || (tt.advice == "") != (got == "") {
				t.Errorf("Advice() = %q, want it to say %q", got, tt.advice)
			}
			if got := tt.res.Advice("c.yaml", "staging"); tt.advice == fails && strings.Contains(got, "check") {
				t.Errorf("Advice() of a failure alone = %q: points to the catalogs", got)
			}
		})
	}
}
