package console_test

import (
	"html"
	"net/http"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/tidings-mail/tidings/internal/console/consoletest"
	"github.com/tidings-mail/tidings/internal/fixture"
)

// TestFileGalleryShowsALanguageWithItsFirstAcceptedRow: the console's gallery of a
// campaign file whose first German recipient row cannot be rendered (posts
// is "lots", not a number: plan counts it invalid, render-error) while the
// second German recipient, lena, is accepted and sent the German message.
// The German catalog is complete.
//
// The README (QA): "The console's gallery shows one card per catalog
// language ... An incomplete or refused language is a red card with the
// reason: NOT SENT — incomplete: pt lacks welcome.reregister".
//
// Found by red team 10: German was a red NOT SENT card with that one row's
// render error, and no German message was shown: QA signed off (or not)
// without seeing what lena gets, and was told German is not sent.
// Server.cards picked the first row of each language the reader accepts,
// not the first the plan accepts.
func TestFileGalleryShowsALanguageWithItsFirstAcceptedRow(t *testing.T) {
	t.Parallel()
	w := consoletest.New(t, nil)
	file := w.WriteCampaign(t, consoletest.Spec{Name: "qa-badrow", N: 9, Incomplt: true})
	fixture.Write(t, filepath.Join(filepath.Dir(file), "recipients.csv"), "email,name,locale,posts\n"+
		"eve@altea.example,Eve,en,1\n"+
		"jonas@altea.example,Jonas,de,lots\n"+
		"lena@altea.example,Lena,de,3\n")
	v, _ := fileGalleryViewer(t, w, file)
	code, body, _ := v.get("/file/gallery")
	body = html.UnescapeString(body)
	if code != http.StatusOK {
		t.Fatalf("gallery: %d\n%s", code, body)
	}
	if m := regexp.MustCompile(`<span class="lang">de</span><span class="badge-bad">NOT SENT</span>`).FindString(body); m != "" {
		i := strings.Index(body, m)
		t.Errorf("German, a complete catalog whose recipient lena is sent, is a red NOT SENT card: %s", body[i:min(len(body), i+400)])
	}
	if !strings.Contains(body, "Bitte registrieren Sie sich neu") {
		t.Errorf("the gallery shows no German message")
	}
	if !strings.Contains(body, "lena@altea.example (line 4") || !strings.Contains(body, "1 row(s) of de are invalid and not sent; the first, line 3 (jonas@altea.example)") {
		t.Errorf("the German card is not lena's, or does not say that jonas's row (line 3) is invalid")
	}

	// No German row renders: German is a red card naming the first row.
	fixture.Write(t, filepath.Join(filepath.Dir(file), "recipients.csv"), "email,name,locale,posts\n"+
		"eve@altea.example,Eve,en,1\n"+
		"jonas@altea.example,Jonas,de,lots\n"+
		"lena@altea.example,Lena,de,many\n")
	code, body, _ = v.get("/file/gallery")
	body = html.UnescapeString(body)
	want := `<span class="lang">de</span><span class="badge-bad">NOT SENT</span></h3>
<div class="banner bad">invalid: none of the 2 row(s) of de can be rendered, so none is sent; the first, line 3 (jonas@altea.example)`
	if code != http.StatusOK || !strings.Contains(body, want) {
		t.Errorf("gallery with no German row that renders: %d; want German a red card naming line 3\n%s", code, body)
	}
}
