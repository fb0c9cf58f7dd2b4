package console_test

import (
	"html"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tidings-mail/tidings/internal/bundle"
	"github.com/tidings-mail/tidings/internal/console"
	"github.com/tidings-mail/tidings/internal/console/consoletest"
	"github.com/tidings-mail/tidings/internal/environment"
)

// TestFileGalleryShowsTheCatalogOnDisk: QA runs `tidings console
// --campaign FILE` (README, "QA: sign off every language") and keeps it
// open while a translator fixes the German subject in locales/de.toml.
// QA reloads the gallery to sign the fix off.
//
// Promised (README): "The console's gallery shows one card per catalog
// language, rendered when you open it, exactly as a worker composes the
// message"; the page itself names its source as "the campaign file ...
// and the templates and catalogs on disk (not staged)"; and `send` stages
// the files on disk as they are then.
//
// What happens instead: the gallery keeps rendering the catalogs as they
// were when the console started: the German card still shows the old
// subject after the file changed, so QA signs off (or rejects) text that
// is no longer on disk, and `send` then mails the new text nobody saw in
// the gallery. Cause (guess): internal/cli/console.go loads the bundle
// (render engine) once at start and console.fileSource
// (internal/console/gallery.go) renders from that engine for every
// request; nothing notices the files changed.
func TestFileGalleryShowsTheCatalogOnDisk(t *testing.T) {
	t.Parallel()
	w := consoletest.New(t, nil)
	file := w.WriteCampaign(t, consoletest.Spec{Name: "qa-file", N: 9, Incomplt: true}) // its own copy of the catalogs
	v, _ := fileGalleryViewer(t, w, file)
	const before = "Bitte registrieren Sie sich neu: die Altea-Community ist umgezogen"
	const after = "Bitte neu registrieren: die Altea-Community ist umgezogen"
	code, body, _ := v.get("/file/gallery")
	if code != http.StatusOK || !strings.Contains(html.UnescapeString(body), before) {
		t.Fatalf("gallery before the fix: %d, lacks the German subject %q", code, before)
	}
	de := filepath.Join(filepath.Dir(file), "locales", "de.toml")
	src, err := os.ReadFile(de)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(src), before) {
		t.Fatalf("%s lacks %q", de, before)
	}
	if err := os.WriteFile(de, []byte(strings.Replace(string(src), before, after, 1)), 0o600); err != nil {
		t.Fatal(err)
	}
	code, body, _ = v.get("/file/gallery")
	body = html.UnescapeString(body)
	if code != http.StatusOK || !strings.Contains(body, after) || strings.Contains(body, before) {
		t.Errorf("gallery reloaded after %s changed: %d; shows the new subject %q: %v; still shows the old one %q: %v",
			de, code, after, strings.Contains(body, after), before, strings.Contains(body, before))
	}
}

