package console_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/tidings-mail/tidings/internal/bundle"
	"github.com/tidings-mail/tidings/internal/console"
	"github.com/tidings-mail/tidings/internal/console/consoletest"
)

// TestEmailOpenedAloneIsSandboxed: an email's HTML is the campaign's, not
// the console's; a hostile template (a campaign file may name any
// templates_dir) must not act on the console's origin. In its frame the
// frame's sandbox holds it; opened alone (a QA person opens the frame in a
// new tab, or follows a link to …/gallery/de/html) its response's policy
// must hold it the same: before, a <meta http-equiv="refresh"> in the
// template sent the console's own URL to any site (an open redirect from
// the console to a page asking for the token).
func TestEmailOpenedAloneIsSandboxed(t *testing.T) {
	t.Parallel()
	var hits atomic.Int32
	elsewhere := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		_, _ = w.Write([]byte("<html><body>Your session expired: paste your token</body></html>"))
	}))
	t.Cleanup(elsewhere.Close)

	w := consoletest.New(t, nil)
	file := w.WriteCampaign(t, consoletest.Spec{Name: "hostile", N: 2})
	tmpl := filepath.Join(filepath.Dir(file), "templates")
	src := filepath.Join(consoletest.RepoRoot(t), "templates", "welcome")
	for _, f := range []string{"subject.tmpl", "text.tmpl", "html.tmpl"} {
		b, err := os.ReadFile(filepath.Join(src, f))
		if err != nil {
			t.Fatal(err)
		}
		if f == "html.tmpl" {
			b = []byte(strings.Replace(string(b), "<head>", `<head><meta http-equiv="refresh" content="0;url=`+elsewhere.URL+`/phish">`, 1))
		}
		if err := os.MkdirAll(filepath.Join(tmpl, "welcome"), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(tmpl, "welcome", f), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	y, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	y = []byte(strings.Replace(string(y), "templates_dir: "+filepath.Join(consoletest.RepoRoot(t), "templates"), "templates_dir: "+tmpl, 1))
	if err := os.WriteFile(file, y, 0o644); err != nil {
		t.Fatal(err)
	}
	b, err := bundle.Load(file)
	if err != nil {
		t.Fatal(err)
	}
	s := newSiteWith(t, w, func(c *console.Config) {
		c.Store = nil
		c.File = &console.CampaignFile{Campaign: b.Campaign, Engine: b.Engine, Recipients: b.Recipients, Path: file}
	})

	qa := s.signIn(t, viewerToken)
	code, body, h := qa.get("/file/gallery/de/html")
	if code != http.StatusOK || !strings.Contains(body, `http-equiv="refresh"`) {
		t.Fatalf("the hostile email: %d, want it served as the template wrote it\n%s", code, body)
	}
	csp := h.Get("Content-Security-Policy")
	if !strings.Contains(csp, "sandbox allow-same-origin;") || strings.Contains(csp, "allow-scripts") || strings.Contains(csp, "allow-top-navigation") {
		t.Errorf("the email's policy %q: want sandbox allow-same-origin (no script, no navigation of the console), whether framed or not", csp)
	}

	ctx := browser(t)
	browserSignIn(t, ctx, s.URL, viewerToken)
	// The gallery: the email in its frame, sized by the console's script
	// (it reads the frame's document: the policy's sandbox keeps it the
	// console's origin).
	do(t, ctx, "open the gallery", chromedp.Navigate(s.URL+"/file/gallery"), chromedp.WaitReady(`iframe.mail`))
	poll(t, ctx, "the frames fitted to their emails", `document.querySelectorAll('iframe.mail[data-fitted]').length === document.querySelectorAll('iframe.mail').length`, 30*time.Second)
	// The email alone, as a tab shows it. Its refresh is due at once: the
	// browser either follows it or says on the console that the sandbox
	// refused it. That word is what the test waits for (a redirect that
	// the sandbox stops never comes).
	mctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	messages := chromedp.Console(mctx)
	do(t, ctx, "open the email alone", chromedp.Navigate(s.URL+"/file/gallery/de/html"), chromedp.WaitReady(`body`))
	var seen []string
	for m, err := range messages {
		if err != nil {
			t.Fatalf("the browser never said it refused the email's refresh (%v); its console said:\n%s", err, strings.Join(seen, "\n"))
		}
		t.Logf("console: %s", m)
		seen = append(seen, m.String())
		if strings.Contains(m.Text, "refresh") && strings.Contains(m.Text, "sandboxed") {
			break
		}
	}
	cancel()
	if loc := eval[string](t, ctx, `location.href`); !strings.HasPrefix(loc, s.URL+"/file/gallery/de/html") || hits.Load() != 0 {
		t.Errorf("the email opened alone went to %s (%d requests to the other site): its refresh is not stopped", loc, hits.Load())
	}
}
