package console_test

import (
	"html"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tidings-mail/tidings/internal/console/consoletest"
	"github.com/tidings-mail/tidings/internal/store"
)

// TestGalleryAfterARestagingThatChangesTheDefinitionOnly: send
// --resume-existing stores a new definition; when the templates and
// catalogs are unchanged the content hash is too, but the gallery must
// show the definition now stored (its data, its locale policy), not the
// one it read before.
func TestGalleryAfterARestagingThatChangesTheDefinitionOnly(t *testing.T) {
	t.Parallel()
	w := consoletest.New(t, nil)
	const c = "restaged"
	file := w.Stage(t, consoletest.Spec{Name: c, N: 6, Locales: []string{"de", "gsw", ""},
		Extra: "locale_policy:\n  aliases: { gsw: de }\n"})
	s := newSite(t, w, false)
	v := s.signIn(t, viewerToken)
	gsw, empty := url.QueryEscape(consoletest.Email(1, "gsw")), url.QueryEscape(consoletest.Email(2, ""))
	page := func(when, path string, wants ...string) {
		t.Helper()
		code, body, _ := v.get(path)
		body = html.UnescapeString(body)
		if code != http.StatusOK {
			t.Fatalf("%s: %s: %d", when, path, code)
		}
		for _, want := range wants {
			if !strings.Contains(body, want) {
				t.Errorf("%s: %s lacks %q", when, path, want)
			}
		}
	}
	const oldURL, newURL = "https://altea.example/re-register?t=test", "https://altea.example/re-register?t=restaged"
	page("first staging", "/c/"+c+"/gallery", oldURL)
	page("first staging", "/c/"+c+"/gallery?r="+gsw, "The message to")
	page("first staging", "/c/"+c+"/gallery?r="+empty, "was not staged")

	if _, err := w.Store.Pause(t.Context(), c, store.Actor{Who: "t"}, "restage"); err != nil {
		t.Fatal(err)
	}
	y, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	def := strings.Replace(string(y), oldURL, newURL, 1)
	def = strings.Replace(def, "aliases: { gsw: de }", "aliases: { gsw: de }\n  missing_locale: de", 1)
	if err := os.WriteFile(file, []byte(def), 0o600); err != nil {
		t.Fatal(err)
	}
	if out, code := w.CLI(t, "send", file, "--env", consoletest.EnvName, "--resume-existing", "--skip-refused", "--skip-invalid",
		"--rejects", filepath.Join(w.Dir, c+".again.rejects.csv")); code != 0 {
		t.Fatalf("send --resume-existing: exit %d\n%s", code, out)
	}
	page("re-staged", "/c/"+c+"/gallery", newURL)
	page("re-staged", "/c/"+c+"/gallery?r="+empty, "The message to")
}
