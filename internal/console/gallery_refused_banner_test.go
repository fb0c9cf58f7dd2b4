package console_test

import (
	"net/http"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/tidings-mail/tidings/internal/console/consoletest"
)

// TestRefusedBannerSaysWhyTheyWereRefused: in an environment
// with an allowlist, a staged campaign whose every catalog is complete has
// two recipients refused at staging because they are not on the
// allowlist (not-allowed-in-test). The gallery's red banner counts them;
// it must not tell QA that their locale has no complete catalog.
//
// The promise (docs/console.md, "QA: sign off every language"): "On a
// staged campaign a red banner also counts the recipients refused at
// staging and links to them"; README, Environments: recipients outside an
// allowlist are refused (`not-allowed-in-<env>`), a reason of their own.
// House rule: an error says what is wrong and what to do.
//
// Was (red team 14A): the banner reads "2 recipient(s) were refused when the
// campaign was staged: their locale has no complete catalog, so they are
// sent nothing" while every language card is green: QA is sent hunting for
// a catalog problem that does not exist (the real reason, the allowlist,
// is named nowhere on the page).
//
// Cause: templates/gallery.html worded every refusal as a catalog one;
// only the count was known. Now staging counts the refused rows by why
// (store.Meta.Refusals) and the banner lists them.
func TestRefusedBannerSaysWhyTheyWereRefused(t *testing.T) {
	t.Parallel()
	w := consoletest.New(t, nil)
	cfg, err := os.ReadFile(w.Config)
	if err != nil {
		t.Fatal(err)
	}
	allow := "    allow: [\"" + consoletest.Email(0, "en") + "\", \"" + consoletest.Email(1, "de") + "\"]\n"
	if err := os.WriteFile(w.Config, append(cfg, allow...), 0o644); err != nil {
		t.Fatal(err)
	}
	w.Stage(t, consoletest.Spec{Name: "allowed", N: 4, Locales: []string{"en", "de"}})
	s := newSite(t, w, false)
	v := s.signIn(t, viewerToken)

	// Setup: the two refused rows are refused for the allowlist.
	_, rows, _ := v.get("/c/allowed/recipients?outcome=refused")
	if n := strings.Count(rows, "<code>not-allowed-in-test</code>"); n != 2 {
		t.Fatalf("setup: want 2 recipients refused as not-allowed-in-test, got %d:\n%s", n, rows)
	}

	code, body, _ := v.get("/c/allowed/gallery")
	if code != http.StatusOK {
		t.Fatalf("gallery: %d\n%s", code, body)
	}
	if strings.Contains(body, "NOT SENT") {
		t.Fatalf("setup: a language card is red, want every catalog complete:\n%s", body)
	}
	banner := regexp.MustCompile(`(?s)<div class="banner bad">(.*?)</div>`).FindStringSubmatch(body)
	if banner == nil {
		t.Fatalf("the gallery has no banner for the 2 refused recipients:\n%s", body)
	}
	if strings.Contains(banner[1], "no complete catalog") {
		t.Errorf("the banner blames the catalogs for recipients refused by the allowlist (every catalog is complete): %q", banner[1])
	}
	if !strings.Contains(banner[1], "not-allowed-in-test") && !strings.Contains(strings.ToLower(banner[1]), "allowlist") {
		t.Errorf("the banner does not say why the 2 recipients were refused (not on the allowlist of test): %q", banner[1])
	}
}
