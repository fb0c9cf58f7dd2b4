package console_test

import (
	"html"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/tidings-mail/tidings/internal/console/consoletest"
)

// TestFileGalleryNamesARefusedLocale: QA signs off a campaign
// file before `send` with `tidings console --campaign FILE` (or `tidings
// preview FILE --serve`, which serves the same gallery). A third of its
// recipients have locale nl, for which there is no catalog: they will be
// refused and sent nothing. The gallery must say so.
//
// The promise (README, "QA: sign off every language"): "An incomplete or
// refused language is a red card with the reason"; PRODUCT.md: QA "must see
// every locale's rendering before anything is sent"; `tidings preview`'s
// own index.html says "REFUSED: 3 recipient(s) with locale "nl" ... They
// will not be sent anything." (checked below).
//
// Was (red team 14A): the gallery of the campaign file shows the nine catalog
// languages, all green, and names nl nowhere: no card, no banner. QA signs
// off believing every recipient gets a message; a third of them get
// nothing. (The staged gallery has a banner; the file gallery, the one QA
// signs off before send, has none.)
//
// Cause: the plan's refused rows (judgeFile's sum.Rejects) were used for
// a look-up, never for the page. Now judgeFile counts them by why
// (store.CountRefusal, as staging does) and the banner of the file
// gallery says how many and why, by locale.
func TestFileGalleryNamesARefusedLocale(t *testing.T) {
	t.Parallel()
	w := consoletest.New(t, nil)
	file := w.WriteCampaign(t, consoletest.Spec{Name: "qa-file", N: 9, Locales: []string{"en", "de", "nl"}})

	// tidings preview flags the refused locale.
	out := filepath.Join(t.TempDir(), "preview")
	if o, code := w.CLI(t, "preview", file, "--out", out); code != 0 && code != 1 {
		t.Fatalf("preview: exit %d\n%s", code, o)
	}
	index, err := os.ReadFile(filepath.Join(out, "index.html"))
	if err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`REFUSED: 3 recipient\(s\) with locale .nl.`).Match([]byte(html.UnescapeString(string(index)))) {
		t.Fatalf("setup: tidings preview's index.html does not flag the 3 nl recipients:\n%s", index)
	}

	v := newFileSite(t, w, file)
	code, body, _ := v.get("/file/gallery")
	if code != http.StatusOK {
		t.Fatalf("gallery: %d\n%s", code, body)
	}
	text := html.UnescapeString(regexp.MustCompile(`<[^>]*>`).ReplaceAllString(body, " "))
	if !regexp.MustCompile(`\bnl\b`).MatchString(text) {
		t.Errorf("the gallery of the campaign file names the refused locale nl nowhere (3 of its 9 recipients are sent nothing; tidings preview says REFUSED):\n%s", text)
	}
	// A red banner with the count and the reason, as preview's.
	banner := regexp.MustCompile(`(?s)<div class="banner bad">(.*?)</div>`).FindStringSubmatch(body)
	if banner == nil {
		t.Fatalf("the gallery of the campaign file has no red banner for the 3 refused recipients:\n%s", body)
	}
	why := html.UnescapeString(regexp.MustCompile(`<[^>]*>`).ReplaceAllString(banner[1], " "))
	if !strings.Contains(why, "3 recipient(s) of the recipients file are refused") || !regexp.MustCompile(`3 with locale "nl": not-covered: `).MatchString(why) {
		t.Errorf("the banner does not count the 3 nl recipients with their reason: %q", why)
	}
}
