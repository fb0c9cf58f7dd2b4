package testsend_test

import (
	"bytes"
	"mime"
	"net/mail"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/tidings-mail/tidings/internal/bundle"
	"github.com/tidings-mail/tidings/internal/fixture"
	"github.com/tidings-mail/tidings/internal/send"
	"github.com/tidings-mail/tidings/internal/smtpcapture"
	"github.com/tidings-mail/tidings/internal/testsend"
)

// TestRunSendsEachLanguageInItsOwnCatalog: QA's test messages of a
// campaign whose catalogs and locales a migration brings: a variant
// catalog beside its language's (de-x-formal.toml beside de.toml), a
// catalog named in a retired code (iw.toml, which is he), a script of
// its own (zh-Hant.toml), nb.toml, and recipients written EN-style
// (DE_x_FORMAL, NB), in a region (he-IL, de-CH, zh-TW, en-GB), empty
// (missing_locale: en), or refused (no, pt-BR, i-klingon, zh). Each
// covered language's message goes to the QA inbox in that catalog's
// words, says its language in the subject ("[TEST de-x-formal] ...")
// and Content-Language, and shows the first recipient of that language;
// no message stands for a refused locale, and each is reported refused.
func TestRunSendsEachLanguageInItsOwnCatalog(t *testing.T) {
	t.Parallel()
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	locales := filepath.Join(dir, "locales")
	catalog := func(from, to, subject, more string) {
		t.Helper()
		b, err := os.ReadFile(filepath.Join(root, "locales", from+".toml"))
		if err != nil {
			t.Fatal(err)
		}
		s := string(b)
		if subject != "" {
			re := regexp.MustCompile(`(?s)(\[welcome\.subject\][^\[]*?other = ")[^"]*"`)
			s = re.ReplaceAllString(s, `${1}`+subject+`"`)
		}
		fixture.Write(t, filepath.Join(locales, to+".toml"), strings.Replace(s, "[welcome.posts]\n", "[welcome.posts]\n"+more, 1))
	}
	catalog("en", "en", "", "")
	catalog("de", "de", "", "")
	catalog("de", "de-x-formal", "MARK de-x-formal", "")
	catalog("en", "iw", "MARK iw", "two = \"{{.Count}} posts (two)\"\n") // Hebrew needs the form two
	catalog("ja", "zh-Hant", "MARK zh-Hant", "")
	catalog("en", "nb", "MARK nb", "")
	fixture.Write(t, filepath.Join(dir, "campaign.yaml"), `name: qa-langs
environment: staging
template: welcome
templates_dir: `+filepath.Join(root, "templates")+`
locales_dir: locales
default_locale: en
recipients: recipients.csv
from: "Altea Community <community@altea.example>"
locale_policy:
  missing_locale: en
data:
  reregister_url: "https://altea.example/re-register"
`)
	fixture.Write(t, filepath.Join(dir, "recipients.csv"), `email,name,locale,posts
r1@example.org,R1,he-IL,2
r2@example.org,R2,de-CH,2
r3@example.org,R3,DE_x_FORMAL,2
r4@example.org,R4,zh-TW,2
r5@example.org,R5,NB,2
r6@example.org,R6,,2
r7@example.org,R7,no,2
r8@example.org,R8,pt-BR,2
r9@example.org,R9,i-klingon,2
r10@example.org,R10,zh,2
r11@example.org,R11,en-GB,2
r12@example.org,R12,de-x-formal,2
`)
	b, err := bundle.Load(filepath.Join(dir, "campaign.yaml"))
	if err != nil {
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

	en, de := subjectOf(t, filepath.Join(locales, "en.toml")), subjectOf(t, filepath.Join(locales, "de.toml"))
	want := map[string]struct{ name, subject string }{ // language -> the recipient shown, the catalog's subject
		"de":          {"R2", de},
		"de-x-formal": {"R3", "MARK de-x-formal"},
		"en":          {"R6", en},
		"he":          {"R1", "MARK iw"},
		"nb":          {"R5", "MARK nb"},
		"zh-Hant":     {"R4", "MARK zh-Hant"},
	}
	for _, l := range res.Languages {
		if l.Outcome != testsend.Sent || want[l.Lang].subject == "" {
			t.Errorf("%s: %s (%v), want sent, as one of %d languages", l.Lang, l.Outcome, l.Err, len(want))
		}
	}
	got := map[string]bool{}
	for _, m := range srv.Messages() {
		msg, err := mail.ReadMessage(bytes.NewReader(m.Data))
		if err != nil {
			t.Fatal(err)
		}
		subj, err := new(mime.WordDecoder).DecodeHeader(msg.Header.Get("Subject"))
		if err != nil {
			t.Fatal(err)
		}
		lang := msg.Header.Get("Content-Language")
		to, err := mail.ParseAddress(msg.Header.Get("To"))
		if err != nil {
			t.Fatal(err)
		}
		w, ok := want[lang]
		switch {
		case !ok || got[lang]:
			t.Errorf("a test message in %q (%q): want one in each of %d languages", lang, subj, len(want))
		case subj != "[TEST "+lang+"] "+w.subject:
			t.Errorf("%s: subject %q, want %q: the test message must be in its language's catalog and say which", lang, subj, "[TEST "+lang+"] "+w.subject)
		case to.Name != w.name || to.Address != "qa@example.org" || !slices.Equal(m.To, []string{"qa@example.org"}):
			t.Errorf("%s: To %v (envelope %v), want %s's message at qa@example.org", lang, to, m.To, w.name)
		}
		got[lang] = true
	}
	if len(got) != len(want) {
		t.Errorf("test messages in %v, want one in each of %d languages", got, len(want))
	}
	var refused []string
	for _, f := range res.Refused {
		refused = append(refused, f.Locale)
	}
	slices.Sort(refused)
	if !slices.Equal(refused, []string{"i-klingon", "no", "pt-BR", "zh"}) || len(res.Untested()) == 0 {
		t.Errorf("refused locales %v (untested: %v), want i-klingon, no, pt-BR and zh, which keep the test from standing for the campaign", refused, res.Untested())
	}
}

// subjectOf returns the welcome.subject of the catalog file.
func subjectOf(t *testing.T, file string) string {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?s)\[welcome\.subject\][^\[]*?other = "([^"]*)"`).FindSubmatch(b)
	if m == nil {
		t.Fatalf("%s has no welcome.subject", file)
	}
	return string(m[1])
}