// TestFileGalleryNamesWhatItRendered: the gallery of a campaign file says
// when it read the files and their content hash (the hash send stores),
// so that QA's sign-off names the content; a catalog broken mid-edit is
// shown as the error, with its file and line, never as the cards of what
// the file held before; a frame or .eml link of a page rendered before a
// change is refused rather than showing the new content under the old
// page's headers.
func TestFileGalleryNamesWhatItRendered(t *testing.T) {
	t.Parallel()
	w := consoletest.New(t, nil)
	file := w.WriteCampaign(t, consoletest.Spec{Name: "qa-sum", N: 9, Incomplt: true})
	b, err := bundle.Load(file)
	if err != nil {
		t.Fatal(err)
	}
	var now atomic.Int64 // the console's clock, in Unix seconds
	now.Store(time.Date(2030, 3, 4, 5, 6, 7, 0, time.UTC).Unix())
	clock := func() time.Time { return time.Unix(now.Load(), 0).UTC() }
	srv, err := console.New(console.Config{Users: users(t), Compose: compose, Clock: clock,
		File: &console.CampaignFile{Campaign: b.Campaign, Engine: b.Engine, Recipients: b.Recipients, Path: file}})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv)
	t.Cleanup(ts.Close)
	v := (&site{Server: ts, w: w}).signIn(t, viewerToken)
	de := filepath.Join(filepath.Dir(file), "locales", "de.toml")
	src, err := os.ReadFile(de)
	if err != nil {
		t.Fatal(err)
	}
	write := func(s string) {
		t.Helper()
		if err := os.WriteFile(de, []byte(s), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	frame := regexp.MustCompile(`src="(/file/gallery/de/html\?[^"]+)"`)
	page := func(when string, wantCode int, wants ...string) string {
		t.Helper()
		code, body, _ := v.get("/file/gallery")
		body = html.UnescapeString(body)
		if code != wantCode {
			t.Errorf("%s: %d, want %d\n%s", when, code, wantCode, body)
		}
		for _, want := range wants {
			if !strings.Contains(body, want) {
				t.Errorf("%s: the page lacks %q", when, want)
			}
		}
		if m := frame.FindStringSubmatch(body); m != nil {
			return m[1]
		}
		return ""
	}
	short := func(h string) string { return "content hash <code>" + h[:12] + "</code>" }
	old := page("as started", http.StatusOK, "as read at 2030-03-04 05:06:07 UTC", short(b.Engine.Hash()))
	if old == "" {
		t.Fatal("the page has no frame of the German message")
	}

	now.Add(60)
	write(strings.Replace(string(src), "Bitte registrieren Sie sich neu", "Bitte neu registrieren", 1))
	again, err := bundle.Load(file)
	if err != nil {
		t.Fatal(err)
	}
	if again.Engine.Hash() == b.Engine.Hash() {
		t.Fatal("the edit left the content hash as it was")
	}
	page("after the edit", http.StatusOK, "as read at 2030-03-04 05:07:07 UTC", short(again.Engine.Hash()))
	if code, body, _ := v.get(old); code != http.StatusConflict || !strings.Contains(body, "reload the gallery") {
		t.Errorf("the frame of the page before the edit: %d, want %d and 'reload the gallery'\n%s", code, http.StatusConflict, body)
	}

	write(string(src) + "\n[broken\n")
	body := page("broken mid-edit", http.StatusUnprocessableEntity, "catalog syntax error")
	_, broken, _ := v.get("/file/gallery")
	if where := regexp.MustCompile(regexp.QuoteMeta(de) + `:[0-9]+: `); !where.MatchString(broken) {
		t.Errorf("broken mid-edit: the page does not name %s and the line", de)
	}
	if body != "" {
		t.Errorf("broken mid-edit: the page still shows a card (%s)", body)
	}
	if code, _, _ := v.get(old); code == http.StatusOK {
		t.Errorf("broken mid-edit: a frame is served")
	}

	write(string(src))
	page("fixed", http.StatusOK, short(b.Engine.Hash()))
}

// TestFileGalleryKeepsTheEnvironmentsSettings: the campaign file read
// again after a change takes the settings it leaves to the environment
// (list_unsubscribe) as it did at start: the headers shown stay the ones
// send sends.
func TestFileGalleryKeepsTheEnvironmentsSettings(t *testing.T) {
	t.Parallel()
	w := consoletest.New(t, nil)
	file := w.WriteCampaign(t, consoletest.Spec{Name: "qa-env", N: 9, Incomplt: true})
	env := &environment.Environment{Name: consoletest.EnvName, ListUnsubscribe: "https://altea.example/leave?id={id}"}
	b, err := bundle.Load(file)
	if err != nil {
		t.Fatal(err)
	}
	b.UseEnv(env)
	srv, err := console.New(console.Config{Users: users(t), Compose: compose,
		File: &console.CampaignFile{Campaign: b.Campaign, Engine: b.Engine, Recipients: b.Recipients, Path: file, Env: env}})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv)
	t.Cleanup(ts.Close)
	v := (&site{Server: ts, w: w}).signIn(t, viewerToken)
	const want = "https://altea.example/leave?id="
	for _, when := range []string{"as started", "after an edit"} {
		if when == "after an edit" {
			de := filepath.Join(filepath.Dir(file), "locales", "de.toml")
			src, err := os.ReadFile(de)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(de, append(src, "\n# reviewed\n"...), 0o600); err != nil {
				t.Fatal(err)
			}
		}
		code, body, _ := v.get("/file/gallery")
		if code != http.StatusOK || !strings.Contains(html.UnescapeString(body), want) {
			t.Errorf("%s: %d, the page lacks the environment's List-Unsubscribe %q", when, code, want)
		}
	}
}
