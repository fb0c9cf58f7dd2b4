package console_test

import (
	"encoding/json"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/tidings-mail/tidings/internal/console/consoletest"
	"github.com/tidings-mail/tidings/internal/smtpcapture"
	"github.com/tidings-mail/tidings/internal/store"
)

// subjectLine is the subject's message in a catalog, without its
// closing quote.
var subjectLine = regexp.MustCompile(`(?s)(\[welcome\.subject\][^\[]*?\nother = "[^"\n]*)"`)

// TestHostileFieldsStayTextInEveryView: recipients' names (in the
// subject, the To field, the plain text and the HTML), an SMTP server's
// reply and a pause reason hold markup. In Chromium, no view (the list
// of campaigns, the campaign's page, the gallery with its email frames,
// a recipient's message, the recipients page) makes an element of them:
// each is shown as the text it is. The console's script policy would stop
// an inline script; this checks the escaping beneath it.
func TestHostileFieldsStayTextInEveryView(t *testing.T) {
	t.Parallel()
	const (
		img    = `<img src=x onerror="document.title='XSS'">`
		script = `<script>document.title='XSS'</script>`
		reply  = `<img src=x onerror="document.title='XSS'"> no such user`
		reason = `<img src=x onerror="document.title='XSS'"> bounces`
	)
	w := consoletest.New(t, func(rcpt string) error {
		if rcpt == consoletest.Email(0, "en") {
			return smtpcapture.Reject(550, "5.1.1 "+reply)
		}
		return nil
	})
	spec := consoletest.Spec{Name: "hostile", N: 4, Locales: []string{"en", "ar"}, Canary: 1, Approve: true,
		Names: []string{img, script}, As: map[string]string{"en": "en"}}
	file := w.WriteCampaign(t, spec)
	for _, l := range []string{"en", "ar"} { // the name in the subject too
		cat := filepath.Join(filepath.Dir(file), "locales", l+".toml")
		b, err := os.ReadFile(cat)
		if err != nil {
			t.Fatal(err)
		}
		changed := subjectLine.ReplaceAllString(string(b), `$1 {{.Name}}"`)
		if changed == string(b) {
			t.Fatalf("%s: no subject to change", cat)
		}
		if err := os.WriteFile(cat, []byte(changed), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if out, code := w.CLI(t, "send", file, "--env", consoletest.EnvName); code != 0 {
		t.Fatalf("tidings send: exit %d\n%s", code, out)
	}
	w.StartWorker(t)
	w.WaitState(t, "hostile", store.StateAwaitingApproval, time.Minute)
	if _, err := w.Store.Pause(t.Context(), "hostile", store.Actor{Who: "alice", Host: "laptop", Env: consoletest.EnvName}, reason); err != nil {
		t.Fatal(err)
	}
	s := newSite(t, w, false)
	ctx := browser(t)
	browserSignIn(t, ctx, s.URL, operatorToken)
	// Every element of the page and of its same-origin email frames made
	// of the hostile fields, the title, and the text shown.
	const probe = `(function () {
	  var docs = [document];
	  document.querySelectorAll('iframe').forEach(function (f) { if (f.contentDocument) docs.push(f.contentDocument); });
	  var bad = [];
	  docs.forEach(function (d) {
	    d.querySelectorAll('img[src="x"], script:not([src]), [onerror]').forEach(function (e) { bad.push(e.outerHTML); });
	  });
	  return JSON.stringify({bad: bad, title: document.title,
	    text: docs.map(function (d) { return d.body ? d.body.innerText : ''; }).join('\n')});
	})()`
	framesLoaded := `Array.prototype.every.call(document.querySelectorAll('iframe'), function (f) {
	  return f.contentDocument && f.contentDocument.readyState === 'complete' && f.contentDocument.body && f.contentDocument.body.innerText.length > 0; })`
	en := url.QueryEscape(consoletest.Email(0, "en"))
	for _, tc := range []struct {
		path string
		want []string // shown as text
	}{
		{"/", []string{"hostile"}},
		{"/c/hostile", []string{reply, reason}},
		{"/c/hostile/gallery", []string{"re-register for the new Altea community " + img, img, script}},
		{"/c/hostile/gallery?r=" + en, []string{"Hello " + img + ","}},
		{"/c/hostile/recipients", []string{reply}},
		{"/c/hostile/recipients?outcome=failed", []string{reply}},
	} {
		do(t, ctx, "open "+tc.path, chromedp.Navigate(s.URL+tc.path), chromedp.WaitReady(`body`))
		poll(t, ctx, "the email frames of "+tc.path, framesLoaded, 20*time.Second)
		var got struct {
			Bad         []string
			Title, Text string
		}
		if err := json.Unmarshal([]byte(eval[string](t, ctx, probe)), &got); err != nil {
			t.Fatal(err)
		}
		if len(got.Bad) > 0 || got.Title == "XSS" {
			t.Errorf("%s: hostile fields became elements %q (title %q)", tc.path, got.Bad, got.Title)
		}
		for _, want := range tc.want {
			if !strings.Contains(got.Text, want) {
				t.Errorf("%s does not show %q as text:\n%s", tc.path, want, got.Text)
			}
		}
	}
}
